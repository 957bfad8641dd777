//go:build freebsd || (linux && fbsdmodel)

package aio

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSyncOfFIFOWriterWaitsNotForReader: FreeBSD orders a sync after the
// requests of its own open file, and the reading and the writing open of a
// FIFO are two open files of one inode. A flush of the writing end comes
// back while a read of the reading end waits for data (a program that
// flushes before it writes what its reader waits for would otherwise wait
// for good); the read completes once the data is written, and the order
// keeps nothing.
func TestSyncOfFIFOWriterWaitsNotForReader(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		p := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		rd, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		wr, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer wr.Close()
		c := soContext(t, be)
		read, flush := NewRequest(), NewRequest()
		buf := make([]byte, 4)
		if err := read.PrepareRead(rd, 0, buf, "read of the reading end"); err != nil {
			t.Fatal(err)
		}
		if err := flush.PrepareFlush(wr, "flush of the writing end"); err != nil {
			t.Fatal(err)
		}
		soSubmit(t, c, read, flush)
		got := soWaitFor(t, c, 1, 10*time.Second)
		if len(got) != 1 || got[0] != flush {
			t.Fatalf("while the read waited for data, %v came back; want the flush of the writing end", h8Names(got))
		}
		if _, err := wr.Write([]byte("data")); err != nil {
			t.Fatal(err)
		}
		got = h8Gather(t, c, 1)
		if got[0] != read {
			t.Fatalf("%v came back, want the read", h8Names(got))
		}
		if n, err := read.Result(); n != 4 || err != nil || string(buf) != "data" {
			t.Errorf("read: %d, %v, %q", n, err, buf)
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

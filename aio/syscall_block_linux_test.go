//go:build linux && (amd64 || arm64)

package aio

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBlockingRW: blockingRW's pwrite and pread move the bytes asked for
// at the offset given, report a short read at the end of the file, and
// keep the kernel's errno.
func TestBlockingRW(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	want := []byte("0123456789abcdef")
	if n, errno := blockingRW(sysPwrite, fd, unsafe.Pointer(&want[0]), len(want), 100); n != len(want) || errno != 0 {
		t.Fatalf("pwrite = %d, %v; want %d, 0", n, errno, len(want))
	}
	got := make([]byte, 32)
	if n, errno := blockingRW(sysPread, fd, unsafe.Pointer(&got[0]), len(got), 100); n != len(want) || errno != 0 || !bytes.Equal(got[:n], want) {
		t.Fatalf("pread at 100 = %d, %v, %q; want %d, 0, %q", n, errno, got[:max(n, 0)], len(want), want)
	}
	if n, errno := blockingRW(sysPread, fd, unsafe.Pointer(&got[0]), len(got), -1); errno != syscall.EINVAL {
		t.Errorf("pread at -1 = %d, %v; want EINVAL", n, errno)
	}
	if n, errno := blockingRW(sysPread, -1, unsafe.Pointer(&got[0]), len(got), 0); errno != syscall.EBADF {
		t.Errorf("pread of descriptor -1 = %d, %v; want EBADF", n, errno)
	}
}

// TestBlockingRWWithOneP: with one P, goroutines blocked in blockingRW
// (reads of pipes in blocking mode, which wait until written) leave the P
// to the rest of the program, which writes the pipes that release them,
// and each gets its own byte. (That the P goes at once, not after the
// runtime's monitor sees the call, shows in BenchmarkRandRead4K's
// portable/direct rows, not in a test.)
func TestBlockingRWWithOneP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const readers = 8
	var fds [readers][2]int
	for i := range fds {
		if err := unix.Pipe2(fds[i][:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[i][0])
		defer unix.Close(fds[i][1])
	}
	var wg sync.WaitGroup
	got := make([][]byte, readers)
	for i := range readers {
		got[i] = make([]byte, 1)
		wg.Go(func() {
			for {
				// A pipe has no positions: read(2) it, as the engine's
				// streams are; pread of a pipe is ESPIPE.
				n, errno := blockingRW(unix.SYS_READ, fds[i][0], unsafe.Pointer(&got[i][0]), 1, 0)
				if errno == syscall.EINTR {
					continue
				}
				if n != 1 || errno != 0 {
					t.Errorf("reader %d: read = %d, %v", i, n, errno)
				}
				return
			}
		})
	}
	for i := range readers {
		runtime.Gosched()
		if _, err := unix.Write(fds[i][1], []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i := range readers {
		if got[i][0] != byte('a'+i) {
			t.Errorf("reader %d read %q, want %q", i, got[i], 'a'+i)
		}
	}
}

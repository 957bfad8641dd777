//go:build linux

package tests

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// TestPartialWriteReportsCount: a write that moves some bytes before it
// fails reports those bytes and no error, on every backend, as pwrite
// does; the next write reports the error. The file size limit
// (RLIMIT_FSIZE) stops the write, in a child process so that the limit
// touches nothing else.
func TestPartialWriteReportsCount(t *testing.T) {
	runWithFileSizeLimit(t, "TestPartialWriteChild", 1<<20)
}

func TestPartialWriteChild(t *testing.T) {
	if !inFileSizeChild() {
		t.Skip("run by TestPartialWriteReportsCount in a child process")
	}
	applyFileSizeLimit()
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		for _, tc := range []struct {
			name  string
			off   int64
			bufs  [][]byte
			wantN int
			errno syscall.Errno
		}{
			{"write across the limit", 512 << 10, [][]byte{make([]byte, 1<<20)}, 512 << 10, 0},
			{"write at the limit", 1 << 20, [][]byte{make([]byte, 4096)}, 0, syscall.EFBIG},
			{"writev across the limit", 0, [][]byte{make([]byte, 256<<10), make([]byte, 1<<20), make([]byte, 4096)}, 1 << 20, 0},
		} {
			r := aio.NewRequest()
			if len(tc.bufs) == 1 {
				mustPrepare(t, r.PrepareWrite(f, tc.off, tc.bufs[0], nil))
			} else {
				mustPrepare(t, r.PrepareWritev(f, tc.off, tc.bufs, nil))
			}
			submitAll(t, c, r)
			waitN(t, c, 1)
			n, err := r.Result()
			if n != tc.wantN || tc.errno == 0 && err != nil || tc.errno != 0 && !errors.Is(err, tc.errno) {
				t.Errorf("%s: Result = %d, %v; want %d, %v", tc.name, n, err, tc.wantN, errOrNil(tc.errno))
			}
		}
		if st, err := f.Stat(); err != nil || st.Size() != 1<<20 {
			t.Errorf("file size %v, %v; want %d", st.Size(), err, 1<<20)
		}
		want := make([]byte, 1<<20)
		if got := readFile(t, f.Name()); !bytes.Equal(got, want) {
			t.Errorf("file content differs")
		}
	})
}

func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

//go:build unix

package tests

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// haveDescriptors: files are small-integer descriptors, and using one that
// is not open fails with EBADF.
const haveDescriptors = true

// closedDescriptor returns an *os.File for a descriptor number that is not
// open (the "fd 666" of aio_fsync_errors).
func closedDescriptor(t *testing.T) *os.File {
	t.Helper()
	for fd := 666; fd < 10000; fd++ {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); errors.Is(err, syscall.EBADF) {
			f := os.NewFile(uintptr(fd), "not-open")
			t.Cleanup(func() { f.Close() }) // fails with EBADF; keeps the finalizer from closing a reused number
			return f
		}
	}
	t.Fatal("no unused descriptor number found")
	return nil
}

// blockSize returns the file's preferred I/O size (st_blksize).
func blockSize(t *testing.T, f *os.File) int {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blksize > 0 {
		return int(int64(sys.Blksize))
	}
	return 4096
}

//go:build unix

package aio

import (
	"io"

	"golang.org/x/sys/unix"
)

// directWrite is WriteAt in the caller's goroutine: pwrite under the
// descriptor's hold (withFdBuf) until p is written, a pwrite fails or one
// writes nothing. The count includes every byte written, also when a later
// pwrite of the same call fails (ENOSPC, EFBIG), which (*os.File).WriteAt
// leaves out of its count.
func (f *File) directWrite(p []byte, off int64) (int, error) {
	n, err := f.withFdBuf(pwriteFull, p, off)
	switch {
	case err != nil:
		return n, f.pathErr("write", err)
	case n < len(p):
		return n, f.pathErr("write", io.ErrShortWrite)
	}
	return n, nil
}

// pwriteFull writes bufs[0] at off with pwrite until it is all written, a
// pwrite fails or one writes nothing, and returns the bytes written with
// the error that stopped it.
func pwriteFull(fd int, bufs [][]byte, off int64) (int, error) {
	p, done := bufs[0], 0
	for done < len(p) {
		n, err := retryEINTR(func() (int, error) { return unix.Pwrite(fd, p[done:], off+int64(done)) })
		done += n
		if err != nil || n == 0 {
			return done, err
		}
	}
	return done, nil
}

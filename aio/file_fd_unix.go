//go:build unix

package aio

import (
	"os"
	"syscall"
)

// withFd runs fn with the File's descriptor, held open through its RawConn
// while fn runs. If the *os.File was closed (behind the File's back), fn
// does not run and the error matches os.ErrClosed: the number, perhaps
// taken by another open since, is never reached.
func (f *File) withFd(fn func(fd uintptr)) error {
	if f.rc.Control(fn) != nil {
		return os.ErrClosed
	}
	return nil
}

func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

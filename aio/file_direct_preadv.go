//go:build darwin || linux || openbsd

package aio

import "golang.org/x/sys/unix"

// readvOnce and writevOnce are one preadv/pwritev on f's descriptor, held
// open meanwhile (withFd), retried on EINTR. They return the errno alone.
func readvOnce(f *File, bufs [][]byte, off int64) (n int, err error) {
	if herr := f.withFd(func(fd uintptr) {
		n, err = retryEINTR(func() (int, error) { return unix.Preadv(int(fd), bufs, off) })
	}); herr != nil {
		return 0, herr
	}
	return n, err
}

func writevOnce(f *File, bufs [][]byte, off int64) (n int, err error) {
	if herr := f.withFd(func(fd uintptr) {
		n, err = retryEINTR(func() (int, error) { return unix.Pwritev(int(fd), bufs, off) })
	}); herr != nil {
		return 0, herr
	}
	return n, err
}

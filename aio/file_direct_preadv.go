//go:build darwin || linux || openbsd

package aio

import "golang.org/x/sys/unix"

// readvOnce and writevOnce are one preadv/pwritev on f's descriptor, held
// open meanwhile (withFd), retried on EINTR. They return the errno alone.
func readvOnce(f *File, bufs [][]byte, off int64) (int, error) {
	return f.withFd(preadvFd, bufs, off)
}

func writevOnce(f *File, bufs [][]byte, off int64) (int, error) {
	return f.withFd(pwritevFd, bufs, off)
}

func preadvFd(fd int, bufs [][]byte, off int64) (int, error) {
	return retryEINTR(func() (int, error) { return unix.Preadv(fd, bufs, off) })
}

func pwritevFd(fd int, bufs [][]byte, off int64) (int, error) {
	return retryEINTR(func() (int, error) { return unix.Pwritev(fd, bufs, off) })
}

//go:build darwin || linux || openbsd

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// readvOnce and writevOnce are one preadv/pwritev on f's descriptor,
// retried on EINTR. They return the errno alone.
func readvOnce(f *File, bufs [][]byte, off int64) (int, error) {
	for {
		n, err := unix.Preadv(f.fd, bufs, off)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

func writevOnce(f *File, bufs [][]byte, off int64) (int, error) {
	for {
		n, err := unix.Pwritev(f.fd, bufs, off)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

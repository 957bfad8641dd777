//go:build darwin || linux || openbsd

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// streamReadv is one readv on a stream, streamWritev one writev: a
// message socket takes or gives one message for the whole vector, as a
// single buffer would. No buffer with bytes: nothing is done (a read of no
// bytes would take a datagram away).
func streamReadv(_ *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	if vecLen(bufs) == 0 {
		return 0, 0
	}
	for {
		n, err := unix.Readv(fd, bufs)
		if err != syscall.EINTR {
			return max(n, 0), errnoOf(err)
		}
	}
}

func streamWritev(_ *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	if len(bufs) == 0 {
		return 0, 0
	}
	for {
		n, err := unix.Writev(fd, bufs)
		if err != syscall.EINTR {
			return max(n, 0), errnoOf(err)
		}
	}
}

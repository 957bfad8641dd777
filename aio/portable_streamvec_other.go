//go:build !(darwin || linux || openbsd || freebsd || netbsd || dragonfly)

package aio

import "syscall"

// Without readv and writev, a vectored request on a stream reads into its
// first buffer with bytes, and writes buffer by buffer until one is short
// (on a message socket, a message each).

func streamReadv(r *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	for _, b := range bufs {
		if len(b) > 0 {
			return streamRead(r, fd, b)
		}
	}
	return 0, 0
}

func streamWritev(r *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		n, errno := streamWrite(r, fd, b)
		total += n
		if errno != 0 || n < len(b) {
			if total > 0 {
				return total, 0
			}
			return 0, errno
		}
	}
	return total, 0
}

//go:build unix

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func pread(r *Request, b []byte, off int64) (int, syscall.Errno) {
	for {
		n, err := unix.Pread(r.fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

func pwrite(r *Request, b []byte, off int64) (int, syscall.Errno) {
	for {
		n, err := unix.Pwrite(r.fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

func fsync(r *Request) syscall.Errno {
	for {
		err := unix.Fsync(r.fd)
		if err != syscall.EINTR {
			return errnoOf(err)
		}
	}
}

// errnoOf turns an x/sys error, which is nil or a syscall.Errno, into the
// errno alone.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

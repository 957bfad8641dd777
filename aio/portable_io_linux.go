package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func fdatasync(r *Request) syscall.Errno {
	for {
		err := unix.Fdatasync(r.fd)
		if err != syscall.EINTR {
			return errnoOf(err)
		}
	}
}

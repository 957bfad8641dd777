package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func fdatasync(_ *Request, fd int) syscall.Errno {
	for {
		err := unix.Fdatasync(fd)
		if err != syscall.EINTR {
			return errnoOf(err)
		}
	}
}

//go:build unix

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func pread(_ *Request, fd int, b []byte, off int64) (int, syscall.Errno) {
	for {
		n, err := unix.Pread(fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

func pwrite(_ *Request, fd int, b []byte, off int64) (int, syscall.Errno) {
	for {
		n, err := unix.Pwrite(fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

// streamRead reads once from a stream. A descriptor in non-blocking mode
// (a pipe or socket in Go's poller) answers EAGAIN when empty; the
// goroutine engine then waits in the poller for it (portableBackend.run).
func streamRead(_ *Request, fd int, b []byte) (int, syscall.Errno) {
	for {
		n, err := unix.Read(fd, b)
		if err != syscall.EINTR {
			return max(n, 0), errnoOf(err)
		}
	}
}

func streamWrite(_ *Request, fd int, b []byte) (int, syscall.Errno) {
	for {
		n, err := unix.Write(fd, b)
		if err != syscall.EINTR {
			return max(n, 0), errnoOf(err)
		}
	}
}

func fsync(_ *Request, fd int) syscall.Errno {
	for {
		err := unix.Fsync(fd)
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

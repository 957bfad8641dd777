//go:build unix

package aio

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func pread(r *Request, fd int, b []byte, off int64) (int, syscall.Errno) {
	if haveBlockingRW && len(b) > 0 && (r.class.direct || r.pj.missed) {
		return blockingCall(sysPread, fd, b, off)
	}
	for {
		n, err := unix.Pread(fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

func pwrite(r *Request, fd int, b []byte, off int64) (int, syscall.Errno) {
	if haveBlockingRW && len(b) > 0 && r.class.direct {
		return blockingCall(sysPwrite, fd, b, off)
	}
	for {
		n, err := unix.Pwrite(fd, b, off)
		if err != syscall.EINTR {
			return n, errnoOf(err)
		}
	}
}

// blockingCall is blockingRW of b, retried on EINTR, told to the race
// detector as x/sys/unix tells it of its pread and pwrite.
func blockingCall(trap uintptr, fd int, b []byte, off int64) (int, syscall.Errno) {
	write := trap == sysPwrite
	if write {
		raceWrite(b)
	}
	for {
		n, errno := blockingRW(trap, fd, unsafe.Pointer(&b[0]), len(b), off)
		runtime.KeepAlive(b)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			n = 0
		}
		if !write {
			raceRead(b, n, errno == 0)
		}
		return n, errno
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

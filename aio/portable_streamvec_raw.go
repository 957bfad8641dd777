//go:build freebsd || netbsd || dragonfly

package aio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// streamReadv is one readv on a stream, streamWritev one writev (x/sys/unix
// has no Readv here): a message socket takes or gives one message for the
// whole vector, as a single buffer would. No buffer with bytes: nothing is
// done (a read of no bytes would take a datagram away).
func streamReadv(_ *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	if vecLen(bufs) == 0 {
		return 0, 0
	}
	return streamVec(unix.SYS_READV, fd, bufs)
}

func streamWritev(_ *Request, fd int, bufs [][]byte) (int, syscall.Errno) {
	if len(bufs) == 0 {
		return 0, 0
	}
	return streamVec(unix.SYS_WRITEV, fd, bufs)
}

func streamVec(trap uintptr, fd int, bufs [][]byte) (int, syscall.Errno) {
	var small [8]unix.Iovec
	iov := small[:0]
	if len(bufs) > len(small) {
		iov = make([]unix.Iovec, 0, len(bufs))
	}
	for _, b := range bufs {
		v := unix.Iovec{}
		if len(b) > 0 {
			v.Base = &b[0]
		}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	for {
		n, _, e := unix.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if errno := syscall.Errno(e); errno != syscall.EINTR {
			if errno != 0 {
				return 0, errno
			}
			return int(n), 0
		}
	}
}

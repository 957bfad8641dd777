//go:build linux && fbsdmodel && (amd64 || arm64)

package sys

import (
	"unsafe"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
)

// The FreeBSD wrappers of syscalls_freebsd.go, served by the kernel model
// (fbsdmodel.Default) instead of the kernel. Each has the contract of its
// namesake there; errors are nil or a syscall.Errno.

// LioListio is lio_listio; see LioListio in syscalls_freebsd.go.
func LioListio(mode int, list []*Aiocb, sig *Sigevent) error {
	var p unsafe.Pointer
	if len(list) > 0 {
		p = unsafe.Pointer(&list[0])
	}
	return fbsdmodel.Default().LioListio(mode, p, len(list), unsafe.Pointer(sig))
}

// AioRead is aio_read; see AioRead in syscalls_freebsd.go.
func AioRead(cb *Aiocb) error { return fbsdmodel.Default().AioRead(unsafe.Pointer(cb)) }

// AioWrite is aio_write; see AioWrite in syscalls_freebsd.go.
func AioWrite(cb *Aiocb) error { return fbsdmodel.Default().AioWrite(unsafe.Pointer(cb)) }

// AioReadv is aio_readv; see AioReadv in syscalls_freebsd.go.
func AioReadv(cb *Aiocb) error { return fbsdmodel.Default().AioReadv(unsafe.Pointer(cb)) }

// AioWritev is aio_writev; see AioWritev in syscalls_freebsd.go.
func AioWritev(cb *Aiocb) error { return fbsdmodel.Default().AioWritev(unsafe.Pointer(cb)) }

// AioFsync is aio_fsync; see AioFsync in syscalls_freebsd.go.
func AioFsync(op int, cb *Aiocb) error { return fbsdmodel.Default().AioFsync(op, unsafe.Pointer(cb)) }

// AioCancel is aio_cancel; see AioCancel in syscalls_freebsd.go.
func AioCancel(fd int, cb *Aiocb) (int, error) {
	return fbsdmodel.Default().AioCancel(fd, unsafe.Pointer(cb))
}

// AioError is aio_error; see AioError in syscalls_freebsd.go.
func AioError(cb *Aiocb) (int, error) { return fbsdmodel.Default().AioError(unsafe.Pointer(cb)) }

// AioReturn is aio_return; see AioReturn in syscalls_freebsd.go.
func AioReturn(cb *Aiocb) (int, error) { return fbsdmodel.Default().AioReturn(unsafe.Pointer(cb)) }

// AioWaitcomplete is aio_waitcomplete; see AioWaitcomplete in syscalls_freebsd.go.
func AioWaitcomplete(cbp *uintptr, timeout *Timespec) (int, error) {
	return fbsdmodel.Default().AioWaitcomplete(unsafe.Pointer(cbp), unsafe.Pointer(timeout))
}

// AioSuspend is aio_suspend; see AioSuspend in syscalls_freebsd.go.
func AioSuspend(list []*Aiocb, timeout *Timespec) error {
	var p unsafe.Pointer
	if len(list) > 0 {
		p = unsafe.Pointer(&list[0])
	}
	return fbsdmodel.Default().AioSuspend(p, len(list), unsafe.Pointer(timeout))
}

// Kqueue is kqueue; see Kqueue in syscalls_freebsd.go (here a host descriptor unix.Close closes).
func Kqueue() (int, error) { return fbsdmodel.Default().Kqueue() }

// Kqueuex is kqueuex; see Kqueuex in syscalls_freebsd.go (the model answers
// ENOSYS, and records a violation, when it plays 13.x).
func Kqueuex(flags uint32) (int, error) { return fbsdmodel.Default().Kqueuex(flags) }

// Kevent is kevent; see Kevent in syscalls_freebsd.go.
func Kevent(kq int, changes, events []Kevent_t, timeout *Timespec) (int, error) {
	var c, ev unsafe.Pointer
	if len(changes) > 0 {
		c = unsafe.Pointer(&changes[0])
	}
	if len(events) > 0 {
		ev = unsafe.Pointer(&events[0])
	}
	return fbsdmodel.Default().Kevent(kq, c, len(changes), ev, len(events), unsafe.Pointer(timeout))
}

// SysctlUint32 reads a sysctl of the model; see SysctlUint32 in syscalls_freebsd.go.
func SysctlUint32(name string) (uint32, error) { return fbsdmodel.Default().SysctlUint32(name) }

// Osreldate is the model's kern.osreldate; see Osreldate in syscalls_freebsd.go.
func Osreldate() (int, error) { return fbsdmodel.Default().Osreldate(), nil }

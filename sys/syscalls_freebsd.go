//go:build freebsd && (amd64 || arm64)

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// System call numbers x/sys/unix v0.50 lacks, from FreeBSD's
// sys/kern/syscalls.master: aio_writev and aio_readv from 13.0, kqueuex from
// a 14.x release (in 15.0 for sure).
const (
	SYS_AIO_WRITEV = 578
	SYS_AIO_READV  = 579
	SYS_KQUEUEX    = 583
)

// LioListio submits list in one call. With LIO_NOWAIT it does not block; each
// non-nil entry is queued or rejected on its own, and the kernel writes the
// outcome into that aiocb's Private (Error: EINPROGRESS when queued, the errno
// when rejected). The error is EAGAIN or EIO when some entries were rejected,
// EINVAL when the call as a whole was refused. After the call the kernel no
// longer reads list itself, but every queued aiocb must stay in place until
// aio_return, and its buffers until completion.
func LioListio(mode int, list []*Aiocb, sig *Sigevent) error {
	var p unsafe.Pointer
	if len(list) > 0 {
		p = unsafe.Pointer(&list[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_LIO_LISTIO, uintptr(mode), uintptr(p), uintptr(len(list)), uintptr(unsafe.Pointer(sig)), 0, 0)
	return errnoErr(e)
}

// AioRead queues one read; it does not block. On success cb must stay in
// place until aio_return, and the buffer cb.Buf names until completion.
func AioRead(cb *Aiocb) error { return aiocbCall(unix.SYS_AIO_READ, cb) }

// AioWrite queues one write; the contract is AioRead's.
func AioWrite(cb *Aiocb) error { return aiocbCall(unix.SYS_AIO_WRITE, cb) }

// AioReadv queues one vectored read: cb.Buf points at an Iovec array and
// cb.Nbytes holds its length. The kernel copies the array in during the call;
// the buffers it names must stay in place until completion, cb until
// aio_return. It does not block.
func AioReadv(cb *Aiocb) error { return aiocbCall(SYS_AIO_READV, cb) }

// AioWritev queues one vectored write; the contract is AioReadv's.
func AioWritev(cb *Aiocb) error { return aiocbCall(SYS_AIO_WRITEV, cb) }

// AioFsync queues a sync of cb.Fildes (op O_SYNC or O_DSYNC) that starts once
// every earlier request of this process on the same open file has completed.
// It does not block; cb must stay in place until aio_return. An op other than
// O_SYNC or O_DSYNC is refused with EINVAL before cb is touched.
func AioFsync(op int, cb *Aiocb) error {
	_, _, e := unix.Syscall(unix.SYS_AIO_FSYNC, uintptr(op), uintptr(unsafe.Pointer(cb)), 0)
	return errnoErr(e)
}

// AioCancel asks the kernel to cancel the job of cb (all jobs on fd if cb is
// nil) and answers AIO_CANCELED, AIO_NOTCANCELED or AIO_ALLDONE. A canceled
// job still completes (with ECANCELED) and still needs aio_return. It does
// not block and does not write to cb.
func AioCancel(fd int, cb *Aiocb) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_AIO_CANCEL, uintptr(fd), uintptr(unsafe.Pointer(cb)), 0)
	return int(r), errnoErr(e)
}

// AioError returns 0, EINPROGRESS or the job's errno as its value; err is set
// only when the call itself fails. It does not block; for a job the kernel no
// longer knows it reads cb's Private fields.
func AioError(cb *Aiocb) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_AIO_ERROR, uintptr(unsafe.Pointer(cb)), 0, 0)
	return int(r), errnoErr(e)
}

// AioReturn collects a completed job: the byte count, or the job's errno as
// err. It frees the kernel's job, deletes its pending kevent, and writes
// cb.Private; afterwards the kernel never touches cb again. It must be called
// exactly once per queued job; it does not block, and fails with EINVAL for a
// job that has not completed.
func AioReturn(cb *Aiocb) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_AIO_RETURN, uintptr(unsafe.Pointer(cb)), 0, 0)
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(r), nil
}

// AioWaitcomplete blocks until any job of the process completes (or the
// timeout passes), collects it as aio_return would and stores its aiocb
// address in *cbp. It takes completions regardless of who submitted them;
// this package's callers do not use it.
func AioWaitcomplete(cbp *uintptr, timeout *Timespec) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_AIO_WAITCOMPLETE, uintptr(unsafe.Pointer(cbp)), uintptr(unsafe.Pointer(timeout)), 0)
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(r), nil
}

// AioSuspend blocks until one job of list has completed or the timeout
// passes (EAGAIN). It reads list during the call only.
func AioSuspend(list []*Aiocb, timeout *Timespec) error {
	var p unsafe.Pointer
	if len(list) > 0 {
		p = unsafe.Pointer(&list[0])
	}
	_, _, e := unix.Syscall(unix.SYS_AIO_SUSPEND, uintptr(p), uintptr(len(list)), uintptr(unsafe.Pointer(timeout)))
	return errnoErr(e)
}

// Kqueue creates a kqueue, not close-on-exec. It does not block.
func Kqueue() (int, error) {
	r, _, e := unix.Syscall(unix.SYS_KQUEUE, 0, 0, 0)
	return int(r), errnoErr(e)
}

// Kqueuex creates a kqueue; flags KQUEUE_CLOEXEC makes it close-on-exec
// atomically. FreeBSD 14.x and later only: where the system call does not
// exist the kernel answers ENOSYS and sends SIGSYS, which kills a Go
// program, so callers must check Osreldate first. It does not block.
func Kqueuex(flags uint32) (int, error) {
	r, _, e := unix.Syscall(SYS_KQUEUEX, uintptr(flags), 0, 0)
	return int(r), errnoErr(e)
}

// Kevent applies changes and then collects up to len(events) events, blocking
// up to timeout (nil: forever; zero: poll). The kernel writes only
// events[:n]. Any signal ends a blocking call with EINTR; it is never
// restarted by the kernel.
func Kevent(kq int, changes, events []Kevent_t, timeout *Timespec) (int, error) {
	var c, ev unsafe.Pointer
	if len(changes) > 0 {
		c = unsafe.Pointer(&changes[0])
	}
	if len(events) > 0 {
		ev = unsafe.Pointer(&events[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_KEVENT, uintptr(kq), uintptr(c), uintptr(len(changes)), uintptr(ev), uintptr(len(events)), uintptr(unsafe.Pointer(timeout)))
	return int(r), errnoErr(e)
}

// SysctlUint32 reads an unsigned 32-bit sysctl by name.
func SysctlUint32(name string) (uint32, error) { return unix.SysctlUint32(name) }

// Osreldate reads the sysctl kern.osreldate: the running kernel's release,
// such as 1302000 for 13.2 or 1400000 for 14.0.
func Osreldate() (int, error) {
	v, err := unix.SysctlUint32("kern.osreldate")
	return int(int32(v)), err
}

func aiocbCall(trap uintptr, cb *Aiocb) error {
	_, _, e := unix.Syscall(trap, uintptr(unsafe.Pointer(cb)), 0, 0)
	return errnoErr(e)
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

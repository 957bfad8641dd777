//go:build linux && (amd64 || arm64)

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// IoSetup creates a kernel AIO context that can hold at least nr requests
// in flight and returns its handle. It does not block. It fails with EAGAIN
// when nr would take the system past fs.aio-max-nr (a limit shared by every
// process), EINVAL when nr is 0 or beyond the kernel's bound, and ENOSYS
// where the kernel has no AIO. The context lives until IoDestroy or exit.
func IoSetup(nr int) (ctx uintptr, err error) {
	_, _, e := unix.Syscall(unix.SYS_IO_SETUP, uintptr(nr), uintptr(unsafe.Pointer(&ctx)), 0)
	if e != 0 {
		return 0, e
	}
	return ctx, nil
}

// IoDestroy cancels what can be canceled in ctx, then blocks until every
// other request of ctx has completed, and frees ctx with its unreaped
// events. Once it returns the kernel touches none of ctx's iocbs or
// buffers again.
func IoDestroy(ctx uintptr) error {
	_, _, e := unix.Syscall(unix.SYS_IO_DESTROY, ctx, 0, 0)
	return ioErr(e)
}

// IoSubmit queues iocbs in order and returns how many it queued, n. It
// stops at the first iocb it rejects: if that is iocbs[0] it returns that
// iocb's errno (EAGAIN: ctx is full; EBADF: bad descriptor or wrong access
// mode; EINVAL: malformed iocb or operation the file does not support),
// otherwise n < len(iocbs) and no error, and the rejected iocb is the first
// not queued. A rejected iocb produces no event. The kernel reads iocbs
// itself only during the call. Each queued iocb must stay in place until
// its event is reaped (the kernel wrote its Key and reports its address),
// and the buffers and iovec arrays it names likewise: the kernel may read
// or write them until then. It blocks for as long as the filesystem takes
// to start each request; buffered (non-O_DIRECT) file I/O is performed
// entirely inside the call.
func IoSubmit(ctx uintptr, iocbs []*Iocb) (int, error) {
	if len(iocbs) == 0 {
		return 0, nil
	}
	r, _, e := unix.Syscall(unix.SYS_IO_SUBMIT, ctx, uintptr(len(iocbs)), uintptr(unsafe.Pointer(&iocbs[0])))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// IoGetevents reaps between minNr and len(events) completions of ctx into
// events[:n], blocking until minNr are there or timeout (relative; nil:
// forever) passes. A timeout may return fewer than minNr, even 0. A signal
// ends a blocking call with EINTR when nothing was reaped; the kernel does
// not restart it. The kernel writes only events[:n], during the call; each
// event reaped releases its iocb and buffers.
func IoGetevents(ctx uintptr, minNr int, events []IoEvent, timeout *unix.Timespec) (int, error) {
	var p unsafe.Pointer
	if len(events) > 0 {
		p = unsafe.Pointer(&events[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_IO_GETEVENTS, ctx, uintptr(minNr), uintptr(len(events)), uintptr(p), uintptr(unsafe.Pointer(timeout)), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// IoCancel asks the kernel to cancel the queued job of cb, found by cb's
// address and Key. It does not block. Since Linux 3.11, success is reported
// as EINPROGRESS: the job's event still arrives through IoGetevents, with
// whatever result the job reached (-ECANCELED, or 0 for a canceled poll),
// and result is left untouched.
// EINVAL (EAGAIN on some kernels) means the job cannot be canceled: regular
// file reads, writes and syncs never can, only jobs that wait on something
// (such as IOCB_CMD_POLL); EINVAL also covers a job that has already
// completed. The kernel reads cb during the call.
func IoCancel(ctx uintptr, cb *Iocb, result *IoEvent) error {
	_, _, e := unix.Syscall(unix.SYS_IO_CANCEL, ctx, uintptr(unsafe.Pointer(cb)), uintptr(unsafe.Pointer(result)))
	return ioErr(e)
}

// ioErr is nil for 0 and the errno otherwise.
func ioErr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

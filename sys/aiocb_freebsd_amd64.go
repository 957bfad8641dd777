// FreeBSD's AIO and kqueue structures for amd64, written by hand from
// <sys/aio.h>, <sys/signal.h>, <sys/event.h>, <sys/_timespec.h> and
// <sys/_iovec.h>. The assertions at the end fail the build if a size or an
// offset differs from what a C compiler computes from those headers
// (mkstructs.sh recomputes them).

//go:build freebsd && amd64

package sys

import "unsafe"

// Aiocb is struct aiocb (FreeBSD 13+). Its address is the kernel's identity
// for the job: the kernel copies the whole block in at submission, writes
// Private.Status and Private.Error back at submission and again inside
// aio_return, and reports the address as the completion kevent's Ident.
type Aiocb struct {
	Fildes    int32        // aio_fildes
	_         [4]byte      // padding
	Offset    int64        // aio_offset
	Buf       *byte        // aio_buf; aio_iov (an Iovec array) for LIO_READV/LIO_WRITEV
	Nbytes    uint64       // aio_nbytes; aio_iovcnt (the Iovec count) for LIO_READV/LIO_WRITEV
	Spare     [2]int32     // __spare__
	Spare2    uintptr      // __spare2__
	LioOpcode int32        // aio_lio_opcode: LIO_READ, LIO_WRITE, LIO_READV, LIO_WRITEV, LIO_NOP
	Reqprio   int32        // aio_reqprio (ignored by FreeBSD)
	Private   AiocbPrivate // _aiocb_private: written by the kernel
	Sigevent  Sigevent     // aio_sigevent: how completion is reported
}

// AiocbPrivate is struct __aiocb_private, the part of an aiocb the kernel
// writes into user memory.
type AiocbPrivate struct {
	Status int64   // -1 from submission until aio_return, then the return value
	Error  int64   // 0, then EINPROGRESS (queued) or the rejecting errno; the job's errno after aio_return
	Spare  uintptr // kernelinfo in 13.x/14.x, spare in 15; never relied on
}

// Sigevent is struct sigevent. For SIGEV_KEVENT, Signo holds the kqueue
// descriptor (sigev_notify_kqueue) and KeventFlags the flags the completion
// knote gets (sigev_notify_kevent_flags); Value comes back as the kevent's
// Udata. Value is an integer, never a Go pointer.
type Sigevent struct {
	Notify      int32    // sigev_notify: SIGEV_NONE, SIGEV_SIGNAL, SIGEV_KEVENT, SIGEV_THREAD_ID
	Signo       int32    // sigev_signo, alias sigev_notify_kqueue
	Value       uint64   // sigev_value (union sigval)
	KeventFlags uint16   // _sigev_un._kevent_flags, alias sigev_notify_kevent_flags
	_           [62]byte // rest of _sigev_un (long __spare__[8])
}

// Kevent_t is struct kevent in the FreeBSD 12+ layout (syscall 560). Udata
// is an integer: the kernel hands it back, so it never holds a Go pointer.
type Kevent_t struct {
	Ident  uintptr   // ident: for EVFILT_AIO the aiocb's address
	Filter int16     // filter
	Flags  uint16    // flags
	Fflags uint32    // fflags
	Data   int64     // data: for EVFILT_AIO the job's errno
	Udata  uintptr   // udata: for EVFILT_AIO the aiocb's sigev_value
	Ext    [4]uint64 // ext
}

// Timespec is struct timespec.
type Timespec struct {
	Sec  int64 // tv_sec
	Nsec int64 // tv_nsec
}

// Iovec is struct iovec.
type Iovec struct {
	Base *byte  // iov_base
	Len  uint64 // iov_len
}

// Constants x/sys/unix lacks, from <sys/aio.h>, <sys/signal.h> and <sys/fcntl.h>.
const (
	LIO_NOP    = 0x0
	LIO_WRITE  = 0x1
	LIO_READ   = 0x2
	LIO_WRITEV = 0x5
	LIO_READV  = 0x6

	LIO_NOWAIT = 0x0
	LIO_WAIT   = 0x1

	AIO_CANCELED    = 0x1
	AIO_NOTCANCELED = 0x2
	AIO_ALLDONE     = 0x3

	AIO_LISTIO_MAX = 0x10

	SIGEV_NONE      = 0x0
	SIGEV_SIGNAL    = 0x1
	SIGEV_KEVENT    = 0x3
	SIGEV_THREAD_ID = 0x4

	O_DSYNC = 0x1000000
)

// Each line fails to compile unless the size or offset it names equals the
// number a C compiler computed from FreeBSD's headers: a smaller value
// overflows uintptr, a larger one indexes past eq.
func _() {
	var eq [1]struct{}
	var cb Aiocb
	var se Sigevent
	var kev Kevent_t
	var ts Timespec
	var iov Iovec

	_ = eq[unsafe.Sizeof(cb)-160]
	_ = eq[unsafe.Offsetof(cb.Fildes)-0]
	_ = eq[unsafe.Sizeof(cb.Fildes)-4]
	_ = eq[unsafe.Offsetof(cb.Offset)-8]
	_ = eq[unsafe.Sizeof(cb.Offset)-8]
	_ = eq[unsafe.Offsetof(cb.Buf)-16]
	_ = eq[unsafe.Sizeof(cb.Buf)-8]
	_ = eq[unsafe.Offsetof(cb.Nbytes)-24]
	_ = eq[unsafe.Sizeof(cb.Nbytes)-8]
	_ = eq[unsafe.Offsetof(cb.Spare)-32]
	_ = eq[unsafe.Sizeof(cb.Spare)-8]
	_ = eq[unsafe.Offsetof(cb.Spare2)-40]
	_ = eq[unsafe.Sizeof(cb.Spare2)-8]
	_ = eq[unsafe.Offsetof(cb.LioOpcode)-48]
	_ = eq[unsafe.Sizeof(cb.LioOpcode)-4]
	_ = eq[unsafe.Offsetof(cb.Reqprio)-52]
	_ = eq[unsafe.Sizeof(cb.Reqprio)-4]
	_ = eq[unsafe.Offsetof(cb.Private)-56]
	_ = eq[unsafe.Offsetof(cb.Private)+unsafe.Offsetof(cb.Private.Status)-56]
	_ = eq[unsafe.Sizeof(cb.Private.Status)-8]
	_ = eq[unsafe.Offsetof(cb.Private)+unsafe.Offsetof(cb.Private.Error)-64]
	_ = eq[unsafe.Sizeof(cb.Private.Error)-8]
	_ = eq[unsafe.Offsetof(cb.Private)+unsafe.Offsetof(cb.Private.Spare)-72]
	_ = eq[unsafe.Sizeof(cb.Private.Spare)-8]
	_ = eq[unsafe.Sizeof(cb.Private)-24]
	_ = eq[unsafe.Offsetof(cb.Sigevent)-80]
	_ = eq[unsafe.Sizeof(cb.Sigevent)-80]
	_ = eq[unsafe.Offsetof(cb.Sigevent)+unsafe.Offsetof(cb.Sigevent.Notify)-80]
	_ = eq[unsafe.Offsetof(cb.Sigevent)+unsafe.Offsetof(cb.Sigevent.Signo)-84]
	_ = eq[unsafe.Offsetof(cb.Sigevent)+unsafe.Offsetof(cb.Sigevent.Value)-88]
	_ = eq[unsafe.Offsetof(cb.Sigevent)+unsafe.Offsetof(cb.Sigevent.KeventFlags)-96]

	_ = eq[unsafe.Sizeof(se)-80]
	_ = eq[unsafe.Offsetof(se.Notify)-0]
	_ = eq[unsafe.Sizeof(se.Notify)-4]
	_ = eq[unsafe.Offsetof(se.Signo)-4]
	_ = eq[unsafe.Sizeof(se.Signo)-4]
	_ = eq[unsafe.Offsetof(se.Value)-8]
	_ = eq[unsafe.Sizeof(se.Value)-8]
	_ = eq[unsafe.Offsetof(se.KeventFlags)-16]
	_ = eq[unsafe.Sizeof(se.KeventFlags)-2]

	_ = eq[unsafe.Sizeof(kev)-64]
	_ = eq[unsafe.Offsetof(kev.Ident)-0]
	_ = eq[unsafe.Sizeof(kev.Ident)-8]
	_ = eq[unsafe.Offsetof(kev.Filter)-8]
	_ = eq[unsafe.Sizeof(kev.Filter)-2]
	_ = eq[unsafe.Offsetof(kev.Flags)-10]
	_ = eq[unsafe.Sizeof(kev.Flags)-2]
	_ = eq[unsafe.Offsetof(kev.Fflags)-12]
	_ = eq[unsafe.Sizeof(kev.Fflags)-4]
	_ = eq[unsafe.Offsetof(kev.Data)-16]
	_ = eq[unsafe.Sizeof(kev.Data)-8]
	_ = eq[unsafe.Offsetof(kev.Udata)-24]
	_ = eq[unsafe.Sizeof(kev.Udata)-8]
	_ = eq[unsafe.Offsetof(kev.Ext)-32]
	_ = eq[unsafe.Sizeof(kev.Ext)-32]

	_ = eq[unsafe.Sizeof(ts)-16]
	_ = eq[unsafe.Offsetof(ts.Sec)-0]
	_ = eq[unsafe.Sizeof(ts.Sec)-8]
	_ = eq[unsafe.Offsetof(ts.Nsec)-8]
	_ = eq[unsafe.Sizeof(ts.Nsec)-8]

	_ = eq[unsafe.Sizeof(iov)-16]
	_ = eq[unsafe.Offsetof(iov.Base)-0]
	_ = eq[unsafe.Sizeof(iov.Base)-8]
	_ = eq[unsafe.Offsetof(iov.Len)-8]
	_ = eq[unsafe.Sizeof(iov.Len)-8]
}

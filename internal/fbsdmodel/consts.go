//go:build linux

package fbsdmodel

// FreeBSD's values, with its names (freebsd-abi.md §2).
const (
	LIO_NOP      = 0x0
	LIO_WRITE    = 0x1
	LIO_READ     = 0x2
	LIO_VECTORED = 0x4
	LIO_WRITEV   = 0x5
	LIO_READV    = 0x6
	LIO_SYNC     = 0x8
	LIO_DSYNC    = 0x18
	LIO_MLOCK    = 0x20

	LIO_NOWAIT = 0x0
	LIO_WAIT   = 0x1

	AIO_CANCELED    = 0x1
	AIO_NOTCANCELED = 0x2
	AIO_ALLDONE     = 0x3

	SIGEV_NONE      = 0x0
	SIGEV_SIGNAL    = 0x1
	SIGEV_THREAD    = 0x2
	SIGEV_KEVENT    = 0x3
	SIGEV_THREAD_ID = 0x4

	EVFILT_AIO  = -3
	EVFILT_LIO  = -10
	EVFILT_USER = -11

	EV_ADD       = 0x0001
	EV_DELETE    = 0x0002
	EV_ENABLE    = 0x0004
	EV_DISABLE   = 0x0008
	EV_ONESHOT   = 0x0010
	EV_CLEAR     = 0x0020
	EV_RECEIPT   = 0x0040
	EV_DISPATCH  = 0x0080
	EV_KEEPUDATA = 0x0200
	EV_FLAG1     = 0x2000
	EV_ERROR     = 0x4000
	EV_EOF       = 0x8000
	EV_SYSFLAGS  = 0xf000 // bits the kernel owns; dropped from every change

	NOTE_FFAND      = 0x40000000
	NOTE_FFOR       = 0x80000000
	NOTE_FFCOPY     = 0xc0000000
	NOTE_FFCTRLMASK = 0xc0000000
	NOTE_FFLAGSMASK = 0x00ffffff
	NOTE_TRIGGER    = 0x01000000

	O_SYNC  = 0x80
	O_DSYNC = 0x1000000

	IOV_MAX = 1024

	KQUEUE_CLOEXEC = 0x1 // kqueuex(2) flag (sys/event.h)

	MAX_AIO_QUEUE_PER_PROC = 256  // vfs.aio.max_aio_queue_per_proc default
	MAX_AIO_QUEUE          = 1024 // vfs.aio.max_aio_queue default

	sigMax   = 128       // _SIG_MAXSIG
	ssizeMax = 1<<63 - 1 // IOSIZE_MAX
	maxAIO   = 32        // vfs.aio.max_aio_per_proc default
)

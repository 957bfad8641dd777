//go:build linux && fbsdmodel && (amd64 || arm64)

package sys

// The names of consts_freebsd.go with FreeBSD's values (freebsd-abi.md §2),
// for the fbsdmodel build, where x/sys/unix is Linux's.
const (
	EVFILT_AIO  = -3
	EVFILT_LIO  = -10
	EVFILT_USER = -11

	EV_ADD      = 0x1
	EV_DELETE   = 0x2
	EV_ENABLE   = 0x4
	EV_DISABLE  = 0x8
	EV_ONESHOT  = 0x10
	EV_CLEAR    = 0x20
	EV_RECEIPT  = 0x40
	EV_DISPATCH = 0x80
	EV_FLAG1    = 0x2000
	EV_ERROR    = 0x4000
	EV_EOF      = 0x8000

	NOTE_TRIGGER = 0x1000000

	O_SYNC = 0x80

	// KQUEUE_CLOEXEC is kqueuex's close-on-exec flag (sys/event.h, 14.0).
	KQUEUE_CLOEXEC = 0x1
)

//go:build freebsd && (amd64 || arm64)

package sys

import "golang.org/x/sys/unix"

// kqueue and open(2) constants, taken from x/sys/unix.
const (
	EVFILT_AIO  = unix.EVFILT_AIO
	EVFILT_LIO  = unix.EVFILT_LIO
	EVFILT_USER = unix.EVFILT_USER

	EV_ADD      = unix.EV_ADD
	EV_DELETE   = unix.EV_DELETE
	EV_ENABLE   = unix.EV_ENABLE
	EV_DISABLE  = unix.EV_DISABLE
	EV_ONESHOT  = unix.EV_ONESHOT
	EV_CLEAR    = unix.EV_CLEAR
	EV_RECEIPT  = unix.EV_RECEIPT
	EV_DISPATCH = unix.EV_DISPATCH
	EV_FLAG1    = unix.EV_FLAG1
	EV_ERROR    = unix.EV_ERROR
	EV_EOF      = unix.EV_EOF

	NOTE_TRIGGER = unix.NOTE_TRIGGER

	O_SYNC = unix.O_SYNC

	// KQUEUE_CLOEXEC is kqueuex's close-on-exec flag (sys/event.h, 14.0).
	KQUEUE_CLOEXEC = 0x1
)

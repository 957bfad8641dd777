//go:build unix

package aio

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileStatus reads f's status flags and whether it is a terminal, without
// f.Fd, which would switch a pipe or socket to blocking mode.
func fileStatus(f *os.File) (flags int, tty bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var ferr error
	err = rc.Control(func(d uintptr) {
		flags, ferr = unix.FcntlInt(d, unix.F_GETFL, 0)
		tty = isTerminal(int(d))
	})
	if err == nil && ferr != nil {
		err = os.NewSyscallError("fcntl(F_GETFL)", ferr)
	}
	return flags, tty, err
}

// appendInStatus reports O_APPEND in status flags.
func appendInStatus(flags int) bool { return flags&unix.O_APPEND != 0 }

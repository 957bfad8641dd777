//go:build unix

package aio

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileStatus reads the descriptor number of f, its status flags and whether
// it is a terminal, without f.Fd, which would switch a pipe or socket to
// blocking mode.
func fileStatus(f *os.File) (fd int, flags int, tty bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, 0, false, err
	}
	var ferr error
	err = rc.Control(func(d uintptr) {
		fd = int(d)
		flags, ferr = unix.FcntlInt(d, unix.F_GETFL, 0)
		tty = isTerminal(fd)
	})
	if err == nil && ferr != nil {
		err = os.NewSyscallError("fcntl(F_GETFL)", ferr)
	}
	return fd, flags, tty, err
}

// appendInStatus reports O_APPEND in status flags.
func appendInStatus(flags int) bool { return flags&unix.O_APPEND != 0 }

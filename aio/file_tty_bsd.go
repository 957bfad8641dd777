//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package aio

import "golang.org/x/sys/unix"

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TIOCGETA)
	return err == nil
}

//go:build unix

package tests

import "golang.org/x/sys/unix"

func fcntlGetfl(fd uintptr) (int, error) { return unix.FcntlInt(fd, unix.F_GETFL, 0) }

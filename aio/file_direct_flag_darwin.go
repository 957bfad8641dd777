//go:build darwin

package aio

import (
	"os"

	"golang.org/x/sys/unix"
)

// O_DIRECT, in OpenFile's flag, bypasses the page cache. Darwin has no such
// open flag: OpenFile strips this bit (which no other open flag uses) and
// sets F_NOCACHE on the descriptor after the open. Use aligned buffers
// (AlignedBuffer) for the same code to work on Linux and FreeBSD.
const O_DIRECT = 0x40000

func openFlag(flag int) (int, bool, error) {
	return flag &^ O_DIRECT, flag&O_DIRECT != 0, nil
}

// disableCache sets F_NOCACHE on f.
func disableCache(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		_, ferr = unix.FcntlInt(fd, unix.F_NOCACHE, 1)
	}); err != nil {
		return err
	}
	return os.NewSyscallError("fcntl(F_NOCACHE)", ferr)
}

// directInStatus: F_NOCACHE does not show in the status flags.
func directInStatus(int) bool { return false }

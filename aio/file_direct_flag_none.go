//go:build !(aix || dragonfly || freebsd || linux || netbsd || solaris || zos || darwin)

package aio

import (
	"fmt"
	"os"
)

// O_DIRECT, in OpenFile's flag, would bypass the page cache; this system
// has no way to, and OpenFile with it fails with an error matching
// ErrNotSupported. Its value is a bit no open flag of this system uses.
const O_DIRECT = 0x400000

func openFlag(flag int) (int, bool, error) {
	if flag&O_DIRECT != 0 {
		return 0, false, fmt.Errorf("O_DIRECT: %w", ErrNotSupported)
	}
	return flag, false, nil
}

func disableCache(*os.File) error { return nil }

func directInStatus(int) bool { return false }

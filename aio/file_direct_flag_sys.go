//go:build aix || dragonfly || freebsd || linux || netbsd || solaris || zos

package aio

import (
	"os"

	"golang.org/x/sys/unix"
)

// O_DIRECT, in OpenFile's flag, bypasses the page cache: the system's own
// O_DIRECT here. Buffers, offsets and lengths must then be aligned
// (AlignedBuffer, Limits.BufferAlignment), or the kernel fails the call with
// EINVAL.
const O_DIRECT = unix.O_DIRECT

// openFlag returns the flag to give os.OpenFile and whether the page cache
// must be turned off after the open.
func openFlag(flag int) (int, bool, error) { return flag, false, nil }

func disableCache(*os.File) error { return nil }

// directInStatus reports O_DIRECT in the file status flags of a descriptor.
func directInStatus(flags int) bool { return flags&unix.O_DIRECT != 0 }

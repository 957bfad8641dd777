//go:build !windows

package tests

import "syscall"

// What POSIX systems do, as the tests see it (os_windows_test.go differs).
const (
	// errWrongAccess is the error of a read on a write-only file or a write
	// on a read-only one.
	errWrongAccess = syscall.EBADF
	// syncNeedsWrite: fsync and fdatasync need no write access.
	syncNeedsWrite = false
	// canRemoveOpen: an open file can be removed (unlinked).
	canRemoveOpen = true
)

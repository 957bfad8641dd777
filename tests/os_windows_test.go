package tests

import "syscall"

// What Windows does differently from Unix, as the tests see it.
const (
	// errWrongAccess is the error of a read on a write-only file or a write
	// on a read-only one.
	errWrongAccess = syscall.ERROR_ACCESS_DENIED
	// syncNeedsWrite: FlushFileBuffers needs a handle opened for writing.
	syncNeedsWrite = true
	// canRemoveOpen: an open file can be removed (Go opens files on Windows
	// without FILE_SHARE_DELETE).
	canRemoveOpen = false
)

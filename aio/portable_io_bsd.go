//go:build unix && !linux

package aio

import "syscall"

// fdatasync is fsync where x/sys/unix offers no fdatasync: a full sync is a
// correct, if slower, data sync.
func fdatasync(r *Request, fd int) syscall.Errno { return fsync(r, fd) }

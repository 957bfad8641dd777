//go:build linux

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// dataSyncOnce is fdatasync(2) on f's descriptor, held open meanwhile
// (withFd), retried on EINTR.
func dataSyncOnce(f *File) (err error) {
	if herr := f.withFd(func(fd uintptr) {
		for err = unix.Fdatasync(int(fd)); err == syscall.EINTR; err = unix.Fdatasync(int(fd)) {
		}
	}); herr != nil {
		return herr
	}
	return err
}

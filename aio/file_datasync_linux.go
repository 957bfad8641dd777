//go:build linux

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// dataSyncOnce is fdatasync(2) on f's descriptor, retried on EINTR.
func dataSyncOnce(f *File) error {
	for {
		err := unix.Fdatasync(f.fd)
		if err != syscall.EINTR {
			return err
		}
	}
}

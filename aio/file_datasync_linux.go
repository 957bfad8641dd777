//go:build linux

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// dataSyncOnce is fdatasync(2) on f's descriptor, held open meanwhile
// (withFd), retried on EINTR.
func dataSyncOnce(f *File) error {
	_, err := f.withFd(fdatasyncFd, nil, 0)
	return err
}

func fdatasyncFd(fd int, _ [][]byte, _ int64) (int, error) {
	for {
		if err := unix.Fdatasync(fd); err != syscall.EINTR {
			return 0, err
		}
	}
}

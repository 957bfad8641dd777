//go:build linux || freebsd

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache writes f's dirty pages back and drops its pages from the page
// cache, so that an O_DIRECT round starts as an O_DIRECT program runs:
// with no cached page of the file for its writes to wait on (DefaultBackend
// on Linux gives goroutines the O_DIRECT writes that would wait).
func dropCache(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

//go:build !unix

package aio

import "os"

// fileStatus: without Unix descriptors there is nothing to read; calls go
// through *os.File.
func fileStatus(f *os.File) (flags int, tty bool, err error) { return 0, false, nil }

func appendInStatus(int) bool { return false }

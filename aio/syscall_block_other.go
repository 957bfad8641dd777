//go:build unix && !(linux && (amd64 || arm64))

package aio

import (
	"syscall"
	"unsafe"
)

const haveBlockingRW = false

const sysPread, sysPwrite = 0, 0

func blockingRW(uintptr, int, unsafe.Pointer, int, int64) (int, syscall.Errno) {
	return 0, syscall.ENOSYS
}

//go:build linux && (amd64 || arm64)

package aio

import (
	"syscall"
	"unsafe"
)

// The runtime keeps a goroutine's P (its scheduler slot) through an
// ordinary system call until its monitor sees the call still running, at
// least one of its ticks later (20 µs while it is busy, up to 10 ms); only
// then does another goroutine get the P. A read that waits for a device
// holds the P that long each time, and on a machine with few CPUs that
// bounds how many such reads the workers have in the kernel at once. Told
// beforehand that the call blocks, the runtime gives the P up at once (to
// a thread for the goroutines waiting for one, or to its idle list), as it
// does for its own blocking waits. That costs a thread hand-off, and the
// return from the call must find a P again, so it is only for calls that
// wait for a device: reads and writes of O_DIRECT files, and reads the
// page cache has been seen not to hold.

//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// blockingRW is pread(2) or pwrite(2) (trap) of n bytes at p, declared to
// the runtime as a call that blocks. p must be memory the garbage
// collector keeps in place and alive meanwhile (a request's buffer).
//
//go:nosplit
//go:norace
func blockingRW(trap uintptr, fd int, p unsafe.Pointer, n int, off int64) (int, syscall.Errno) {
	entersyscallblock()
	r, _, errno := syscall.RawSyscall6(trap, uintptr(fd), uintptr(p), uintptr(n), uintptr(off), 0, 0)
	exitsyscall()
	return int(r), errno
}

const haveBlockingRW = true

const (
	sysPread  = syscall.SYS_PREAD64
	sysPwrite = syscall.SYS_PWRITE64
)

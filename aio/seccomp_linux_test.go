//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offsets in struct seccomp_data, what a seccomp filter reads.
const (
	seccompDataNr   = 0 // int nr
	seccompDataArch = 4 // __u32 arch
)

// auditArch is the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch
// for a system call of this build's architecture.
var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64,
	"arm64": unix.AUDIT_ARCH_AARCH64,
}[runtime.GOARCH]

// ioSetupFilter is a seccomp program that fails io_setup of this
// architecture with errno and allows every other system call. A call of
// another architecture (there is none in a Go program) is allowed: its
// numbers mean other calls.
func ioSetupFilter(errno syscall.Errno) []unix.SockFilter {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: jt, Jf: jf, K: k}
	}
	return []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArch),
		jeq(auditArch, 0, 3), // another architecture: allow
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataNr),
		jeq(unix.SYS_IO_SETUP, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(errno)&unix.SECCOMP_RET_DATA),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	}
}

// refuseIoSetup installs ioSetupFilter(errno) on every thread of the
// process (SECCOMP_FILTER_FLAG_TSYNC: goroutines run on many threads, and
// threads started later inherit the filter of the one that starts them).
// It cannot be undone.
func refuseIoSetup(errno syscall.Errno) error {
	return installSeccomp(ioSetupFilter(errno))
}

// installSeccomp installs filter on every thread of the process, as
// refuseIoSetup does. It cannot be undone.
func installSeccomp(filter []unix.SockFilter) error {
	if auditArch == 0 {
		return fmt.Errorf("no AUDIT_ARCH value known for %s", runtime.GOARCH)
	}
	// no_new_privs is a property of the calling thread, which must be the
	// one that installs the filter.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	switch {
	case e != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", e)
	case r != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d could not take the filter", r)
	}
	return nil
}

//go:build linux && !fbsdmodel

package aio

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inlineReads says that this system has reads that do not wait.
const inlineReads = true

// canInline reports whether r may run in the waiter's goroutine: a read of
// a buffered regular file, which preadv2 with RWF_NOWAIT does only if the
// page cache holds the data, so it never waits for a device; and not one
// whose read of that kind missed since r was submitted.
func canInline(r *Request) bool {
	return r.op == opRead && len(r.buf) > 0 && r.class.kind == kindRegular && !r.class.direct && !r.class.noInline && !r.pj.missed
}

// runInline is a pread that does not wait: it stores r's result only if the
// cache held all of it (or the file ends there), and reports whether it did;
// what it read of a read the cache held in part is kept (pj.part).
// A file whose filesystem refuses RWF_NOWAIT (or a kernel without preadv2 or
// the flag) is remembered, and its requests go to the workers from then on.
// A read of at most rawReadMax bytes is a raw call, without the scheduler's
// hand-off of the thread's P: it does not wait for a device, so it is as
// short as a copy from the cache (a fault on the buffer itself, memory of
// the caller's, is the exception). A longer copy would keep the P, and a
// stop of the world, waiting too long.
func (r *Request) runInline(fd uintptr) {
	iov := unix.Iovec{Base: unsafe.SliceData(r.buf)}
	iov.SetLen(len(r.buf))
	call := unix.Syscall6
	if len(r.buf) <= rawReadMax {
		call = unix.RawSyscall6
	}
	lo, hi := offsetHalves(r.off)
	for {
		n, _, e := call(unix.SYS_PREADV2, fd, uintptr(unsafe.Pointer(&iov)), 1, lo, hi, unix.RWF_NOWAIT)
		switch errno := syscall.Errno(e); errno {
		case 0:
			if int(n) == len(r.buf) || n == 0 {
				r.pj.n, r.pj.errno, r.pj.ran = int(n), 0, true
				return
			}
			// The cache held the first n bytes, now in the buffer: the
			// worker reads the rest, so that no byte past the count it
			// reports is written, even if the file is cut meanwhile.
			r.pj.part = int(n)
			return
		case syscall.EINTR:
			continue
		case syscall.EOPNOTSUPP, syscall.ENOSYS, syscall.EPERM:
			// The filesystem (or the kernel, or a seccomp filter) refuses
			// the flag; other errors, such as EINVAL for an offset past
			// the largest, belong to the request, and the workers report
			// them.
			r.class.noInline = true
			markNoInline(r.class)
		}
		return
	}
}

// rawReadMax bounds the reads runInline makes as raw calls: a copy of 64
// KiB from the page cache takes some microseconds.
const rawReadMax = 64 << 10

// noInlineDevs holds the filesystems (devices) whose files refused
// RWF_NOWAIT, for the whole process.
var noInlineDevs struct {
	mu sync.Mutex
	m  map[uint64]struct{}
}

func markNoInline(c fileClass) {
	noInlineDevs.mu.Lock()
	if noInlineDevs.m == nil {
		noInlineDevs.m = make(map[uint64]struct{})
	}
	noInlineDevs.m[c.dev] = struct{}{}
	noInlineDevs.mu.Unlock()
}

// noInlineBefore reports whether a file of c's filesystem refused
// RWF_NOWAIT before.
func noInlineBefore(c fileClass) bool {
	noInlineDevs.mu.Lock()
	_, ok := noInlineDevs.m[c.dev]
	noInlineDevs.mu.Unlock()
	return ok
}

// offsetHalves is a file offset as preadv2 takes it, in two words (pos_l,
// pos_h): where a word has 32 bits the high half is the second; where it
// has 64, the first holds it all and the kernel ignores the second.
func offsetHalves(off int64) (lo, hi uintptr) {
	return uintptr(off), uintptr(uint64(off) >> (unsafe.Sizeof(uintptr(0))*8 - 1) >> 1)
}

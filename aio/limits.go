package aio

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"sync"
	"unsafe"
)

// Limits are the system's bounds for asynchronous I/O.
type Limits struct {
	// MaxOutstanding is how many requests the kernel lets be in flight
	// before it refuses more: FreeBSD: one process's,
	// vfs.aio.max_aio_queue_per_proc; Linux: the whole machine's,
	// fs.aio-max-nr, of which one Context takes at most an eighth
	// (Context.MaxRequests reports the bound in force).
	MaxOutstanding int
	// BatchMax is the most requests one kernel submission call takes
	// (FreeBSD: p1003_1b.aio_listio_max). Submit splits larger batches.
	BatchMax int
	// BufferAlignment is the alignment O_DIRECT needs of buffers, offsets
	// and lengths on the device holding os.TempDir() (Linux: its logical
	// block size); a file on another device may need more. 0 if the kernel
	// needs none.
	BufferAlignment int
}

// SystemLimits reports the limits of the kernel AIO this package drives on
// this system, or ErrNotSupported where it drives none (the portable
// backend then serves DefaultBackend).
func SystemLimits() (Limits, error) { return systemLimits() }

var alignment = sync.OnceValue(func() int {
	l, err := SystemLimits()
	if err != nil || l.BufferAlignment <= 0 {
		return 4096
	}
	return l.BufferAlignment
})

// AlignedBuffer returns n bytes whose start is aligned for O_DIRECT on this
// system (SystemLimits().BufferAlignment, or 4096 where that is 0 or
// unknown) and that cross no more page boundaries than they must: a buffer
// of up to a page lies within one page, a larger one starts on a page
// boundary. A buffer that straddles pages needlessly costs the kernel an
// extra page to pin and the device an extra segment on every transfer. The
// memory is ordinary Go heap memory, which the garbage collector never
// moves; it lives as long as the slice is referenced. For n <= 0 it is an
// empty slice.
//
// It allocates up to n plus the alignment. A size no buffer can have (n
// plus the alignment beyond math.MaxInt, or more than make accepts) panics,
// as make does, with a message naming AlignedBuffer and n; it never
// returns a buffer shorter than n. A size make accepts but memory cannot
// hold ends the program, as make's does.
func AlignedBuffer(n int) []byte {
	if n <= 0 {
		return []byte{}
	}
	a := alignment()
	if n > pageSize {
		a = max(a, pageSize)
	} else {
		a = max(a, 1<<bits.Len(uint(n-1)))
	}
	if n > math.MaxInt-a {
		panic(fmt.Sprintf("aio: AlignedBuffer(%d): size out of range (plus the alignment, %d, it overflows int)", n, a))
	}
	b := makeAligned(n, a)
	off := (a - int(uintptr(unsafe.Pointer(&b[0]))%uintptr(a))) % a
	return b[off : off+n : off+n]
}

// makeAligned makes n+a bytes, turning make's panic for a length out of
// range into one that names AlignedBuffer and n.
func makeAligned(n, a int) []byte {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("aio: AlignedBuffer(%d): size out of range: %v", n, r))
		}
	}()
	return make([]byte, n+a)
}

var pageSize = os.Getpagesize()

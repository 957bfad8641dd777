// SPDX-License-Identifier: BSD-2-Clause

// Package pin owns every use of runtime.Pinner in fileaio. A Set pins the
// memory of one request (its control block, buffers and iovec array) while
// the kernel may touch it, and unpins all of it at once.
//
// A Set that still pins must stay reachable (an unreachable runtime.Pinner
// that still pins crashes the process): keep it inside the object that the
// owner's in-flight table references.
package pin

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

var live atomic.Int64

// Live returns the number of pins held by all Sets together. Tests assert
// that it returns to zero.
func Live() int64 { return live.Load() }

// Set is a group of pins released together. The zero value is ready to use.
// A Set is not safe for concurrent use.
type Set struct {
	p runtime.Pinner
	n int64
	t tracked
}

// Pin pins the object p points into; size is the length of the region the
// kernel will use, recorded for Covers under the fbsdmodel build. A nil p or
// a zero size pins nothing.
func (s *Set) Pin(p unsafe.Pointer, size uintptr) {
	if p == nil || size == 0 {
		return
	}
	s.p.Pin(p)
	s.t.add(p, size)
	s.n++
	live.Add(1)
}

// Bytes pins b's backing array; an empty b needs no pin.
func (s *Set) Bytes(b []byte) {
	if len(b) == 0 {
		return
	}
	s.Pin(unsafe.Pointer(&b[0]), uintptr(len(b)))
}

// Len reports how many pins the Set holds.
func (s *Set) Len() int { return int(s.n) }

// Unpin releases every pin of the Set. Calling it on an empty Set does
// nothing, so it is safe to call exactly once per collected completion.
func (s *Set) Unpin() {
	if s.n == 0 {
		return
	}
	s.t.clear()
	s.p.Unpin()
	live.Add(-s.n)
	s.n = 0
}

//go:build (freebsd || linux) && (amd64 || arm64)

package aio

// The kernel backends (FreeBSD's and Linux's) identify a job to the kernel
// by an integer, never a Go pointer.

// token packs a slot and its generation into the integer that travels
// through the kernel (sigev_value, io_event data); never a Go pointer.
func token(slot, gen uint32) uint64 { return uint64(gen)<<32 | uint64(slot) }

func untoken(t uint64) (slot, gen uint32) { return uint32(t), uint32(t >> 32) }

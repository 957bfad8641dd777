//go:build linux

package fbsdmodel

import (
	"encoding/binary"
	"unsafe"
)

// The kernel's view of FreeBSD's structures (freebsd-abi.md §1; amd64 and
// arm64 agree).
const (
	aiocbSize    = 160
	offFildes    = 0  // int32
	offOffset    = 8  // int64
	offBuf       = 16 // pointer; the iovec array for LIO_READV/LIO_WRITEV
	offNbytes    = 24 // uint64; the iovec count for LIO_READV/LIO_WRITEV
	offOpcode    = 48 // int32
	offStatus    = 56 // int64, _aiocb_private.status
	offError     = 64 // int64, _aiocb_private.error
	offKinfo     = 72 // pointer-sized, _aiocb_private.kernelinfo (written by 13.x and 14.x only)
	offNotify    = 80 // int32, sigev_notify
	offSigKqueue = 84 // int32, sigev_notify_kqueue (sigev_signo)
	offSigValue  = 88 // uint64, sigev_value
	offKevFlags  = 96 // uint16, sigev_notify_kevent_flags

	keventSize  = 64 // ident@0, filter@8, flags@10, fflags@12, data@16, udata@24, ext@32
	iovecSize   = 16 // base@0, len@8
	pointerSize = 8
)

var ne = binary.NativeEndian

// kaiocb is the kernel's copy of a user aiocb, taken at submission (§A.2).
type kaiocb [aiocbSize]byte

func (c *kaiocb) fildes() int      { return int(int32(ne.Uint32(c[offFildes:]))) }
func (c *kaiocb) offset() int64    { return int64(ne.Uint64(c[offOffset:])) }
func (c *kaiocb) buf() uintptr     { return uintptr(ne.Uint64(c[offBuf:])) }
func (c *kaiocb) nbytes() uint64   { return ne.Uint64(c[offNbytes:]) }
func (c *kaiocb) opcode() int      { return int(int32(ne.Uint32(c[offOpcode:]))) }
func (c *kaiocb) setOpcode(op int) { ne.PutUint32(c[offOpcode:], uint32(op)) }
func (c *kaiocb) notify() int      { return int(int32(ne.Uint32(c[offNotify:]))) }
func (c *kaiocb) sigKqueue() int   { return int(int32(ne.Uint32(c[offSigKqueue:]))) }
func (c *kaiocb) sigValue() uint64 { return ne.Uint64(c[offSigValue:]) }
func (c *kaiocb) kevFlags() uint16 { return ne.Uint16(c[offKevFlags:]) }

// copyin copies n bytes of user memory at p into the kernel.
func copyin(p unsafe.Pointer, n int) []byte {
	b := make([]byte, n)
	copy(b, unsafe.Slice((*byte)(p), n))
	return b
}

func load16(p unsafe.Pointer, off uintptr) uint16     { return *(*uint16)(unsafe.Add(p, off)) }
func load32(p unsafe.Pointer, off uintptr) uint32     { return *(*uint32)(unsafe.Add(p, off)) }
func load64(p unsafe.Pointer, off uintptr) uint64     { return *(*uint64)(unsafe.Add(p, off)) }
func store64(p unsafe.Pointer, off uintptr, v uint64) { *(*uint64)(unsafe.Add(p, off)) = v }

// loadPtr reads a user pointer field. It is used only where the kernel must
// follow the pointer during the call (list arrays, iovec arrays).
func loadPtr(p unsafe.Pointer, off uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(p, off))
}

// kevent is one struct kevent as the kernel reads and writes it.
type kevent struct {
	ident  uintptr
	filter int16
	flags  uint16
	fflags uint32
	data   int64
	udata  uint64
}

func loadKevent(p unsafe.Pointer, i int) kevent {
	e := unsafe.Add(p, i*keventSize)
	return kevent{
		ident:  uintptr(load64(e, 0)),
		filter: int16(load16(e, 8)),
		flags:  load16(e, 10),
		fflags: load32(e, 12),
		data:   int64(load64(e, 16)),
		udata:  load64(e, 24),
	}
}

func storeKevent(p unsafe.Pointer, i int, ev kevent) {
	e := unsafe.Add(p, i*keventSize)
	store64(e, 0, uint64(ev.ident))
	*(*int16)(unsafe.Add(e, 8)) = ev.filter
	*(*uint16)(unsafe.Add(e, 10)) = ev.flags
	*(*uint32)(unsafe.Add(e, 12)) = ev.fflags
	store64(e, 16, uint64(ev.data))
	store64(e, 24, ev.udata)
	for off := uintptr(32); off < keventSize; off += 8 {
		store64(e, off, 0)
	}
}

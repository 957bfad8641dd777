// Linux's kernel AIO structures for little-endian 64-bit machines, written
// by hand from include/uapi/linux/aio_abi.h. The assertions at the end fail
// the build if a size or an offset differs from that header's layout.

//go:build linux && (amd64 || arm64)

package sys

import "unsafe"

// Iocb is struct iocb. The kernel copies it in during io_submit and writes
// Key back into it there; afterwards it uses the iocb's address as the
// job's identity (IoEvent.Obj, and what io_cancel looks up, reading Key
// again). Buf is an address kept as an integer, so the garbage collector
// does not see it: the caller keeps the memory it names alive and in place.
type Iocb struct {
	Data      uint64 // aio_data: returned unchanged as IoEvent.Data
	Key       uint32 // aio_key: set by the kernel during io_submit
	RwFlags   int32  // aio_rw_flags: RWF_* flags
	LioOpcode uint16 // aio_lio_opcode: IOCB_CMD_*
	Reqprio   int16  // aio_reqprio: I/O priority, with IOCB_FLAG_IOPRIO
	Fildes    uint32 // aio_fildes
	Buf       uint64 // aio_buf: buffer address; iovec array for PREADV/PWRITEV; event mask for POLL
	Nbytes    uint64 // aio_nbytes: byte count; iovec count for PREADV/PWRITEV
	Offset    int64  // aio_offset
	Reserved  uint64 // aio_reserved2: must be zero
	Flags     uint32 // aio_flags: IOCB_FLAG_*
	Resfd     uint32 // aio_resfd: eventfd signalled on completion, with IOCB_FLAG_RESFD
}

// IoEvent is struct io_event, one completion read by io_getevents.
type IoEvent struct {
	Data uint64 // the iocb's aio_data
	Obj  uint64 // the address of the iocb that was submitted
	Res  int64  // the result: bytes transferred (POLL: the event mask), or -errno
	Res2 int64  // a secondary result, 0 for file I/O
}

// Values of Iocb.LioOpcode, from enum in aio_abi.h (4 was never released).
const (
	IOCB_CMD_PREAD   = 0
	IOCB_CMD_PWRITE  = 1
	IOCB_CMD_FSYNC   = 2
	IOCB_CMD_FDSYNC  = 3
	IOCB_CMD_POLL    = 5
	IOCB_CMD_NOOP    = 6
	IOCB_CMD_PREADV  = 7
	IOCB_CMD_PWRITEV = 8
)

// Bits of Iocb.Flags.
const (
	IOCB_FLAG_RESFD  = 1 << 0 // signal the eventfd in Resfd on completion
	IOCB_FLAG_IOPRIO = 1 << 1 // Reqprio holds an I/O priority
)

// Each line fails to compile unless the size or offset it names equals the
// layout of aio_abi.h: a smaller value overflows uintptr, a larger one
// indexes past eq.
func _() {
	var eq [1]struct{}
	var cb Iocb
	var ev IoEvent

	_ = eq[unsafe.Sizeof(cb)-64]
	_ = eq[unsafe.Offsetof(cb.Data)-0]
	_ = eq[unsafe.Offsetof(cb.Key)-8]
	_ = eq[unsafe.Offsetof(cb.RwFlags)-12]
	_ = eq[unsafe.Offsetof(cb.LioOpcode)-16]
	_ = eq[unsafe.Offsetof(cb.Reqprio)-18]
	_ = eq[unsafe.Offsetof(cb.Fildes)-20]
	_ = eq[unsafe.Offsetof(cb.Buf)-24]
	_ = eq[unsafe.Offsetof(cb.Nbytes)-32]
	_ = eq[unsafe.Offsetof(cb.Offset)-40]
	_ = eq[unsafe.Offsetof(cb.Reserved)-48]
	_ = eq[unsafe.Offsetof(cb.Flags)-56]
	_ = eq[unsafe.Offsetof(cb.Resfd)-60]

	_ = eq[unsafe.Sizeof(ev)-32]
	_ = eq[unsafe.Offsetof(ev.Data)-0]
	_ = eq[unsafe.Offsetof(ev.Obj)-8]
	_ = eq[unsafe.Offsetof(ev.Res)-16]
	_ = eq[unsafe.Offsetof(ev.Res2)-24]
}

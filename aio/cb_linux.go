//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"unsafe"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// controlBlock is what a request keeps for the Linux backend: the iovec
// array of vectored requests, kept for reuse. The iocb itself is not in the
// Request: the backend keeps one per slot outside the Go heap (the kernel
// writes it during io_submit and its address identifies the job until the
// event is reaped), so the Request needs no pin.
type controlBlock struct {
	iov []unix.Iovec
}

// fill describes r in iocb, tagged with data. A vectored request gets its
// iovec array built in cb.iov and pinned with r's other pins.
func (cb *controlBlock) fill(iocb *sys.Iocb, r *Request, data uint64) {
	*iocb = sys.Iocb{Data: data, Fildes: uint32(r.fd), Offset: r.off}
	switch r.op {
	case opRead:
		iocb.LioOpcode = sys.IOCB_CMD_PREAD
		iocb.Buf, iocb.Nbytes = bytesAddr(r.buf), uint64(len(r.buf))
	case opWrite:
		iocb.LioOpcode = sys.IOCB_CMD_PWRITE
		iocb.Buf, iocb.Nbytes = bytesAddr(r.buf), uint64(len(r.buf))
	case opReadv:
		iocb.LioOpcode = sys.IOCB_CMD_PREADV
		iocb.Buf, iocb.Nbytes = cb.vectors(r), uint64(len(r.bufs))
	case opWritev:
		iocb.LioOpcode = sys.IOCB_CMD_PWRITEV
		iocb.Buf, iocb.Nbytes = cb.vectors(r), uint64(len(r.bufs))
	case opFlush:
		iocb.LioOpcode, iocb.Offset = sys.IOCB_CMD_FSYNC, 0
	case opDataSync:
		iocb.LioOpcode, iocb.Offset = sys.IOCB_CMD_FDSYNC, 0
	}
}

// vectors builds the iovec array for r.bufs, pins it, and returns its
// address (0 when r.bufs is empty).
func (cb *controlBlock) vectors(r *Request) uint64 {
	if cap(cb.iov) < len(r.bufs) {
		cb.iov = make([]unix.Iovec, len(r.bufs))
	}
	iov := cb.iov[:len(r.bufs)]
	for i, b := range r.bufs {
		iov[i] = unix.Iovec{}
		if len(b) > 0 {
			iov[i].Base = &b[0]
		}
		iov[i].SetLen(len(b))
	}
	if len(iov) == 0 {
		return 0
	}
	r.pins.Pin(unsafe.Pointer(&iov[0]), uintptr(len(iov))*unsafe.Sizeof(iov[0]))
	return uint64(uintptr(unsafe.Pointer(&iov[0])))
}

// bytesAddr is the address of b's first byte, or 0 for an empty b.
func bytesAddr(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

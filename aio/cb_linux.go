//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"unsafe"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// controlBlock is a request's kernel AIO control block. It lives inside the
// Request, so pinning the request pins the iocb, which the kernel writes
// during io_submit and whose address identifies the job until its event is
// reaped. iov is the iovec array of vectored requests, kept for reuse.
type controlBlock struct {
	iocb sys.Iocb
	iov  []unix.Iovec
}

// fill describes r in its iocb, tagged with data. A vectored request gets
// its iovec array built in cb.iov and pinned with r's other pins.
func (cb *controlBlock) fill(r *Request, data uint64) {
	cb.iocb = sys.Iocb{Data: data, Fildes: uint32(r.fd), Offset: r.off}
	switch r.op {
	case opRead:
		cb.iocb.LioOpcode = sys.IOCB_CMD_PREAD
		cb.iocb.Buf, cb.iocb.Nbytes = bytesAddr(r.buf), uint64(len(r.buf))
	case opWrite:
		cb.iocb.LioOpcode = sys.IOCB_CMD_PWRITE
		cb.iocb.Buf, cb.iocb.Nbytes = bytesAddr(r.buf), uint64(len(r.buf))
	case opReadv:
		cb.iocb.LioOpcode = sys.IOCB_CMD_PREADV
		cb.iocb.Buf, cb.iocb.Nbytes = cb.vectors(r), uint64(len(r.bufs))
	case opWritev:
		cb.iocb.LioOpcode = sys.IOCB_CMD_PWRITEV
		cb.iocb.Buf, cb.iocb.Nbytes = cb.vectors(r), uint64(len(r.bufs))
	case opFlush:
		cb.iocb.LioOpcode, cb.iocb.Offset = sys.IOCB_CMD_FSYNC, 0
	case opDataSync:
		cb.iocb.LioOpcode, cb.iocb.Offset = sys.IOCB_CMD_FDSYNC, 0
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

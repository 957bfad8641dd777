//go:build linux

package fbsdmodel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A disk without unmapped I/O takes one pbuf per iovec of each bio job,
// and a submission that would take the process past vfs.aio.max_buf_aio
// of them in flight is refused with EAGAIN (aio_qbio, §D): status -1 and
// EAGAIN in the aiocb, no knote. Jobs of other files, and smaller disk
// jobs that still fit, are queued meanwhile, also later in the same
// lio_listio list (which then fails with EAGAIN). The pbufs come back when
// the bios complete, before aio_return. Disks with unmapped I/O (the
// default) take no pbufs.
func TestDiskMaxBufAIO(t *testing.T) {
	e := newEnv(t, Config{})
	disk := loopDisk(t, 1<<20, []byte("0123456789abcdef"))
	dfd := int(disk.Fd())
	sector := sectorSize(dfd)

	// Unmapped: 20 disk reads in flight at once are all queued.
	e.k.Hold()
	var all []*aiocb
	for i := range 20 {
		cb := e.cb(dfd, int64(i)*4096, e.buf(4096), EV_ONESHOT)
		e.submit(e.k.AioRead, cb)
		all = append(all, cb)
	}
	e.k.Release()
	e.harvest(len(all))
	for _, cb := range all {
		e.ret(cb)
	}

	if old := e.k.SetMappedDisks(true); old {
		t.Fatal("SetMappedDisks reported mapped disks before it was called")
	}
	e.k.Hold()
	all = all[:0]
	for i := range maxBufAIO - 2 {
		cb := e.cb(dfd, int64(i)*4096, e.buf(4096), EV_ONESHOT)
		e.submit(e.k.AioRead, cb)
		all = append(all, cb)
	}
	// A vectored read of 3 iovecs does not fit in the 2 pbufs left.
	vec := e.buf(3 * sector)
	iov := []iovec{{unsafe.Pointer(&vec[0]), uint64(sector)}, {unsafe.Pointer(&vec[sector]), uint64(sector)}, {unsafe.Pointer(&vec[2*sector]), uint64(sector)}}
	e.pins.Pin(unsafe.Pointer(&iov[0]), uintptr(len(iov))*iovecSize)
	readv := e.cb(dfd, 0, nil, EV_ONESHOT)
	readv.buf, readv.nbytes = unsafe.Pointer(&iov[0]), uint64(len(iov))
	if err := e.k.AioReadv(unsafe.Pointer(readv)); err != unix.EAGAIN || readv.status != -1 || readv.err != int64(unix.EAGAIN) {
		t.Fatalf("aio_readv of 3 iovecs with 2 pbufs left = %v, status/error %d/%d; want EAGAIN, -1/%d", err, readv.status, readv.err, unix.EAGAIN)
	}
	// A list: a disk read (fits: 1 left), a disk read (does not), a read
	// of a regular file (no pbufs), in that order.
	d1 := e.cb(dfd, 0, e.buf(4096), EV_ONESHOT)
	d2 := e.cb(dfd, 4096, e.buf(4096), EV_ONESHOT)
	d3 := e.cb(dfd, 8192, e.buf(4096), EV_ONESHOT)
	f1 := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
	for _, cb := range []*aiocb{d1, d2, d3, f1} {
		cb.opcode = LIO_READ
	}
	list := []unsafe.Pointer{unsafe.Pointer(d1), unsafe.Pointer(d2), unsafe.Pointer(d3), unsafe.Pointer(f1)}
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), len(list), nil); err != unix.EAGAIN {
		t.Fatalf("lio_listio past max_buf_aio = %v, want EAGAIN", err)
	}
	for i, want := range []int64{int64(unix.EINPROGRESS), int64(unix.EINPROGRESS), int64(unix.EAGAIN), int64(unix.EINPROGRESS)} {
		if cb := (*aiocb)(list[i]); cb.err != want {
			t.Errorf("list entry %d: error %d, want %d", i, cb.err, want)
		}
	}
	if n, _ := e.k.SysctlUint32("vfs.aio.num_buf_aio"); n != maxBufAIO {
		t.Fatalf("vfs.aio.num_buf_aio = %d with every pbuf taken, want %d", n, maxBufAIO)
	}
	all = append(all, d1, d2, f1)
	e.k.Release()
	e.harvest(len(all))
	if n, _ := e.k.SysctlUint32("vfs.aio.num_buf_aio"); n != 0 {
		t.Fatalf("vfs.aio.num_buf_aio = %d once every job completed (none aio_returned yet), want 0", n)
	}
	for _, cb := range all {
		e.ret(cb)
	}
	// With the pbufs back, the refused ones go.
	e.submit(e.k.AioReadv, readv)
	e.submit(e.k.AioRead, d3)
	e.harvest(2)
	if n := e.ret(readv); n != 3*sector {
		t.Fatalf("aio_return of the readv = %d, want %d", n, 3*sector)
	}
	e.ret(d3)

	// max_buf_aio is a sysctl: at 1, a second disk job is refused.
	if err := e.k.SetSysctl("vfs.aio.max_buf_aio", 1); err != nil {
		t.Fatal(err)
	}
	e.k.Hold()
	e.submit(e.k.AioRead, d1)
	if err := e.k.AioRead(unsafe.Pointer(d2)); err != unix.EAGAIN {
		t.Fatalf("second disk read with vfs.aio.max_buf_aio=1: %v, want EAGAIN", err)
	}
	e.k.Release()
	e.harvest(1)
	e.ret(d1)
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("%d jobs outstanding", n)
	}
	e.noViolations()
}

//go:build linux

package fbsdmodel

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/fileaio/fileaio/internal/loopdisk"
	"golang.org/x/sys/unix"
)

// loopDisk is a disk of size bytes holding pattern repeated (loopdisk.Attach).
func loopDisk(t *testing.T, size int, pattern []byte) *os.File {
	t.Helper()
	return loopdisk.Attach(t, bytes.Repeat(pattern, size/len(pattern)))
}

// A disk (the host's block device) is served on the bio path for requests
// of a disk's shape and refused as unsafe for the rest, flushes included
// (aio_qbio, aio_queue_file; §F.1); aio_cancel on a disk answers
// AIO_NOTCANCELED (sys_aio_cancel's vn_isdisk).
func TestDiskBioPath(t *testing.T) {
	e := newEnv(t, Config{})
	pattern := []byte("0123456789abcdef")
	disk := loopDisk(t, 1<<20, pattern)
	fd := int(disk.Fd())
	sector := sectorSize(fd)
	if sector <= 0 || 4096%sector != 0 {
		t.Fatalf("sector size %d", sector)
	}

	e.k.Hold()
	held := e.cb(fd, 4096, e.buf(4096), EV_ONESHOT)
	e.submit(e.k.AioRead, held)
	if v, err := e.k.AioCancel(fd, unsafe.Pointer(held)); v != AIO_NOTCANCELED || err != nil {
		t.Fatalf("aio_cancel of a queued disk job = %d, %v; want AIO_NOTCANCELED", v, err)
	}
	e.k.Release()
	vec := e.buf(2 * sector)
	iov := []iovec{{unsafe.Pointer(&vec[0]), uint64(sector)}, {unsafe.Pointer(&vec[sector]), uint64(sector)}}
	e.pins.Pin(unsafe.Pointer(&iov[0]), uintptr(len(iov))*iovecSize)
	readv := e.cb(fd, 0, nil, EV_ONESHOT)
	readv.buf, readv.nbytes = unsafe.Pointer(&iov[0]), uint64(len(iov))
	e.submit(e.k.AioReadv, readv)
	e.harvest(2)
	if n := e.ret(held); n != 4096 {
		t.Fatalf("aio_return of the disk read = %d, want 4096", n)
	}
	if n := e.ret(readv); n != 2*sector {
		t.Fatalf("aio_return of the disk readv = %d, want %d", n, 2*sector)
	}
	if want := bytes.Repeat(pattern, 2*sector/len(pattern)); !bytes.Equal(vec, want) {
		t.Fatalf("disk readv read %q, want %q", vec[:32], want[:32])
	}

	refused := []struct {
		name string
		call func(unsafe.Pointer) error
		cb   *aiocb
	}{
		{"a read of part of a sector", e.k.AioRead, e.cb(fd, 0, e.buf(sector/2), EV_ONESHOT)},
		{"a read longer than maxphys", e.k.AioRead, e.cb(fd, 0, e.buf(2*maxphys), EV_ONESHOT)},
		{"a flush", func(cb unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, cb) }, e.cb(fd, 0, nil, EV_ONESHOT)},
	}
	for _, r := range refused {
		if err := r.call(unsafe.Pointer(r.cb)); !errors.Is(err, unix.EOPNOTSUPP) {
			t.Errorf("%s on a disk: %v, want EOPNOTSUPP", r.name, err)
		}
	}
	e.noViolations()
}

// A vectored job without iovecs on a disk goes the bio path, which issues
// no bio for it, so it never completes (aio_qbio: the job completes when
// its last bio does); aio_error answers EINPROGRESS for ever. A plain read
// of 0 bytes is one empty bio, and completes.
func TestDiskEmptyVectoredNeverCompletes(t *testing.T) {
	e := newEnv(t, Config{})
	disk := loopDisk(t, 1<<20, []byte("0123456789abcdef"))
	fd := int(disk.Fd())
	empty := e.cb(fd, 0, nil, EV_ONESHOT)
	e.submit(e.k.AioRead, empty)
	e.harvest(1)
	if n := e.ret(empty); n != 0 {
		t.Fatalf("aio_return of an empty read = %d, want 0", n)
	}
	stuck := e.cb(fd, 0, nil, EV_ONESHOT)
	e.submit(e.k.AioReadv, stuck)
	if evs, err := e.kevent(nil, 1, &timespec{nsec: 50e6}); len(evs) != 0 || err != nil {
		t.Fatalf("kevent = %v, %v; want no event", evs, err)
	}
	if v, _ := e.k.AioError(unsafe.Pointer(stuck)); v != int(unix.EINPROGRESS) {
		t.Fatalf("aio_error of the stuck job = %d, want EINPROGRESS", v)
	}
	if n := e.k.Outstanding(); n != 1 {
		t.Fatalf("%d jobs outstanding, want the stuck one", n)
	}
}

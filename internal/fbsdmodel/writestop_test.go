//go:build linux

package fbsdmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A write that crosses the point where the file's device is full (or
// that fails otherwise partway) ends as the file system answers it and as
// aio_process_rw turns that into the job's result: ZFS reports the bytes
// it wrote and no error; UFS undoes the write and reports the error; a
// file system that fails after writing some bytes has aio_process_rw keep
// the error and drop the count, unless the error is EINTR or EWOULDBLOCK.
// A write that moves nothing fails in every case.
func TestStopWritesAt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		how      WriteStop
		errno    syscall.Errno
		wantN    int           // aio_return of the write across the point
		wantErr  syscall.Errno // its errno
		wantSize int64         // the file's size afterwards
	}{
		{"ZFS, device full", StopShort, unix.ENOSPC, 1500, 0, 3000},
		{"UFS, device full", StopUndo, unix.ENOSPC, -1, unix.ENOSPC, 1500},
		{"error after bytes moved", StopFail, unix.ENOSPC, -1, unix.ENOSPC, 3000},
		{"EINTR after bytes moved", StopFail, unix.EINTR, 1500, 0, 3000},
		{"EWOULDBLOCK after bytes moved", StopFail, unix.EWOULDBLOCK, 1500, 0, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			f, err := os.OpenFile(filepath.Join(t.TempDir(), "full"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			if err := e.k.StopWritesAt(fd, 3000, tc.how, tc.errno); err != nil {
				t.Fatal(err)
			}
			first := e.cb(fd, 0, bytes.Repeat([]byte{'a'}, 1500), EV_ONESHOT)
			e.submit(e.k.AioWrite, first)
			e.harvest(1)
			if n := e.ret(first); n != 1500 {
				t.Fatalf("write below the point: %d, want 1500", n)
			}
			// Across the point, as a writev of two buffers.
			b1, b2 := bytes.Repeat([]byte{'b'}, 1000), bytes.Repeat([]byte{'c'}, 2000)
			e.pins.Bytes(b1)
			e.pins.Bytes(b2)
			iov := []iovec{{unsafe.Pointer(&b1[0]), 1000}, {unsafe.Pointer(&b2[0]), 2000}}
			e.pins.Pin(unsafe.Pointer(&iov[0]), uintptr(len(iov))*iovecSize)
			across := e.cb(fd, 1500, nil, EV_ONESHOT)
			across.buf, across.nbytes = unsafe.Pointer(&iov[0]), 2
			e.submit(e.k.AioWritev, across)
			if evs := e.harvest(1); evs[0].data != int64(tc.wantErr) {
				t.Errorf("kevent data %d, want %d", evs[0].data, tc.wantErr)
			}
			n, err := e.k.AioReturn(unsafe.Pointer(across))
			if n != tc.wantN || errOf(tc.wantErr) != err {
				t.Fatalf("aio_return of the write across the point = %d, %v; want %d, %v", n, err, tc.wantN, errOf(tc.wantErr))
			}
			if st, _ := f.Stat(); st.Size() != tc.wantSize {
				t.Fatalf("file size %d, want %d", st.Size(), tc.wantSize)
			}
			// At the point nothing moves: the error, whatever the answer.
			at := e.cb(fd, 3000, []byte("x"), EV_ONESHOT)
			e.submit(e.k.AioWrite, at)
			e.harvest(1)
			if n, err := e.k.AioReturn(unsafe.Pointer(at)); n != -1 || err != tc.errno {
				t.Fatalf("aio_return of a write at the point = %d, %v; want -1, %v", n, err, tc.errno)
			}
			// Reads are not touched, nor writes once the stop is lifted.
			if err := e.k.StopWritesAt(fd, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			e.submit(e.k.AioWrite, at)
			e.harvest(1)
			if n := e.ret(at); n != 1 {
				t.Fatalf("write after the stop was lifted: %d, want 1", n)
			}
			e.noViolations()
		})
	}
}

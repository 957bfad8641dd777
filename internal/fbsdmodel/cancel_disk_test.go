//go:build linux

package fbsdmodel

import (
	"testing"
	"unsafe"
)

// sys_aio_cancel looks at the process's AIO state before the disk test: a
// process that has made no AIO call yet gets AIO_ALLDONE on any open
// descriptor, a disk's included; once it has, a disk's descriptor answers
// AIO_NOTCANCELED (vn_isdisk), with or without an aiocb.
func TestCancelOnDiskBeforeAnyAIO(t *testing.T) {
	e := newEnv(t, Config{})
	disk := loopDisk(t, 1<<16, []byte("0123456789abcdef"))
	fd := int(disk.Fd())
	for _, cb := range []unsafe.Pointer{nil, unsafe.Pointer(&aiocb{})} {
		if v, err := e.k.AioCancel(fd, cb); v != AIO_ALLDONE || err != nil {
			t.Fatalf("aio_cancel(disk, %p) before any AIO call = %d, %v; want AIO_ALLDONE", cb, v, err)
		}
	}
	w := e.write(0, 8, EV_ONESHOT) // the process's first AIO call
	for _, cb := range []unsafe.Pointer{nil, unsafe.Pointer(&aiocb{})} {
		if v, err := e.k.AioCancel(fd, cb); v != AIO_NOTCANCELED || err != nil {
			t.Fatalf("aio_cancel(disk, %p) after an AIO call = %d, %v; want AIO_NOTCANCELED", cb, v, err)
		}
	}
	e.harvest(1)
	e.ret(w)
}

//go:build linux

package fbsdmodel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From 15.0 on aio_init_aioinfo can fail: with no AIO daemon anywhere and
// none that kproc_create can start, the process's first AIO call fails
// with that error before it looks at an aiocb (lio_listio touches no
// entry; aio_read stores the errno and leaves status alone), and the
// state is made all the same, so the next call goes on. 13.x and 14.x
// cannot fail there.
func TestAIOInitFailure(t *testing.T) {
	for _, rel := range []int{Osreldate13, Osreldate14, Osreldate15} {
		e := newEnv(t, Config{Osreldate: rel})
		e.k.FailAIOInit(unix.EAGAIN)
		a := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		b := e.cb(e.fd, 8, e.buf(8), EV_ONESHOT)
		a.opcode, b.opcode = LIO_READ, LIO_READ
		list := []unsafe.Pointer{unsafe.Pointer(a), unsafe.Pointer(b)}
		err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 2, nil)
		if rel < Osreldate15 {
			if err != nil {
				t.Fatalf("%d: lio_listio = %v; want nil (aio_init_aioinfo cannot fail before 15.0)", rel, err)
			}
			e.harvest(2)
			e.ret(a)
			e.ret(b)
			continue
		}
		if err != unix.EAGAIN {
			t.Fatalf("%d: first lio_listio = %v; want EAGAIN", rel, err)
		}
		if a.status != 7 || a.err != 7 || b.status != 7 || b.err != 7 {
			t.Fatalf("%d: entries touched by a call that failed in aio_init_aioinfo: status/error %d/%d and %d/%d, want 7/7",
				rel, a.status, a.err, b.status, b.err)
		}
		if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 2, nil); err != nil {
			t.Fatalf("%d: second lio_listio = %v; want nil (the state was made by the first)", rel, err)
		}
		e.harvest(2)
		e.ret(a)
		e.ret(b)

		// The same for aio_read, as the process's first call after its exit.
		e.k.Exit()
		e.k.FailAIOInit(unix.EAGAIN)
		c := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		if err := e.k.AioRead(unsafe.Pointer(c)); err != unix.EAGAIN || c.err != int64(unix.EAGAIN) || c.status != 7 {
			t.Fatalf("%d: first aio_read = %v, status/error %d/%d; want EAGAIN, 7/%d", rel, err, c.status, c.err, unix.EAGAIN)
		}
		e.submit(e.k.AioRead, c)
		e.harvest(1)
		e.ret(c)
		e.noViolations()
	}
}

//go:build linux

package fbsdmodel

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// listio calls lio_listio on cbs (nil entries stay NULL).
func (e *env) listio(mode int, cbs []*aiocb, sig *aiocb) error {
	list := make([]unsafe.Pointer, len(cbs)+1)
	for i, cb := range cbs {
		if cb != nil {
			list[i] = unsafe.Pointer(cb)
		}
	}
	var s unsafe.Pointer
	if sig != nil {
		s = unsafe.Add(unsafe.Pointer(sig), offNotify) // the sigevent of a spare aiocb
	}
	return e.k.LioListio(mode, unsafe.Pointer(&list[0]), len(cbs), s)
}

func TestLioListioRefusedWhole(t *testing.T) {
	e := newEnv(t, Config{MaxQueuePerProc: 4})
	cases := []struct {
		name string
		mode int
		n    int
	}{
		{"bad mode", 2, 1},
		{"above the queue limit", LIO_NOWAIT, 5},
		{"negative count", LIO_NOWAIT, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cbs := make([]*aiocb, max(c.n, 1))
			for i := range cbs {
				cbs[i] = e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
			}
			list := make([]unsafe.Pointer, len(cbs))
			for i := range cbs {
				list[i] = unsafe.Pointer(cbs[i])
			}
			if err := e.k.LioListio(c.mode, unsafe.Pointer(&list[0]), c.n, nil); err != unix.EINVAL {
				t.Fatalf("lio_listio = %v, want EINVAL", err)
			}
			for _, cb := range cbs {
				if cb.status != 7 || cb.err != 7 {
					t.Fatalf("an entry was touched: status=%d error=%d", cb.status, cb.err)
				}
			}
		})
	}
	if err := e.listio(LIO_NOWAIT, nil, nil); err != nil {
		t.Fatalf("empty list = %v", err)
	}
}

func TestLioListioPerEntry(t *testing.T) {
	e := newEnv(t, Config{})
	entry := func(op int32, fd int) *aiocb {
		cb := e.cb(fd, 0, e.buf(8), EV_ONESHOT)
		cb.opcode = op
		return cb
	}
	good := entry(LIO_WRITE, e.fd)
	nop := entry(LIO_NOP, e.fd)
	nop.offset = -1 // LIO_NOP checks only the descriptor (§B)
	list := []*aiocb{
		good,
		nil,
		entry(LIO_READ, -1),
		nop,
		entry(LIO_SYNC, e.fd),
		entry(LIO_DSYNC, e.fd),
		entry(LIO_MLOCK, e.fd),
		entry(99, e.fd),
	}
	type outcome struct{ Status, Err int64 }
	want := []outcome{
		{-1, int64(unix.EINPROGRESS)},
		{},
		{-1, int64(unix.EBADF)},
		{-1, 0},
		{-1, int64(unix.EINVAL)},
		{-1, int64(unix.EINVAL)},
		{-1, int64(unix.EINVAL)},
		{-1, int64(unix.EINVAL)},
	}
	if err := e.listio(LIO_NOWAIT, list, nil); err != unix.EIO {
		t.Fatalf("lio_listio = %v, want EIO", err)
	}
	got := make([]outcome, len(list))
	for i, cb := range list {
		if cb != nil {
			got[i] = outcome{cb.status, cb.err}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status/error written into each entry (-want +got):\n%s", diff)
	}
	evs := e.harvest(1)
	if evs[0].ident != identOf(good) {
		t.Fatalf("event for %#x, want the queued entry", evs[0].ident)
	}
	for i, cb := range list[1:] {
		if cb == nil {
			continue
		}
		if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
			t.Errorf("aio_return of entry %d = %v, want EINVAL", i+1, err)
		}
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("%d more events", len(evs))
	}
	e.ret(good)
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d", n)
	}
}

func TestLioListioErrorPrecedence(t *testing.T) {
	cases := []struct {
		name   string
		badFd  bool // start the list with an entry on a bad descriptor
		nopBad bool // the list is one LIO_NOP entry on a bad descriptor
		want   syscall.Errno
	}{
		{"EAGAIN alone", false, false, unix.EAGAIN},
		{"EIO over EAGAIN", true, false, unix.EIO},
		{"LIO_NOP with a bad fd", false, true, unix.EIO},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{MaxQueuePerProc: 4})
			e.k.Hold()
			first := []*aiocb{e.write(64, 8, EV_ONESHOT), e.write(72, 8, EV_ONESHOT)} // room for two more
			entry := func(op int32, fd int) *aiocb {
				cb := e.cb(fd, 0, e.buf(8), EV_ONESHOT)
				cb.opcode = op
				return cb
			}
			var list []*aiocb
			switch {
			case c.nopBad:
				list = append(list, entry(LIO_NOP, -1))
			case c.badFd:
				list = append(list, entry(LIO_WRITE, -1))
			}
			if !c.nopBad {
				list = append(list, entry(LIO_WRITE, e.fd), entry(LIO_WRITE, e.fd), entry(LIO_WRITE, e.fd))
			}
			if err := e.listio(LIO_NOWAIT, list, nil); !errors.Is(err, c.want) {
				t.Fatalf("lio_listio = %v, want %v", err, c.want)
			}
			if c.nopBad || c.badFd {
				if list[0].err != int64(unix.EBADF) {
					t.Fatalf("bad entry holds error %d, want EBADF", list[0].err)
				}
				list = list[1:]
			}
			if !c.nopBad {
				if list[0].err != int64(unix.EINPROGRESS) || list[1].err != int64(unix.EINPROGRESS) || list[2].err != int64(unix.EAGAIN) {
					t.Fatalf("entries hold %d %d %d, want EINPROGRESS EINPROGRESS EAGAIN", list[0].err, list[1].err, list[2].err)
				}
				first = append(first, list[:2]...)
			}
			e.k.Release()
			e.harvest(len(first))
			for _, cb := range first {
				e.ret(cb)
			}
		})
	}
}

func TestLioListioWait(t *testing.T) {
	e := newEnv(t, Config{})
	var list []*aiocb
	for i := range 3 {
		cb := e.cb(e.fd, int64(i)*8, e.buf(8), EV_ONESHOT)
		cb.opcode = LIO_READ
		list = append(list, cb)
	}
	if err := e.listio(LIO_WAIT, list, nil); err != nil {
		t.Fatal(err)
	}
	for _, cb := range list {
		if v, _ := e.k.AioError(unsafe.Pointer(cb)); v != 0 {
			t.Fatalf("aio_error after LIO_WAIT = %d, want 0", v)
		}
	}
	if n := e.k.Outstanding(); n != 3 {
		t.Fatalf("LIO_WAIT collected jobs: Outstanding = %d", n)
	}
	e.harvest(3)
	for _, cb := range list {
		if e.ret(cb) != 8 {
			t.Fatal("short read")
		}
	}
}

func TestLioListioListKeventIsViolation(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.cb(e.fd, 0, e.buf(8), 0)
	cb.opcode, cb.notify = LIO_READ, SIGEV_NONE
	sig := &aiocb{notify: SIGEV_KEVENT, kq: int32(e.kq), value: 0x1234}
	list := []unsafe.Pointer{unsafe.Pointer(cb)}
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 1, unsafe.Add(unsafe.Pointer(sig), offNotify)); err != nil {
		t.Fatal(err)
	}
	e.wantViolation("EVFILT_LIO")
	ev := e.harvest(1)[0]
	if ev.filter != EVFILT_LIO || ev.ident != uintptr(unsafe.Pointer(&list[0])) || ev.udata != 0x1234 {
		t.Fatalf("list event %+v", ev)
	}
	e.ret(cb)
}

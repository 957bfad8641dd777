//go:build linux

package fbsdmodel

import (
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestResubmitIsViolation(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	cb := e.write(0, 10, EV_ONESHOT)
	e.submit(e.k.AioWrite, cb)
	e.wantViolation("submitted again")
	e.k.Release()
	e.finish(cb)
	e.harvest(1) // the second job shares the first one's knote (§A)
	e.ret(cb)
	e.finish(cb)
	e.ret(cb)
}

func TestSignalNotifyIsViolation(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.cb(e.fd, 0, e.buf(8), 0)
	cb.notify, cb.kq = SIGEV_SIGNAL, 30
	e.submit(e.k.AioRead, cb)
	e.wantViolation("signal notification")
	e.finish(cb)
	e.ret(cb)
}

func TestWaitcompleteIsViolation(t *testing.T) {
	e := newEnv(t, Config{})
	var got uintptr = 1
	if _, err := e.k.AioWaitcomplete(unsafe.Pointer(&got), unsafe.Pointer(poll)); err != unix.EAGAIN || got != 0 {
		t.Fatalf("poll with nothing done = %v, *cbp %#x; want EAGAIN, 0", err, got)
	}
	e.wantViolation("aio_waitcomplete")
	cb := e.write(0, 10, EV_ONESHOT)
	n, err := e.k.AioWaitcomplete(unsafe.Pointer(&got), nil)
	if n != 10 || err != nil || got != identOf(cb) || cb.status != 10 || cb.err != 0 {
		t.Fatalf("aio_waitcomplete = %d, %v, *cbp %#x; aiocb %d/%d", n, err, got, cb.status, cb.err)
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
		t.Fatalf("aio_return after aio_waitcomplete = %v, want EINVAL", err)
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatal("aio_waitcomplete left the kevent")
	}
}

func TestSuspendIsViolation(t *testing.T) {
	e := newEnv(t, Config{MaxQueuePerProc: 4})
	suspend := func(ts *timespec, cbs ...*aiocb) error {
		list := make([]unsafe.Pointer, len(cbs)+1)
		for i, cb := range cbs {
			list[i] = unsafe.Pointer(cb)
		}
		return e.k.AioSuspend(unsafe.Pointer(&list[0]), len(cbs), unsafe.Pointer(ts))
	}
	if err := suspend(poll, &aiocb{}); err != unix.EAGAIN {
		t.Fatalf("aio_suspend before any AIO call = %v, want EAGAIN", err)
	}
	e.wantViolation("aio_suspend")
	e.k.Hold()
	cb := e.write(0, 10, EV_ONESHOT)
	if err := suspend(poll, &aiocb{}); err != nil {
		t.Fatalf("aio_suspend on unknown aiocbs = %v, want nil", err)
	}
	if err := suspend(&timespec{nsec: 5e6}, cb, nil); err != unix.EAGAIN {
		t.Fatalf("aio_suspend on a queued job = %v, want EAGAIN", err)
	}
	e.k.Release()
	if err := suspend(nil, cb); err != nil {
		t.Fatal(err)
	}
	if e.k.Unreturned() != 1 {
		t.Fatal("aio_suspend collected the job")
	}
	if err := suspend(poll, make([]*aiocb, 5)...); err != unix.EINVAL {
		t.Fatalf("aio_suspend of 5 > limit = %v, want EINVAL", err)
	}
	e.harvest(1)
	e.ret(cb)
}

func TestCheck(t *testing.T) {
	e := newEnv(t, Config{})
	if err := e.k.Check(); err != nil {
		t.Fatal(err)
	}
	e.k.Hold()
	cb := e.write(0, 10, EV_ONESHOT)
	if err := e.k.Check(); err == nil || !strings.Contains(err.Error(), "1 jobs still unfinished") {
		t.Fatalf("Check with a queued job = %v", err)
	}
	e.k.Release()
	e.harvest(1)
	if e.k.Unreturned() != 1 {
		t.Fatalf("Unreturned = %d", e.k.Unreturned())
	}
	if err := e.k.Check(); err == nil || !strings.Contains(err.Error(), "never aio_returned") {
		t.Fatalf("Check with an unreturned job = %v", err)
	}
	e.ret(cb)
	e.submit(e.k.AioWrite, cb)
	e.submit(e.k.AioWrite, cb)
	e.harvest(1)
	e.ret(cb)
	e.finish(cb)
	e.ret(cb)
	if err := e.k.Check(); err == nil || !strings.Contains(err.Error(), "submitted again") {
		t.Fatalf("Check after a resubmission = %v", err)
	}
	e.k.ResetViolations()
	if err := e.k.Check(); err != nil {
		t.Fatalf("Check after ResetViolations = %v", err)
	}
}

// With two jobs under one aiocb (a resubmission, itself a violation),
// aio_return collects the one that finished first: kern_aio_return walks
// kaio_done, which is in completion order, not submission order (§D).
func TestAioReturnTakesFirstFinished(t *testing.T) {
	e := newEnv(t, Config{})
	other := e.file(os.O_RDWR)
	e.k.Hold()
	cb := e.write(0, 10, EV_ONESHOT)
	cb.fildes = int32(other.Fd())
	e.submit(e.k.AioWrite, cb) // the second job, on another descriptor
	e.wantViolation("submitted again")
	if r := e.cancel(int(other.Fd()), cb); r != AIO_CANCELED {
		t.Fatalf("aio_cancel of the second job = %d, want AIO_CANCELED", r)
	}
	e.k.Release()
	for end := time.Now().Add(5 * time.Second); e.k.Unreturned() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the first job never finished")
		}
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.ECANCELED {
		t.Fatalf("first aio_return = %v, want ECANCELED from the job that finished first", err)
	}
	if n := e.ret(cb); n != 10 {
		t.Fatalf("second aio_return = %d, want 10", n)
	}
}

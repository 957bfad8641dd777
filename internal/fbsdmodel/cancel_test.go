//go:build linux

package fbsdmodel

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitRunning waits until the workers hold n jobs.
func (e *env) waitRunning(n int) {
	e.t.Helper()
	for end := time.Now().Add(5 * time.Second); e.k.Running() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			e.t.Fatalf("Running = %d, want %d", e.k.Running(), n)
		}
	}
}

func (e *env) cancel(fd int, cb *aiocb) int {
	e.t.Helper()
	r, err := e.k.AioCancel(fd, unsafe.Pointer(cb))
	if err != nil {
		e.t.Fatalf("aio_cancel: %v", err)
	}
	return r
}

// A canceled job completes with ECANCELED and its kevent is already posted
// when aio_cancel returns (§C).
func TestCancelQueued(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	defer e.k.Release()
	a, b, c := e.write(0, 10, EV_ONESHOT), e.write(10, 10, EV_ONESHOT), e.write(20, 10, EV_ONESHOT)
	if r := e.cancel(e.fd, a); r != AIO_CANCELED {
		t.Fatalf("aio_cancel of a queued job = %d, want AIO_CANCELED", r)
	}
	evs, _ := e.kevent(nil, 4, poll)
	if len(evs) != 1 || evs[0].ident != identOf(a) || evs[0].data != int64(unix.ECANCELED) {
		t.Fatalf("after cancel: %+v, want one event with data ECANCELED", evs)
	}
	if v, _ := e.k.AioError(unsafe.Pointer(a)); v != int(unix.ECANCELED) {
		t.Fatalf("aio_error = %d, want ECANCELED", v)
	}
	if n, err := e.k.AioReturn(unsafe.Pointer(a)); n != -1 || !errors.Is(err, unix.ECANCELED) {
		t.Fatalf("aio_return = %d, %v", n, err)
	}
	if r := e.cancel(e.fd, a); r != AIO_ALLDONE {
		t.Fatalf("aio_cancel of a returned job = %d, want AIO_ALLDONE", r)
	}
	if r := e.cancel(e.kq, b); r != AIO_ALLDONE {
		t.Fatalf("aio_cancel with another fd number = %d, want AIO_ALLDONE", r)
	}
	if r := e.cancel(e.fd, &aiocb{}); r != AIO_ALLDONE {
		t.Fatalf("aio_cancel of a never submitted aiocb = %d, want AIO_ALLDONE", r)
	}
	if r := e.cancel(e.fd, nil); r != AIO_CANCELED {
		t.Fatalf("aio_cancel(fd, NULL) = %d, want AIO_CANCELED", r)
	}
	for _, ev := range e.harvest(2) {
		if ev.data != int64(unix.ECANCELED) {
			t.Fatalf("event %+v, want data ECANCELED", ev)
		}
	}
	for _, cb := range []*aiocb{b, c} {
		if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.ECANCELED {
			t.Fatalf("aio_return = %v, want ECANCELED", err)
		}
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d", n)
	}
}

func TestCancelRunningAndDone(t *testing.T) {
	e := newEnv(t, Config{Workers: 1})
	e.k.Stall()
	run := e.write(0, 10, EV_ONESHOT)
	e.waitRunning(1)
	queued := e.write(10, 10, EV_ONESHOT)
	if r := e.cancel(e.fd, run); r != AIO_NOTCANCELED {
		t.Fatalf("aio_cancel of a running job = %d, want AIO_NOTCANCELED", r)
	}
	if r := e.cancel(e.fd, nil); r != AIO_NOTCANCELED {
		t.Fatalf("aio_cancel(fd, NULL) with one running = %d, want AIO_NOTCANCELED", r)
	}
	if v, _ := e.k.AioError(unsafe.Pointer(queued)); v != int(unix.ECANCELED) {
		t.Fatalf("the queued job was not canceled by aio_cancel(fd, NULL): aio_error %d", v)
	}
	e.k.Unstall()
	e.harvest(2)
	if r := e.cancel(e.fd, run); r != AIO_ALLDONE {
		t.Fatalf("aio_cancel of a finished job = %d, want AIO_ALLDONE", r)
	}
	e.ret(run)
	if _, err := e.k.AioReturn(unsafe.Pointer(queued)); err != unix.ECANCELED {
		t.Fatalf("aio_return of the canceled job = %v", err)
	}
	if _, err := e.k.AioCancel(-1, nil); err != unix.EBADF {
		t.Fatalf("aio_cancel(-1) = %v, want EBADF", err)
	}
}

func TestFsyncWaitsForEarlierJobs(t *testing.T) {
	for _, op := range []int{O_SYNC, O_DSYNC} {
		e := newEnv(t, Config{Workers: 4})
		e.k.Hold()
		var writes []*aiocb
		for i := range 16 {
			writes = append(writes, e.write(int64(i)*100, 100, EV_ONESHOT))
		}
		sync := e.cb(e.fd, 0, nil, EV_ONESHOT)
		e.submit(func(p unsafe.Pointer) error { return e.k.AioFsync(op, p) }, sync)
		e.k.Release()
		evs := e.harvest(17)
		if evs[16].ident != identOf(sync) || evs[16].data != 0 {
			t.Fatalf("op %#x: fsync reported before an earlier write, or failed: %+v", op, evs[16])
		}
		for _, cb := range writes {
			e.ret(cb)
		}
		if n := e.ret(sync); n != 0 {
			t.Fatalf("aio_return of fsync = %d", n)
		}
	}
}

// An fsync parked behind a running job stays in progress and can be
// canceled (§C, §E).
func TestFsyncParked(t *testing.T) {
	e := newEnv(t, Config{Workers: 1})
	e.k.Stall()
	run := e.write(0, 10, EV_ONESHOT)
	e.waitRunning(1)
	sync := e.cb(e.fd, 0, nil, EV_ONESHOT)
	e.submit(func(p unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, p) }, sync)
	if v, _ := e.k.AioError(unsafe.Pointer(sync)); v != int(unix.EINPROGRESS) {
		t.Fatalf("parked fsync: aio_error %d", v)
	}
	if r := e.cancel(e.fd, sync); r != AIO_CANCELED {
		t.Fatalf("aio_cancel of a parked fsync = %d, want AIO_CANCELED", r)
	}
	e.k.Unstall()
	e.harvest(2)
	e.ret(run)
	if _, err := e.k.AioReturn(unsafe.Pointer(sync)); err != unix.ECANCELED {
		t.Fatalf("aio_return of canceled fsync = %v", err)
	}
}

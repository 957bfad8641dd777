//go:build linux

package fbsdmodel

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A kqueue is an open file like any other: kqfd_register and kern_kevent
// resolve the descriptor number they are given (fget) to the file, whatever
// number it is, and kqueue_close runs only when the last reference to the
// file goes. So a dup of a kqueue's descriptor names the same kqueue, and
// closing one of two descriptors closes nothing.
func TestKqueueIsItsOpenFile(t *testing.T) {
	e := newEnv(t, Config{})
	d, err := unix.FcntlInt(uintptr(e.kq), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)

	// sigev_notify_kqueue naming the dup: the job reports to the kqueue.
	e.k.Hold()
	cb := e.cb(e.fd, 0, e.buf(16), EV_ONESHOT)
	cb.kq = int32(d)
	if err := e.k.AioRead(unsafe.Pointer(cb)); err != nil {
		t.Fatalf("aio_read with sigev_notify_kqueue = a dup of the kqueue: %v, want it queued", err)
	}

	// The original number closes; the dup keeps the kqueue open, so the
	// job still reports to it, and nothing was closed with it in flight.
	unix.Close(e.kq)
	e.kq = d
	if _, err := e.k.Kevent(d, nil, 0, nil, 0, nil); err != nil {
		t.Fatalf("kevent on the dup after the original number closed: %v", err)
	}
	e.k.Release()
	evs := e.harvest(1)
	if evs[0].ident != identOf(cb) || evs[0].filter != EVFILT_AIO {
		t.Fatalf("event %+v, want the read's", evs[0])
	}
	e.ret(cb)
	for _, v := range e.k.Violations() {
		t.Errorf("violation: %s", v)
	}

	// The last descriptor closes with a job in flight: now the kqueue is
	// gone, and the job completes without notification.
	e.k.Hold()
	late := e.write(0, 4, EV_ONESHOT)
	unix.Close(d)
	e.wantViolation("closed while 1 jobs")
	e.k.Release()
	if v := e.finish(late); v != 0 {
		t.Fatalf("aio_error of the job after its kqueue closed = %d", v)
	}
	e.ret(late)
	e.kq = e.kqueue()
}

// A kqueue's number closed and taken by another kqueue before completions
// arrive: the old jobs resolved their kqueue at submission, so they report
// to no one, and the new kqueue sees nothing of them; a new job naming the
// number reports to the new one.
func TestKqueueNumberReusedByAnotherKqueue(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	old := e.write(0, 4, EV_ONESHOT)
	num := e.kq
	unix.Close(num)
	nkq := e.kqueue()
	if nkq != num {
		t.Fatalf("the host gave the new kqueue %d, not the closed number %d", nkq, num)
	}
	e.kq = nkq
	e.wantViolation("closed while 1 jobs")
	fresh := e.write(16, 4, EV_ONESHOT)
	e.k.Release()
	if v := e.finish(old); v != 0 {
		t.Fatalf("old job: aio_error %d", v)
	}
	evs := e.harvest(1)
	if evs[0].ident != identOf(fresh) {
		t.Fatalf("the new kqueue reported %#x, want only the new job %#x", evs[0].ident, identOf(fresh))
	}
	if more, err := e.kevent(nil, 4, &timespec{nsec: 20e6}); err != nil && !errors.Is(err, syscall.EINTR) || len(more) != 0 {
		t.Fatalf("further events on the new kqueue: %+v, %v", more, err)
	}
	e.ret(old)
	e.ret(fresh)
}

// A kqueue's number taken by a file that is not a kqueue: a submission
// naming it is refused with EBADF (kqueue_acquire), kevent on it is EBADF.
func TestKqueueNumberReusedByAFile(t *testing.T) {
	e := newEnv(t, Config{})
	num := e.kq
	unix.Close(num)
	if err := unix.Dup3(e.fd, num, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(num)
	cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
	cb.kq = int32(num)
	if err := e.k.AioRead(unsafe.Pointer(cb)); err != unix.EBADF {
		t.Fatalf("aio_read naming a regular file as its kqueue = %v, want EBADF", err)
	}
	if cb.err != int64(unix.EBADF) || cb.status != -1 {
		t.Fatalf("aiocb after the refusal: status %d error %d, want -1 and EBADF", cb.status, cb.err)
	}
	if _, err := e.k.Kevent(num, nil, 0, nil, 0, nil); err != unix.EBADF {
		t.Fatalf("kevent on a regular file = %v, want EBADF", err)
	}
	e.kq = e.kqueue()
	e.noViolations()
}

// kern_kevent takes the descriptor first (EBADF), kqueue_kevent refuses a
// negative nchanges next, and the changes are applied before kqueue_scan
// looks at nevents and the timeout: a scan for no events returns 0 whatever
// the timeout, and an invalid timeout is EINVAL only after the changes took.
func TestKeventArgumentOrder(t *testing.T) {
	e := newEnv(t, Config{})
	if _, err := e.k.Kevent(-1, nil, -1, nil, 0, nil); err != unix.EBADF {
		t.Fatalf("kevent(-1, nchanges -1) = %v, want EBADF", err)
	}
	if _, err := e.k.Kevent(e.kq, nil, -1, nil, 0, nil); err != unix.EINVAL {
		t.Fatalf("kevent(nchanges -1) = %v, want EINVAL", err)
	}
	add := []keventT{{ident: 7, filter: EVFILT_USER, flags: EV_ADD | EV_CLEAR}}
	bad := &timespec{sec: -1}
	if n, err := e.k.Kevent(e.kq, unsafe.Pointer(&add[0]), 1, nil, 0, unsafe.Pointer(bad)); n != 0 || err != nil {
		t.Fatalf("kevent(add, nevents 0, invalid timeout) = %d, %v; want 0, nil", n, err)
	}
	trig := []keventT{{ident: 7, filter: EVFILT_USER, fflags: NOTE_TRIGGER}}
	evs := make([]keventT, 2)
	if _, err := e.k.Kevent(e.kq, unsafe.Pointer(&trig[0]), 1, unsafe.Pointer(&evs[0]), 2, unsafe.Pointer(bad)); err != unix.EINVAL {
		t.Fatalf("kevent(trigger, invalid timeout) = %v, want EINVAL", err)
	}
	got, err := e.kevent(nil, 2, poll)
	if err != nil || len(got) != 1 || got[0].ident != 7 {
		t.Fatalf("after the call refused for its timeout: %+v, %v; want the trigger it applied", got, err)
	}
	if _, err := e.k.Kevent(e.kq, nil, 0, unsafe.Pointer(&evs[0]), -1, unsafe.Pointer(poll)); err != unix.EINVAL {
		t.Fatalf("kevent(nevents -1) = %v, want EINVAL", err)
	}
}

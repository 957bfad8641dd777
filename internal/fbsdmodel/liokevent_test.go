//go:build linux

package fbsdmodel

import (
	"testing"
	"unsafe"
)

// The EVFILT_LIO knote kern_lio_listio registers has no EV_ONESHOT or
// EV_CLEAR (EV_ADD|EV_ENABLE|EV_FLAG1 only), and filt_lio stays true once
// the list's event is posted: like any level-triggered knote it is reported
// on every kevent call. It goes only with the list job, which
// aio_free_entry frees when its last member is aio_returned
// (knlist_delete of the list's klist); a list that queued nothing is freed,
// its knote with it, before lio_listio returns.
func TestLioListKeventLevelUntilLastReturn(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.cb(e.fd, 0, e.buf(8), 0)
	b := e.cb(e.fd, 8, e.buf(8), 0)
	for _, cb := range []*aiocb{a, b} {
		cb.opcode, cb.notify = LIO_READ, SIGEV_NONE
	}
	sig := &aiocb{notify: SIGEV_KEVENT, kq: int32(e.kq), value: 0x1234}
	list := []unsafe.Pointer{unsafe.Pointer(a), unsafe.Pointer(b)}
	ident := uintptr(unsafe.Pointer(&list[0]))
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 2, unsafe.Add(unsafe.Pointer(sig), offNotify)); err != nil {
		t.Fatal(err)
	}
	e.finish(a)
	e.finish(b)
	for i := range 3 {
		evs, err := e.kevent(nil, 4, poll)
		if err != nil || len(evs) != 1 || evs[0].filter != EVFILT_LIO || evs[0].ident != ident {
			t.Fatalf("kevent call %d after the list finished: %+v, %v; want its EVFILT_LIO event again", i+1, evs, err)
		}
	}
	e.ret(a)
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 1 || evs[0].filter != EVFILT_LIO {
		t.Fatalf("with one member returned: %+v, want the list's event still", evs)
	}
	e.ret(b)
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("after the last member's aio_return: %+v, want no event (the list job and its knote are freed)", evs)
	}

	// A list that queued nothing: its knote is gone when the call returns.
	bad := e.cb(-1, 0, e.buf(8), 0)
	bad.opcode, bad.notify = LIO_READ, SIGEV_NONE
	list2 := []unsafe.Pointer{unsafe.Pointer(bad)}
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list2[0]), 1, unsafe.Add(unsafe.Pointer(sig), offNotify)); err == nil {
		t.Fatal("lio_listio of a bad descriptor succeeded")
	}
	e.k.mu.Lock()
	q := e.k.kqs[e.kq]
	_, kept := q.knotes[knoteKey{uintptr(unsafe.Pointer(&list2[0])), EVFILT_LIO}]
	e.k.mu.Unlock()
	if kept {
		t.Fatal("the EVFILT_LIO knote of a list that queued nothing outlived the call")
	}
}

// A second list at the address of one whose list job still lives, with
// list-level SIGEV_KEVENT on the same kqueue: kqueue_register finds the
// first list's EVFILT_LIO knote (same ident and filter) and modifies it,
// as for EVFILT_AIO (§A): the knote takes the new udata but stays the
// first list's, reporting while the first list's members are finished,
// and goes with the first list job; the second list never reports.
func TestLioListKeventReregistrationModifies(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.cb(e.fd, 0, e.buf(8), 0)
	b := e.cb(e.fd, 8, e.buf(8), 0)
	for _, cb := range []*aiocb{a, b} {
		cb.opcode, cb.notify = LIO_READ, SIGEV_NONE
	}
	list := []unsafe.Pointer{unsafe.Pointer(a)}
	ident := uintptr(unsafe.Pointer(&list[0]))
	sig := &aiocb{notify: SIGEV_KEVENT, kq: int32(e.kq), value: 0x1}
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 1, unsafe.Add(unsafe.Pointer(sig), offNotify)); err != nil {
		t.Fatal(err)
	}
	e.finish(a)
	list[0] = unsafe.Pointer(b)
	sig.value = 0x2
	e.k.Hold()
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 1, unsafe.Add(unsafe.Pointer(sig), offNotify)); err != nil {
		t.Fatal(err)
	}
	// b is held queued: the event is the first list's, with the new udata.
	evs, err := e.kevent(nil, 4, poll)
	if err != nil || len(evs) != 1 || evs[0].filter != EVFILT_LIO || evs[0].ident != ident || evs[0].udata != 0x2 {
		t.Fatalf("kevent with the first list finished, the second queued: %+v, %v; want one EVFILT_LIO event with udata 0x2", evs, err)
	}
	e.k.Release()
	e.finish(b)
	e.ret(a) // the first list job goes, and the knote with it
	if evs, err := e.kevent(nil, 4, poll); err != nil || len(evs) != 0 {
		t.Fatalf("kevent with the second list finished, after the first list's last aio_return: %+v, %v; want nothing (the second list has no knote)", evs, err)
	}
	e.ret(b)
	e.wantViolation("EVFILT_LIO")
}

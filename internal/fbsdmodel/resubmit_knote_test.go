//go:build linux

package fbsdmodel

import (
	"testing"
)

// Resubmitting an aiocb before aio_return of its job finds the first job's
// knote under the same (ident, EVFILT_AIO) and modifies it (kqueue_register
// with a knote found): the registration's EV_ENABLE enables it again if
// EV_DISPATCH had disabled it, its udata becomes the new sigev_value, and
// the filter is evaluated again, for the first job, whose event is then
// reported again. The second job gets no knote of its own.
func TestResubmitReenablesTheOldKnote(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.write(0, 10, EV_DISPATCH)
	first := e.harvest(1)[0]
	if first.ident != identOf(cb) || first.flags != EV_EOF|EV_DISPATCH {
		t.Fatalf("first event %+v", first)
	}
	if evs, _ := e.kevent(nil, 2, poll); len(evs) != 0 {
		t.Fatalf("EV_DISPATCH knote reported again before anything enabled it: %+v", evs)
	}
	e.k.Hold()
	cb.value = 0xfeed
	e.submit(e.k.AioWrite, cb)
	e.wantViolation("submitted again")
	evs, err := e.kevent(nil, 2, poll)
	if err != nil || len(evs) != 1 || evs[0].ident != identOf(cb) || evs[0].udata != 0xfeed {
		t.Fatalf("after the resubmission: %+v, %v; want the first job's event again, with the new udata", evs, err)
	}
	e.k.Release()
	e.ret(cb)
	e.finish(cb)
	e.ret(cb)
}

//go:build linux

package fbsdmodel

import (
	"errors"
	"slices"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestKeventFields(t *testing.T) {
	e := newEnv(t, Config{})
	ok := e.write(0, 10, EV_ONESHOT)
	if ev := e.harvest(1)[0]; ev != (keventT{ident: identOf(ok), filter: EVFILT_AIO, flags: EV_EOF | EV_ONESHOT, udata: 0xdeadbeef}) {
		t.Fatalf("event %+v", ev)
	}
	e.ret(ok)
	e.k.FailFd(e.fd, unix.EIO)
	bad := e.write(0, 10, 0)
	if ev := e.harvest(1)[0]; ev.data != int64(unix.EIO) || ev.flags != EV_EOF {
		t.Fatalf("failed job's event %+v, want data EIO and flags EV_EOF", ev)
	}
	if n, err := e.k.AioReturn(unsafe.Pointer(bad)); n != -1 || !errors.Is(err, unix.EIO) || bad.err != int64(unix.EIO) || bad.status != -1 {
		t.Fatalf("aio_return = %d, %v; aiocb %d/%d", n, err, bad.status, bad.err)
	}
}

// Without EV_ONESHOT, EV_CLEAR or EV_DISPATCH a completion is reported on
// every kevent call until aio_return (§B).
func TestKeventDelivery(t *testing.T) {
	cases := []struct {
		name  string
		flags uint16
		want  []int // events seen by three polls
	}{
		{"level-triggered", 0, []int{1, 1, 1}},
		{"EV_ONESHOT", EV_ONESHOT, []int{1, 0, 0}},
		{"EV_CLEAR", EV_CLEAR, []int{1, 0, 0}},
		{"EV_DISPATCH", EV_DISPATCH, []int{1, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			cb := e.write(0, 10, c.flags)
			e.finish(cb)
			var got []int
			for range 3 {
				evs, err := e.kevent(nil, 4, poll)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, len(evs))
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("polls saw %v events, want %v", got, c.want)
			}
			e.ret(cb)
			if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
				t.Fatal("event after aio_return")
			}
		})
	}
}

func TestAioReturnDeletesPendingEvent(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.write(0, 10, EV_ONESHOT)
	e.finish(cb)
	e.ret(cb)
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("%d events after aio_return, want 0", len(evs))
	}
}

func TestKeventWritesAtMostNevents(t *testing.T) {
	e := newEnv(t, Config{})
	var cbs []*aiocb
	for i := range 5 {
		cbs = append(cbs, e.write(int64(i)*10, 10, EV_ONESHOT))
	}
	for _, cb := range cbs {
		e.finish(cb)
	}
	evs := make([]keventT, 3)
	evs[2].ident = 0x5e471e1
	n, err := e.k.Kevent(e.kq, nil, 0, unsafe.Pointer(&evs[0]), 2, unsafe.Pointer(poll))
	if n != 2 || err != nil || evs[2].ident != 0x5e471e1 {
		t.Fatalf("kevent = %d, %v; slot past nevents holds %#x", n, err, evs[2].ident)
	}
	e.harvest(3)
	for _, cb := range cbs {
		e.ret(cb)
	}
}

func TestOutOfOrderCompletion(t *testing.T) {
	e := newEnv(t, Config{Workers: 1})
	e.k.Hold()
	var order []uintptr
	var cbs []*aiocb
	for i := range 32 {
		cb := e.write(int64(i)*10, 10, EV_ONESHOT)
		cbs = append(cbs, cb)
		order = append(order, identOf(cb))
	}
	e.k.Release()
	var got []uintptr
	for _, ev := range e.harvest(32) {
		got = append(got, ev.ident)
	}
	if slices.Equal(got, order) {
		t.Fatal("jobs completed in submission order")
	}
	for _, cb := range cbs {
		e.ret(cb)
	}
}

func TestUserEvent(t *testing.T) {
	e := newEnv(t, Config{})
	add := keventT{ident: 7, filter: EVFILT_USER, flags: EV_ADD | EV_CLEAR, udata: 99}
	trigger := keventT{ident: 7, filter: EVFILT_USER, fflags: NOTE_TRIGGER, udata: 99}
	if _, err := e.kevent([]keventT{add}, 0, nil); err != nil {
		t.Fatal(err)
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatal("event before any trigger")
	}
	for range 3 {
		if _, err := e.kevent([]keventT{trigger}, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := e.kevent(nil, 4, nil) // latched: returns at once
	if len(evs) != 1 || evs[0] != (keventT{ident: 7, filter: EVFILT_USER, flags: EV_CLEAR, udata: 99}) {
		t.Fatalf("three triggers gave %+v, want one EVFILT_USER event", evs)
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatal("EV_CLEAR did not reset the trigger")
	}
	// Changes are applied before events are collected.
	if evs, _ := e.kevent([]keventT{trigger}, 4, poll); len(evs) != 1 {
		t.Fatalf("trigger in the same call gave %d events", len(evs))
	}

	level := keventT{ident: 8, filter: EVFILT_USER, flags: EV_ADD}
	if _, err := e.kevent([]keventT{level, {ident: 8, filter: EVFILT_USER, fflags: NOTE_TRIGGER}}, 0, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if evs, _ := e.kevent(nil, 4, poll); len(evs) != 1 || evs[0].ident != 8 {
			t.Fatalf("a trigger without EV_CLEAR stays latched: %+v", evs)
		}
	}
	del := keventT{ident: 8, filter: EVFILT_USER, flags: EV_DELETE}
	if _, err := e.kevent([]keventT{del}, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kevent([]keventT{{ident: 8, filter: EVFILT_USER, fflags: NOTE_TRIGGER}}, 0, nil); err != unix.ENOENT {
		t.Fatalf("trigger after EV_DELETE = %v, want ENOENT", err)
	}
	evs, err := e.kevent([]keventT{del}, 4, poll)
	if err != nil || len(evs) != 1 || evs[0].flags != EV_ERROR || evs[0].data != int64(unix.ENOENT) {
		t.Fatalf("failed change with room for events = %+v, %v; want one EV_ERROR event", evs, err)
	}
}

func TestKeventRefuses(t *testing.T) {
	e := newEnv(t, Config{})
	call := func(kq int, ch []keventT, nch, nev int, ts *timespec) error {
		evs := make([]keventT, 1)
		var c unsafe.Pointer
		if len(ch) > 0 {
			c = unsafe.Pointer(&ch[0])
		}
		_, err := e.k.Kevent(kq, c, nch, unsafe.Pointer(&evs[0]), nev, unsafe.Pointer(ts))
		return err
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"bad descriptor", call(-1, nil, 0, 1, poll), unix.EBADF},
		{"not a kqueue", call(e.fd, nil, 0, 1, poll), unix.EBADF},
		{"EV_ADD of EVFILT_AIO", call(e.kq, []keventT{{ident: 1, filter: EVFILT_AIO, flags: EV_ADD}}, 1, 0, poll), unix.EPERM},
		{"filter not modelled", call(e.kq, []keventT{{ident: 0, filter: -1, flags: EV_ADD}}, 1, 0, poll), unix.EINVAL},
		{"tv_nsec too large", call(e.kq, nil, 0, 1, &timespec{nsec: 1e9}), unix.EINVAL},
		{"negative nchanges", call(e.kq, nil, -1, 1, poll), unix.EINVAL},
	}
	for _, c := range cases {
		if c.err != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	e.wantViolation("filter -1 is not modelled")
}

func TestKeventTimeout(t *testing.T) {
	e := newEnv(t, Config{})
	start := time.Now()
	evs, err := e.kevent(nil, 4, &timespec{nsec: 20e6})
	if len(evs) != 0 || err != nil || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("kevent = %d, %v after %v; want 0, nil after 20ms", len(evs), err, time.Since(start))
	}
}

// A blocking kevent may end with EINTR (§G); a poll, or a call that finds an
// event ready, never does.
func TestKeventEINTR(t *testing.T) {
	e := newEnv(t, Config{EINTRPercent: 100})
	for _, ts := range []*timespec{nil, {sec: 5}} {
		start := time.Now()
		if _, err := e.kevent(nil, 4, ts); err != unix.EINTR || time.Since(start) > time.Second {
			t.Fatalf("blocking kevent (timeout %v) = %v after %v, want EINTR early", ts, err, time.Since(start))
		}
	}
	for range 100 {
		if _, err := e.kevent(nil, 4, poll); err != nil {
			t.Fatalf("poll = %v", err)
		}
	}
	cb := e.write(0, 10, 0)
	e.finish(cb)
	for range 100 {
		if evs, err := e.kevent(nil, 4, nil); err != nil || len(evs) != 1 {
			t.Fatalf("kevent with an event ready = %d, %v", len(evs), err)
		}
	}
	e.ret(cb)

	share := newEnv(t, Config{EINTRPercent: 50})
	eintr := 0
	for range 40 {
		if _, err := share.kevent(nil, 1, &timespec{nsec: 3e6}); err == unix.EINTR {
			eintr++
		}
	}
	if eintr == 0 || eintr == 40 {
		t.Fatalf("EINTRPercent 50 gave %d EINTRs in 40 calls", eintr)
	}
}

func TestKqueueClose(t *testing.T) {
	e := newEnv(t, Config{})
	var st unix.Stat_t
	if err := unix.Fstat(e.kq, &st); err != nil {
		t.Fatalf("kqueue is not a host descriptor: %v", err)
	}
	clean, err := e.k.Kqueue()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(clean); err != nil {
		t.Fatal(err)
	}
	e.noViolations()

	e.k.Hold()
	queued := e.write(0, 10, EV_ONESHOT)
	old := e.kq
	unix.Close(e.kq)
	e.wantViolation("closed while 1 jobs")
	e.k.Release()
	if v := e.finish(queued); v != 0 {
		t.Fatalf("job after its kqueue closed: aio_error %d", v)
	}
	e.ret(queued)
	if _, err := e.k.Kevent(old, nil, 0, nil, 0, nil); err != unix.EBADF {
		t.Fatalf("kevent on a closed kqueue = %v, want EBADF", err)
	}
	cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
	if err := e.k.AioRead(unsafe.Pointer(cb)); err != unix.EBADF {
		t.Fatalf("submission to a closed kqueue = %v, want EBADF", err)
	}
	e.kq = e.kqueue()
}

func TestKeventDisableEnableReceipt(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.write(0, 10, EV_DISPATCH)
	e.finish(cb)
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 1 {
		t.Fatal("no event")
	}
	enable := keventT{ident: identOf(cb), filter: EVFILT_AIO, flags: EV_ENABLE, udata: 0xdeadbeef}
	if evs, _ := e.kevent([]keventT{enable}, 4, poll); len(evs) != 1 || evs[0].ident != identOf(cb) {
		t.Fatalf("EV_ENABLE after EV_DISPATCH gave %+v, want the event again", evs)
	}
	disable := keventT{ident: identOf(cb), filter: EVFILT_AIO, flags: EV_DISABLE | EV_RECEIPT}
	evs, err := e.kevent([]keventT{disable}, 4, poll)
	if err != nil || len(evs) != 1 || evs[0].flags != EV_ERROR || evs[0].data != 0 {
		t.Fatalf("EV_RECEIPT gave %+v, %v; want one EV_ERROR event with data 0", evs, err)
	}
	enable.flags = EV_ENABLE
	if evs, _ := e.kevent([]keventT{enable}, 4, poll); len(evs) != 1 {
		t.Fatalf("EV_ENABLE gave %d events", len(evs))
	}
	e.ret(cb)
}

// A kevent call blocked on a kqueue keeps it alive when its descriptor is
// closed meanwhile: the call holds its own reference to the file, so the
// kqueue is drained only once the call returns, and a completion that comes
// first is still reported to it (kern_kevent's fget, kqueue_close, §G).
func TestKeventBlockedAcrossClose(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	w := e.write(0, 10, EV_ONESHOT)
	e.k.mu.Lock()
	q := e.k.kqs[e.kq]
	e.k.mu.Unlock()
	type result struct {
		evs []keventT
		err error
	}
	done := make(chan result, 1)
	go func() {
		evs, err := e.kevent(nil, 1, &timespec{sec: 5})
		done <- result{evs, err}
	}()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.k.mu.Lock()
		blocked := q.users == 1
		e.k.mu.Unlock()
		if blocked {
			break
		}
		if time.Now().After(end) {
			t.Fatal("kevent never blocked")
		}
	}
	old := e.kq
	unix.Close(e.kq)
	e.wantViolation("closed while 1 jobs")
	if _, err := e.k.Kevent(old, nil, 0, nil, 0, nil); err != unix.EBADF {
		t.Fatalf("a new kevent call on the closed number = %v, want EBADF", err)
	}
	e.k.Release()
	r := <-done
	if r.err != nil || len(r.evs) != 1 || r.evs[0].ident != identOf(w) {
		t.Fatalf("blocked kevent across the close returned %+v, %v; want the write's event", r.evs, r.err)
	}
	e.ret(w)
	e.k.mu.Lock()
	drained := q.closed && len(q.knotes) == 0
	e.k.mu.Unlock()
	if !drained {
		t.Fatal("kqueue not drained once the last kevent call on it returned")
	}
	e.kq = e.kqueue()
}

// EV_ADD of a new EVFILT_USER knote keeps the change's fflags as the
// knote's own (kn_sfflags) but does not trigger it, whatever they hold:
// kqueue_register clears the event's fflags before filt_userattach looks for
// NOTE_TRIGGER there. A later change triggers it; EV_CLEAR in a change resets
// the trigger; the event reports the knote's fflags and the last change's data
// (filt_usertouch, §G).
func TestUserEventAddDoesNotTrigger(t *testing.T) {
	e := newEnv(t, Config{})
	add := keventT{ident: 9, filter: EVFILT_USER, flags: EV_ADD, fflags: NOTE_TRIGGER | 0x5, data: 3}
	if _, err := e.kevent([]keventT{add}, 0, nil); err != nil {
		t.Fatal(err)
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("EV_ADD with NOTE_TRIGGER gave %+v, want no event", evs)
	}
	trigger := keventT{ident: 9, filter: EVFILT_USER, fflags: NOTE_TRIGGER, data: 4}
	evs, _ := e.kevent([]keventT{trigger}, 4, poll)
	want := keventT{ident: 9, filter: EVFILT_USER, fflags: NOTE_TRIGGER | 0x5, data: 4}
	if len(evs) != 1 || evs[0] != want {
		t.Fatalf("trigger gave %+v, want [%+v]", evs, want)
	}
	reset := keventT{ident: 9, filter: EVFILT_USER, flags: EV_CLEAR}
	if evs, _ := e.kevent([]keventT{reset}, 4, poll); len(evs) != 0 {
		t.Fatalf("EV_CLEAR in a change left the trigger latched: %+v", evs)
	}
}

// How kevent takes a change list (kqueue_kevent, kqueue_register): a
// change with filter 0 is skipped; EV_SYSFLAGS bits are dropped from each
// change; EV_ENABLE with EV_DISABLE, and EV_ADD with EV_KEEPUDATA, are
// EINVAL; EV_KEEPUDATA keeps a knote's udata; EV_RECEIPT stays in the
// knote's flags; and a receipt with no room left ends the call at once with
// 0, leaving the later changes unapplied.
func TestKeventChangeList(t *testing.T) {
	e := newEnv(t, Config{})
	user := func(ident uintptr, flags uint16, fflags uint32, udata uintptr) keventT {
		return keventT{ident: ident, filter: EVFILT_USER, flags: flags, fflags: fflags, udata: udata}
	}
	trigger := func(ident uintptr) keventT { return user(ident, 0, NOTE_TRIGGER, 0) }

	changes := []keventT{{}, user(10, EV_ADD|EV_CLEAR|EV_EOF|EV_FLAG1, 0, 5)}
	if _, err := e.kevent(changes, 0, nil); err != nil {
		t.Fatalf("change list with a filter-0 entry: %v", err)
	}
	keep := user(10, EV_KEEPUDATA, NOTE_TRIGGER, 6)
	evs, err := e.kevent([]keventT{keep}, 4, poll)
	if err != nil || len(evs) != 1 || evs[0].flags != EV_CLEAR || evs[0].udata != 5 {
		t.Fatalf("trigger with EV_KEEPUDATA gave %+v, %v; want one event, flags EV_CLEAR only, udata 5", evs, err)
	}

	for _, bad := range []keventT{user(10, EV_ENABLE|EV_DISABLE, 0, 0), user(11, EV_ADD|EV_KEEPUDATA, 0, 0)} {
		if _, err := e.kevent([]keventT{bad}, 0, nil); err != unix.EINVAL {
			t.Errorf("change flags %#x: %v, want EINVAL", bad.flags, err)
		}
	}

	evs, err = e.kevent([]keventT{user(12, EV_ADD|EV_RECEIPT, 0, 0)}, 4, poll)
	if err != nil || len(evs) != 1 || evs[0].flags != EV_ERROR || evs[0].data != 0 {
		t.Fatalf("EV_ADD|EV_RECEIPT gave %+v, %v; want one receipt", evs, err)
	}
	evs, _ = e.kevent([]keventT{trigger(12)}, 4, poll)
	if len(evs) != 1 || evs[0].flags != EV_RECEIPT {
		t.Fatalf("event of a knote added with EV_RECEIPT: %+v, want flags EV_RECEIPT", evs)
	}

	got, err := e.kevent([]keventT{user(13, EV_ADD|EV_RECEIPT, 0, 0), user(14, EV_ADD, 0, 0)}, 0, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("receipt without room: %d events, %v; want 0, nil", len(got), err)
	}
	if _, err := e.kevent([]keventT{trigger(13)}, 0, nil); err != nil {
		t.Fatalf("the change with the receipt was not applied: %v", err)
	}
	if _, err := e.kevent([]keventT{trigger(14)}, 0, nil); err != unix.ENOENT {
		t.Fatalf("the change after a receipt without room: trigger = %v, want ENOENT (never applied)", err)
	}
}

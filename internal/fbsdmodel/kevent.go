//go:build linux

package fbsdmodel

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kevent is kevent(2) (FreeBSD 12+ layout): it applies the nchanges changes
// at changes, then writes at most nevents events to events, waiting up to
// the timespec at timeout (nil: forever; zero: poll). A change that fails,
// or asks for EV_RECEIPT, is reported as an EV_ERROR event while there is
// room; without room the call ends there, with the change's error (or 0 for
// a receipt), and later changes are not applied. Changes with filter 0 are
// skipped. As in kern_kevent and kqueue_kevent, a descriptor that is not a
// kqueue is EBADF before anything else, a negative nchanges EINVAL next;
// nevents and the timeout are looked at only once the changes are applied
// (kqueue_scan): with nevents 0 the call returns at once whatever the
// timeout, a negative nevents or an invalid timeout is EINVAL. A blocking
// call may end early with EINTR, never when an event is ready (§G EINTR).
func (k *Kernel) Kevent(kq int, changes unsafe.Pointer, nchanges int, events unsafe.Pointer, nevents int, timeout unsafe.Pointer) (int, error) {
	k.enter()
	defer k.mu.Unlock()
	q := k.kqueueLocked(kq)
	if q == nil {
		return -1, unix.EBADF
	}
	if nchanges < 0 {
		return -1, unix.EINVAL
	}
	q.users++
	defer func() {
		q.users--
		k.releaseLocked(q)
	}()
	if nchanges > 0 {
		k.checkCloexecLocked(q)
	}
	n, room := 0, nevents
	for i := range nchanges {
		ch := loadKevent(changes, i)
		if ch.filter == 0 { // kqueue_kevent skips it
			continue
		}
		ch.flags &^= EV_SYSFLAGS
		e := k.changeLocked(q, ch)
		if e == 0 && ch.flags&EV_RECEIPT == 0 {
			continue
		}
		if room == 0 { // no room: the call ends here, later changes unapplied
			if e == 0 {
				return 0, nil
			}
			return -1, e
		}
		ch.flags, ch.data = EV_ERROR, int64(e)
		if events != nil && room > 0 {
			storeKevent(events, n, ch)
		}
		n++
		room--
	}
	if n > 0 {
		return n, nil
	}
	switch { // kqueue_scan
	case nevents == 0:
		return 0, nil
	case nevents < 0:
		return -1, unix.EINVAL
	}
	poll, deadline, e := readTimeout(timeout)
	if e != 0 {
		return -1, e
	}
	var eintr time.Time
	if !poll && k.rng.IntN(100) < k.cfg.EINTRPercent {
		eintr = time.Now().Add(time.Duration(k.rng.Int64N(int64(2 * time.Millisecond))))
	}
	for {
		if n := q.collect(events, nevents); n > 0 || poll {
			return n, nil
		}
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return 0, nil
		}
		wake := deadline
		if !eintr.IsZero() {
			if !now.Before(eintr) {
				k.stats.EINTRs++
				return -1, unix.EINTR
			}
			if wake.IsZero() || eintr.Before(wake) {
				wake = eintr
			}
		}
		k.sleepLocked(wake)
	}
}

// readTimeout reads a struct timespec: nil waits forever, {0, 0} polls, an
// invalid one is EINVAL.
func readTimeout(ts unsafe.Pointer) (poll bool, deadline time.Time, e syscall.Errno) {
	if ts == nil {
		return false, time.Time{}, 0
	}
	sec, nsec := int64(load64(ts, 0)), int64(load64(ts, 8))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return false, time.Time{}, unix.EINVAL
	}
	if sec == 0 && nsec == 0 {
		return true, time.Time{}, 0
	}
	const maxSec = 1<<31 - 1 // longer is forever, as kqueue_scan treats it
	if sec > maxSec {
		return false, time.Time{}, 0
	}
	return false, time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec)), 0
}

// changeLocked applies one change (kqueue_register). Userland may add only
// EVFILT_USER knotes; EVFILT_AIO and EVFILT_LIO knotes are made by the AIO
// calls (§A: filt_aioattach refuses with EPERM).
func (k *Kernel) changeLocked(q *kqueue, ch kevent) syscall.Errno {
	if ch.flags&(EV_ENABLE|EV_DISABLE) == EV_ENABLE|EV_DISABLE {
		return unix.EINVAL
	}
	switch ch.filter {
	case EVFILT_USER, EVFILT_AIO, EVFILT_LIO:
	default:
		k.violateLocked("kevent filter %d is not modelled", ch.filter)
		return unix.EINVAL
	}
	if ch.flags&(EV_ADD|EV_KEEPUDATA) == EV_ADD|EV_KEEPUDATA {
		return unix.EINVAL
	}
	key := knoteKey{ch.ident, ch.filter}
	kn := q.knotes[key]
	added := kn == nil
	if added {
		switch {
		case ch.flags&EV_ADD == 0:
			return unix.ENOENT
		case ch.filter != EVFILT_USER:
			return unix.EPERM
		}
		// The change's fflags and data become the knote's own; the event's
		// are cleared before filt_userattach looks for NOTE_TRIGGER, so
		// adding never triggers.
		kn = &knote{kq: q, key: key, flags: ch.flags &^ (EV_ADD | EV_DELETE | EV_ENABLE | EV_DISABLE),
			sfflags: ch.fflags, sdata: ch.data}
		q.knotes[key] = kn
	}
	if ch.flags&EV_DELETE != 0 {
		kn.drop()
		return 0
	}
	if ch.flags&EV_KEEPUDATA == 0 {
		kn.udata = ch.udata
	}
	if ch.filter == EVFILT_USER && !added {
		kn.touchUser(ch)
	}
	if ch.flags&EV_DISABLE != 0 {
		kn.disabled = true
	}
	if ch.flags&EV_ENABLE != 0 {
		kn.disabled = false
	}
	kn.activate()
	k.wakeLocked()
	return 0
}

// touchUser is filt_usertouch on a change to an existing knote (§G):
// NOTE_TRIGGER latches the event in the kqueue; NOTE_FFAND, NOTE_FFOR and
// NOTE_FFCOPY edit the kept fflags; the change's data is kept; EV_CLEAR in
// the change resets the trigger.
func (kn *knote) touchUser(ch kevent) {
	if ch.fflags&NOTE_TRIGGER != 0 {
		kn.triggered = true
	}
	v := ch.fflags & NOTE_FFLAGSMASK
	switch ch.fflags & NOTE_FFCTRLMASK {
	case NOTE_FFAND:
		kn.sfflags &= v
	case NOTE_FFOR:
		kn.sfflags |= v
	case NOTE_FFCOPY:
		kn.sfflags = v
	}
	kn.sdata = ch.data
	if ch.flags&EV_CLEAR != 0 {
		kn.triggered = false
	}
}

// collect writes up to max ready events, taking each queued knote at most
// once per call (the kqueue_scan marker), and applies delivery to each.
func (q *kqueue) collect(events unsafe.Pointer, max int) int {
	n := 0
	for scan := len(q.active); scan > 0 && n < max; scan-- {
		kn := q.active[0]
		q.active = q.active[1:]
		kn.queued = false
		if kn.dropped || kn.disabled || !kn.ready() {
			continue
		}
		storeKevent(events, n, kn.event())
		n++
		kn.delivered()
	}
	return n
}

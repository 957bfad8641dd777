//go:build linux

package fbsdmodel

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lioJob is the kernel's struct aioliojob: the members one lio_listio call
// queued and that are not yet freed (aio_return), and how many of them have
// finished.
type lioJob struct {
	count, finished int
	submitted       bool   // every entry has been looked at
	fired           bool   // EVFILT_LIO: all members finished
	kn              *knote // EVFILT_LIO knote, nil without list-level SIGEV_KEVENT
}

// LioListio is lio_listio(2) (§B). The n entries of the pointer array at
// list are queued or rejected one by one, NULL entries skipped, each
// outcome stored in its aiocb; the error is EIO if an entry failed with
// anything but EAGAIN, else EAGAIN if one hit the queue limit. A mode other
// than LIO_WAIT or LIO_NOWAIT, or n outside [0, max_aio_queue_per_proc] (as
// it is at the time of the call, see SetSysctl), is EINVAL
// with nothing touched. LIO_WAIT returns once every queued entry completed;
// each still needs aio_return. sig (LIO_NOWAIT only) is the list's own
// notification; SIGEV_KEVENT there (EVFILT_LIO) is served but recorded as a
// violation.
func (k *Kernel) LioListio(mode int, list unsafe.Pointer, n int, sig unsafe.Pointer) error {
	if mode != LIO_WAIT && mode != LIO_NOWAIT {
		return unix.EINVAL
	}
	k.enter()
	defer k.mu.Unlock()
	if n < 0 || n > k.maxQueuePerProc {
		return unix.EINVAL
	}
	if e := k.initAIOLocked(); e != 0 { // 15.x: the call fails, no entry looked at
		return e
	}
	lj := &lioJob{}
	if sig != nil && mode == LIO_NOWAIT {
		if e := k.listSigLocked(lj, list, sig); e != 0 {
			return e
		}
	}
	var failed, again bool
	for i := range n {
		cb := loadPtr(list, uintptr(i)*pointerSize)
		if cb == nil { // §B: NULL entries are skipped
			continue
		}
		switch k.aqueueLocked(cb, LIO_NOP, lj) {
		case 0:
		case unix.EAGAIN:
			again = true
		default:
			failed = true
		}
	}
	lj.submitted = true
	lj.check()
	if lj.count == 0 { // nothing queued: the list job goes now, its knote with it
		lj.free()
	}
	k.wakeLocked()
	for mode == LIO_WAIT && lj.finished < lj.count {
		k.sleepLocked(time.Time{})
	}
	switch { // §B: EIO wins over EAGAIN
	case failed:
		return unix.EIO
	case again:
		return unix.EAGAIN
	}
	return nil
}

// listSigLocked validates the list-level sigevent and, for SIGEV_KEVENT,
// registers the EVFILT_LIO knote (ident = the list's address, §A EVFILT_LIO).
func (k *Kernel) listSigLocked(lj *lioJob, list, sig unsafe.Pointer) syscall.Errno {
	const base = offNotify // the sigevent offsets inside an aiocb, rebased
	notify := int(int32(load32(sig, offNotify-base)))
	signo := int(int32(load32(sig, offSigKqueue-base)))
	switch notify {
	case SIGEV_NONE:
		return 0
	case SIGEV_SIGNAL, SIGEV_THREAD_ID:
		if signo <= 0 || signo > sigMax {
			return unix.EINVAL
		}
		k.violateLocked("lio_listio asks for signal notification (sigev_notify %d), which the project must not use", notify)
		return 0
	case SIGEV_KEVENT:
	default:
		return unix.EINVAL
	}
	k.violateLocked("lio_listio with list-level SIGEV_KEVENT (EVFILT_LIO), which the project must not use (§B EVFILT_LIO caveats)")
	q := k.kqueueLocked(signo)
	if q == nil {
		return unix.EBADF
	}
	key := knoteKey{uintptr(list), EVFILT_LIO}
	udata := load64(sig, offSigValue-base)
	if old := q.knotes[key]; old != nil {
		// kqueue_register finds the knote of an earlier list at the same
		// address, not yet freed, and modifies it (new udata, enabled,
		// its filter asked again) instead of attaching one: it stays the
		// earlier list's, and this list gets none.
		old.udata = udata
		old.disabled = false
		old.activate()
		return 0
	}
	lj.kn = &knote{kq: q, key: key, udata: udata, lio: lj}
	q.knotes[key] = lj.kn
	return 0
}

// check fires the list's event once every queued member finished. A list
// that queued nothing never reports (bug 251515, §B). Once fired, the
// EVFILT_LIO knote is level-triggered: it reports on every kevent call until
// the list job is freed.
func (lj *lioJob) check() {
	if !lj.submitted || lj.fired || lj.count == 0 || lj.finished < lj.count {
		return
	}
	lj.fired = true
	if lj.kn != nil {
		lj.kn.activate()
	}
}

// forget is aio_free_entry's part for a member of the list: the member no
// longer counts, and the list job goes with its last member, its EVFILT_LIO
// knote with it (knlist_delete).
func (lj *lioJob) forget() {
	lj.count--
	lj.finished--
	if lj.count == 0 && lj.submitted {
		lj.free()
	}
}

// free drops the list's EVFILT_LIO knote, and any event of it not yet
// collected.
func (lj *lioJob) free() {
	if lj.kn != nil {
		lj.kn.drop()
		lj.kn = nil
	}
}

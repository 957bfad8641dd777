//go:build linux

package fbsdmodel

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// kqueue is one kqueue. Its descriptor is a real host descriptor (a memfd)
// so that the program can close and dup it; the kernel remembers the file's
// identity to tell its descriptors and to notice the last close.
type kqueue struct {
	fd       int // a descriptor number of it (the one it was made with, until that closes)
	dev, ino uint64
	knotes   map[knoteKey]*knote
	active   []*knote // events waiting to be collected, oldest first
	fdClosed bool     // its last descriptor was closed
	users    int      // kevent calls in progress on it, each holding it open
	closed   bool     // drained: knotes dropped, jobs detached

	cloexecChecked bool // checkCloexecLocked has judged it
}

type knoteKey struct {
	ident  uintptr
	filter int16
}

// knote is one registered event.
type knote struct {
	kq       *kqueue
	key      knoteKey
	flags    uint16 // the EV_ONESHOT, EV_CLEAR, EV_DISPATCH (and other kept) flags
	udata    uint64
	disabled bool
	queued   bool // in kq.active
	dropped  bool

	job       *job    // EVFILT_AIO
	lio       *lioJob // EVFILT_LIO
	triggered bool    // EVFILT_USER: NOTE_TRIGGER latched (§G)
	sfflags   uint32  // EVFILT_USER: the fflags kept by NOTE_FF* operations
	sdata     int64   // EVFILT_USER: the data of the last change
}

// Kqueue is kqueue(2). The descriptor it returns is a host descriptor that
// unix.Close closes; the kernel notices the close at its next call. Like
// FreeBSD's it is not close-on-exec: a program sets FD_CLOEXEC itself (with
// fcntl on the host descriptor), or uses Kqueuex.
func (k *Kernel) Kqueue() (int, error) { return k.newKqueue(0) }

// Kqueuex is kqueuex(2) (14.0 and later, §G, §H): flags 0 or KQUEUE_CLOEXEC,
// anything else EINVAL. Below Osreldate14 the system call does not exist:
// ENOSYS, recorded as a violation, since FreeBSD also sends SIGSYS, which
// kills a Go program.
func (k *Kernel) Kqueuex(flags uint32) (int, error) {
	if k.cfg.Osreldate < Osreldate14 {
		k.mu.Lock()
		k.violateLocked("kqueuex called on FreeBSD %d, which lacks it (ENOSYS and SIGSYS, §H)", k.cfg.Osreldate)
		k.mu.Unlock()
		return -1, unix.ENOSYS
	}
	if flags&^KQUEUE_CLOEXEC != 0 {
		return -1, unix.EINVAL
	}
	var mfd int
	if flags&KQUEUE_CLOEXEC != 0 {
		mfd = unix.MFD_CLOEXEC
	}
	return k.newKqueue(mfd)
}

func (k *Kernel) newKqueue(memfdFlags int) (int, error) {
	fd, err := unix.MemfdCreate("fbsdmodel-kqueue", memfdFlags)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	k.enter() // a kqueue closed earlier under the same number is noticed here
	defer k.mu.Unlock()
	k.kqs[fd] = &kqueue{fd: fd, dev: uint64(st.Dev), ino: st.Ino, knotes: make(map[knoteKey]*knote)}
	return fd, nil
}

// checkCloexecLocked records, once per kqueue, that a kqueue the program
// uses is not close-on-exec: a child started by exec would inherit it (and
// keep its knotes alive).
func (k *Kernel) checkCloexecLocked(q *kqueue) {
	if q.cloexecChecked {
		return
	}
	fl, err := unix.FcntlInt(uintptr(q.fd), unix.F_GETFD, 0)
	if err != nil || fl&unix.FD_CLOEXEC != 0 {
		q.cloexecChecked = err == nil
		return
	}
	q.cloexecChecked = true
	k.violateLocked("kqueue %d is used without close-on-exec (kqueuex(KQUEUE_CLOEXEC), or FD_CLOEXEC right after kqueue, §G)", q.fd)
}

// kqueueLocked is fget + kqueue_acquire on descriptor number fd: the kqueue
// whose file fd refers to, whatever number it has (a dup of a kqueue's
// descriptor names the same kqueue), or nil if fd is not open or not a
// kqueue, or its kqueue is closing (EBADF).
func (k *Kernel) kqueueLocked(fd int) *kqueue {
	if q := k.kqs[fd]; q != nil {
		return q // enter's sweep has checked the number still refers to it
	}
	var st unix.Stat_t
	if fd < 0 || unix.Fstat(fd, &st) != nil {
		return nil
	}
	for _, q := range k.kqs {
		if q.is(&st) {
			k.kqs[fd] = q
			return q
		}
	}
	return nil
}

// is reports whether st is the kqueue's file.
func (q *kqueue) is(st *unix.Stat_t) bool { return uint64(st.Dev) == q.dev && st.Ino == q.ino }

// sweepLocked notices descriptor numbers of kqueues that were closed. The
// number is gone at once (a new call naming it fails, or finds another
// file). The kqueue itself closes only with the last descriptor of its file
// (kqueue_close runs when the file's last reference goes): another number
// the model knows, or a dup it has not seen yet, keeps it open. A closed
// kqueue is drained (kqueue_drain, §G: its knotes dropped, its jobs
// completing without notification) once no kevent call on it is in
// progress, since each holds its own reference to the file. Closing one
// while jobs that report to it are not yet aio_returned is a violation (§G
// kqueue lifetime, §I.11).
func (k *Kernel) sweepLocked() {
	var lost []*kqueue
	for fd, q := range k.kqs {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && q.is(&st) {
			continue
		}
		delete(k.kqs, fd)
		lost = append(lost, q)
	}
	for _, q := range lost {
		if q.fdClosed || k.stillOpenLocked(q) {
			continue
		}
		q.fdClosed = true
		n := 0
		for _, list := range k.jobs {
			for _, j := range list {
				if j.kq == q {
					n++
				}
			}
		}
		if n > 0 {
			k.violateLocked("kqueue %d closed while %d jobs reporting to it were not aio_returned (§G)", q.fd, n)
		}
		k.releaseLocked(q)
	}
}

// stillOpenLocked reports whether a descriptor of the process still refers
// to q's file, and if so records it as q's number: one the model knows, or
// else one found among the process's descriptors.
func (k *Kernel) stillOpenLocked(q *kqueue) bool {
	for fd, o := range k.kqs {
		if o == q {
			q.fd = fd
			return true
		}
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, ent := range ents {
		fd, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && q.is(&st) {
			k.kqs[fd], q.fd = q, fd
			return true
		}
	}
	return false
}

// releaseLocked drains q if its descriptor is closed and no kevent call
// holds it any more.
func (k *Kernel) releaseLocked(q *kqueue) {
	if !q.fdClosed || q.users > 0 || q.closed {
		return
	}
	q.closed = true
	for _, list := range k.jobs {
		for _, j := range list {
			if j.kq == q {
				j.kq, j.kn = nil, nil
			}
		}
	}
	for _, kn := range q.knotes {
		kn.dropped = true
	}
	q.knotes, q.active = nil, nil
	k.wakeLocked()
}

// registerAIO attaches the completion knote of j (ident = aiocb address,
// EV_FLAG1 registration, §A kevent). A knote with the same ident is modified
// instead, and j gets none (§A "Never resubmit"): as kqueue_register does
// with a knote it finds, the registration's udata replaces the knote's, its
// EV_ENABLE enables the knote again, and the filter is evaluated again for
// the knote's own job, whose event is queued if that job has finished. The
// registration's flags do not change the knote's.
func (q *kqueue) registerAIO(j *job) *knote {
	key := knoteKey{j.uaddr, EVFILT_AIO}
	if kn := q.knotes[key]; kn != nil {
		kn.udata = j.kcb.sigValue()
		kn.disabled = false
		kn.activate()
		return nil
	}
	kn := &knote{kq: q, key: key, flags: j.kcb.kevFlags(), udata: j.kcb.sigValue(), job: j}
	q.knotes[key] = kn
	return kn
}

// ready is the filter: whether the knote has an event to report.
func (kn *knote) ready() bool {
	switch kn.key.filter {
	case EVFILT_AIO:
		return kn.job.state == done
	case EVFILT_LIO:
		return kn.lio.fired
	default:
		return kn.triggered
	}
}

// activate queues the knote's event unless it is queued already, disabled
// or dropped (KNOTE_ACTIVATE).
func (kn *knote) activate() {
	if kn.queued || kn.disabled || kn.dropped || !kn.ready() {
		return
	}
	kn.queued = true
	kn.kq.active = append(kn.kq.active, kn)
}

// drop removes the knote and any event of it not yet collected (§C).
func (kn *knote) drop() {
	if kn.dropped {
		return
	}
	kn.dropped = true
	if kn.kq.knotes[kn.key] == kn {
		delete(kn.kq.knotes, kn.key)
	}
	if kn.job != nil && kn.job.kn == kn {
		kn.job.kn = nil
	}
}

// event is the kevent the knote reports (§A kevent, §G EVFILT_USER).
func (kn *knote) event() kevent {
	ev := kevent{ident: kn.key.ident, filter: kn.key.filter, flags: kn.flags, udata: kn.udata}
	switch kn.key.filter {
	case EVFILT_AIO:
		ev.flags |= EV_EOF
		ev.data = int64(kn.job.errno)
	case EVFILT_USER:
		ev.fflags, ev.data = kn.sfflags, kn.sdata
	}
	return ev
}

// delivered applies what collecting an event does to its knote
// (kqueue_scan): EV_ONESHOT deletes it, EV_DISPATCH disables it, EV_CLEAR
// resets it, and a level-triggered knote (an EVFILT_LIO one among them)
// goes back to the end of the queue while its filter stays true (§B
// sigev_notify_kevent_flags).
func (kn *knote) delivered() {
	switch {
	case kn.flags&EV_ONESHOT != 0:
		kn.drop()
		return
	case kn.flags&EV_DISPATCH != 0:
		kn.disabled = true
	}
	if kn.flags&EV_CLEAR != 0 {
		if kn.key.filter == EVFILT_USER {
			kn.triggered = false
		}
		return
	}
	kn.activate()
}

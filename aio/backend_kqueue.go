//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

import (
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// The FreeBSD backend: POSIX AIO submitted with lio_listio (reads and
// writes, and on 14.0 and later vectored requests too), aio_readv and
// aio_writev (vectored requests on 13.x), and aio_fsync (flushes), as
// planKqueueCalls cuts each batch; completions reported as EVFILT_AIO events
// on the context's own close-on-exec kqueue, each collected with exactly one
// aio_return by the harvester. Under the fbsdmodel build tag the same code
// runs on Linux over internal/fbsdmodel instead of the kernel.

// wakeIdents numbers the EVFILT_USER events Wakeup triggers, one for each
// context's kqueue, so that a kqueue is told from every other kqueue of
// the process by whether it has its context's event (kqueueBackend.ours).
var wakeIdents atomic.Uintptr

// listioRetries bounds how often one submit re-reads the list limit after
// lio_listio refused a whole list with EINVAL.
const listioRetries = 3

// The context's kqueue has two descriptors, kq, which every call names,
// and spare, a dup of it, because its numbers are the process's: a program
// that closes a descriptor number twice (or dup2s onto a number it no
// longer owns) may close or replace kq. Were kq the kqueue's only
// descriptor, that would close the kqueue, which drops the knotes of the
// jobs in flight: their completions never come, they are never returned,
// and the context could never close. With spare the kqueue stays open,
// with its knotes; a call that finds kq is no longer the kqueue (EBADF,
// or a kqueue without this context's wake event) moves to spare, makes a
// new spare, and leaves the old number, now somebody else's, alone.
// Close closes only descriptors that are still the kqueue. What it does
// not cover: a request submitted after another kqueue was put at kq's
// number and before any call noticed reports to that kqueue, and never
// comes back; and once spare is gone too, nothing is left of the kqueue.
type kqueueBackend struct {
	// kq: the descriptor calls name (low 32 bits), and how many moves
	// made it so (high 32 bits), so that a call that saw a number fail
	// moves off it only if no other call has moved since, even if a
	// later move gave the kqueue that number again.
	kq    atomic.Uint64
	spare int32      // another descriptor of the kqueue, or -1; under fdmu
	fdmu  sync.Mutex // serializes moving from kq to spare
	ident uintptr    // the wake event's ident, this kqueue's own

	batch           int  // lio_listio's limit (p1003_1b.aio_listio_max), lowered when the kernel's is
	vectoredInLists bool // kern.osreldate >= 14.0

	calls []kqCall     // the plan of the batch being submitted
	list  []*sys.Aiocb // lio_listio's list, refilled for every call
	kevs  []sys.Kevent_t
	ts    sys.Timespec
	trig  [1]sys.Kevent_t // the NOTE_TRIGGER change
	probe [1]sys.Kevent_t // a change of the wake event that changes nothing: ENOENT on another kqueue
}

func newKqueueBackend(limit int) (backend, int, error) {
	lim, err := systemLimits()
	if err != nil {
		return nil, 0, err
	}
	limit = min(limit, lim.MaxOutstanding)
	rel, err := sys.Osreldate()
	if err != nil {
		rel = 0
	}
	vectoredLists, kqueuex := kqueueRelease(rel)
	kq, err := openKqueue(kqueuex)
	if err != nil {
		return nil, 0, err
	}
	ident := wakeIdents.Add(1)
	b := &kqueueBackend{
		ident:           ident,
		batch:           max(min(lim.BatchMax, limit), 1),
		vectoredInLists: vectoredLists,
		kevs:            make([]sys.Kevent_t, maxEvents),
		trig:            [1]sys.Kevent_t{{Ident: ident, Filter: sys.EVFILT_USER, Fflags: sys.NOTE_TRIGGER}},
		probe:           [1]sys.Kevent_t{{Ident: ident, Filter: sys.EVFILT_USER}},
	}
	b.kq.Store(uint64(uint32(kq)))
	b.list = make([]*sys.Aiocb, 0, b.batch)
	b.calls = make([]kqCall, 0, b.batch)
	reg := []sys.Kevent_t{{Ident: ident, Filter: sys.EVFILT_USER, Flags: sys.EV_ADD | sys.EV_CLEAR}}
	if _, err := sys.Kevent(kq, reg, nil, nil); err != nil {
		unix.Close(kq)
		return nil, 0, os.NewSyscallError("kevent(EVFILT_USER)", err)
	}
	// Without a spare (no descriptor left for it) the context works as
	// well, only without the cover.
	b.spare = -1
	if spare, err := dupCloexec(kq, 0); err == nil {
		b.spare = int32(spare)
	}
	return b, limit, nil
}

// openKqueue creates a close-on-exec kqueue: atomically with kqueuex on 15.0
// and later, else with kqueue and FD_CLOEXEC under syscall.ForkLock, so that
// no fork and exec in between inherits it.
func openKqueue(kqueuex bool) (int, error) {
	if kqueuex {
		kq, err := sys.Kqueuex(sys.KQUEUE_CLOEXEC)
		if err != nil {
			return -1, os.NewSyscallError("kqueuex", err)
		}
		return kq, nil
	}
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	kq, err := sys.Kqueue()
	if err != nil {
		return -1, os.NewSyscallError("kqueue", err)
	}
	if _, err := unix.FcntlInt(uintptr(kq), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		unix.Close(kq)
		return -1, os.NewSyscallError("fcntl(FD_CLOEXEC)", err)
	}
	return kq, nil
}

// dupCloexec is another close-on-exec descriptor of fd's file, numbered
// from least up.
func dupCloexec(fd, least int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, least)
}

// kqFd is the descriptor number of a value of kqueueBackend.kq.
func kqFd(seen uint64) int32 { return int32(uint32(seen)) }

// fd is the descriptor number calls name now.
func (b *kqueueBackend) fd() int32 { return kqFd(b.kq.Load()) }

// ours reports whether descriptor fd is the context's kqueue: a kqueue
// with its wake event.
func (b *kqueueBackend) ours(fd int32) bool {
	if fd < 0 {
		return false
	}
	_, err := sys.Kevent(int(fd), b.probe[:], nil, nil)
	return err == nil
}

// moveOff makes the backend stop naming the descriptor of seen (a value
// of kq), a number that is no longer its kqueue (closed, or another file
// now), and name spare instead, with a new spare numbered above the bad
// number, which the program has just shown it treats as its own. It
// reports false if spare is not the kqueue either: then nothing is left
// of it (the kqueue is closed, and the completions of its jobs are lost).
func (b *kqueueBackend) moveOff(seen uint64) bool {
	b.fdmu.Lock()
	defer b.fdmu.Unlock()
	if b.kq.Load() != seen {
		return true // another call moved already
	}
	if !b.ours(b.spare) {
		return false
	}
	next := int32(-1)
	if fd, err := dupCloexec(int(b.spare), int(kqFd(seen))+1); err == nil {
		next = int32(fd)
	} else if fd, err := dupCloexec(int(b.spare), 0); err == nil {
		next = int32(fd)
	}
	b.kq.Store((seen>>32+1)<<32 | uint64(uint32(b.spare)))
	b.spare = next
	return true
}

// lostError is the error of a call on a context whose kqueue is gone.
func lostError(kq int32) error {
	return fmt.Errorf("the context's kqueue (descriptor %d) was closed, or its number given to another file, outside the context: %w", kq, syscall.EBADF)
}

func (b *kqueueBackend) kernel() string { return "freebsd-aio" }

func (b *kqueueBackend) batchMax() int { return b.batch }

// submit makes the calls planKqueueCalls cuts batch into, in order, so that
// a flush follows the requests before it. Once the kernel lacks resources
// for one request, the rest of the batch is not offered and stays Prepared.
// A list the kernel refuses whole because its limit was lowered since the
// context was made is cut again at the new limit and resubmitted.
//
// An entry refused with EBADF may have named a kqueue number the program
// closed (or gave another file) since the backend last looked: if that
// number is no longer the kqueue, the backend moves to spare and submits
// those entries again (a few times at most), so that the program's
// mistake does not fail requests on good files.
func (b *kqueueBackend) submit(batch []*Request, res []syscall.Errno) {
	seen := b.kq.Load()
	b.submitPlanned(batch, res, kqFd(seen))
	var retry []*Request
	var rres []syscall.Errno
	for range kqMoveRetries {
		retry = retry[:0]
		for i, r := range batch {
			if res[i] == syscall.EBADF {
				retry = append(retry, r)
			}
		}
		if len(retry) == 0 || b.ours(kqFd(seen)) || !b.moveOff(seen) {
			return
		}
		seen = b.kq.Load()
		rres = append(rres[:0], make([]syscall.Errno, len(retry))...)
		b.submitPlanned(retry, rres, kqFd(seen))
		j := 0
		for i := range batch {
			if res[i] == syscall.EBADF {
				res[i] = rres[j]
				j++
			}
		}
	}
}

// kqMoveRetries bounds how often one submit submits entries again after
// their kqueue number failed.
const kqMoveRetries = 4

// submitPlanned is submit without the tries again, its requests reporting
// to descriptor kq.
func (b *kqueueBackend) submitPlanned(batch []*Request, res []syscall.Errno, kq int32) {
	for _, r := range batch {
		b.fill(r, kq)
	}
	b.calls = planKqueueCalls(b.calls[:0], batch, 0, b.vectoredInLists, b.batch)
	retries := 0
	for i := 0; i < len(b.calls); i++ {
		c := b.calls[i]
		reqs, out := batch[c.start:c.end], res[c.start:c.end]
		var again bool
		switch c.kind {
		case kqCallList:
			var tooLong bool
			again, tooLong = b.listio(reqs, out)
			if !tooLong {
				break
			}
			if retries == listioRetries {
				// Refused whole at a length the kernel says it takes:
				// the kernel's answer stands.
				fillErrno(out, syscall.EINVAL)
				break
			}
			retries++
			if !b.rereadLimit() {
				markAgain(res[c.start:])
				return
			}
			b.calls = planKqueueCalls(b.calls[:i], batch, c.start, b.vectoredInLists, b.batch)
			i--
			continue
		case kqCallVectored:
			again = b.single(reqs[0], out)
		case kqCallSync:
			again = b.fsync(reqs[0], out)
		}
		if again {
			markAgain(res[c.end:])
			return
		}
	}
}

// rereadLimit reads lio_listio's limit again after a list was refused
// whole, and lowers batch to it. It reports false if the kernel now takes no
// list at all (the limit is 0, and so is the queue's).
func (b *kqueueBackend) rereadLimit() bool {
	n := listioLimit()
	if n < 1 {
		return false
	}
	b.batch = min(b.batch, n)
	return true
}

// single submits one vectored request with aio_readv or aio_writev (one
// without buffers with aio_read or aio_write, as fill made it), which
// report failure as -1 with errno. It reports whether the kernel lacked
// resources.
func (b *kqueueBackend) single(r *Request, res []syscall.Errno) (again bool) {
	var err error
	switch cb := &r.cb.aiocb; cb.LioOpcode {
	case sys.LIO_READV:
		err = sys.AioReadv(cb)
	case sys.LIO_WRITEV:
		err = sys.AioWritev(cb)
	case sys.LIO_READ:
		err = sys.AioRead(cb)
	default:
		err = sys.AioWrite(cb)
	}
	if err != nil {
		res[0] = errnoOf(err)
	}
	return res[0] == syscall.EAGAIN
}

// fsync submits a flush with aio_fsync; see single.
func (b *kqueueBackend) fsync(r *Request, res []syscall.Errno) (again bool) {
	op := sys.O_SYNC
	if r.op == opDataSync {
		op = sys.O_DSYNC
	}
	if err := sys.AioFsync(op, &r.cb.aiocb); err != nil {
		res[0] = errnoOf(err)
	}
	return res[0] == syscall.EAGAIN
}

// fill writes r's aiocb from scratch: every field zero (so the kernel's
// write-back at submission is unambiguous), then the operation and a
// SIGEV_KEVENT notification to this kqueue, one-shot, whose udata is r's
// slot and generation. A vectored request without buffers becomes a read
// or write of 0 bytes, which it is: on a disk, FreeBSD takes a vectored
// job without iovecs on its bio path, issues no bio for it, and the job
// never completes (aio_qbio), nor does the process's exit, which waits
// for it.
func (b *kqueueBackend) fill(r *Request, kq int32) {
	cb := &r.cb.aiocb
	*cb = sys.Aiocb{Fildes: int32(r.fd), Offset: r.off}
	switch r.op {
	case opRead, opWrite:
		cb.LioOpcode = sys.LIO_WRITE
		if r.op == opRead {
			cb.LioOpcode = sys.LIO_READ
		}
		if len(r.buf) > 0 {
			cb.Buf = &r.buf[0]
		}
		cb.Nbytes = uint64(len(r.buf))
	case opReadv, opWritev:
		if len(r.bufs) == 0 {
			cb.LioOpcode = sys.LIO_WRITE
			if r.op == opReadv {
				cb.LioOpcode = sys.LIO_READ
			}
			break
		}
		cb.LioOpcode = sys.LIO_WRITEV
		if r.op == opReadv {
			cb.LioOpcode = sys.LIO_READV
		}
		iov := r.cb.iov[:0]
		for _, p := range r.bufs {
			v := sys.Iovec{Len: uint64(len(p))}
			if len(p) > 0 {
				v.Base = &p[0]
			}
			iov = append(iov, v)
		}
		r.cb.iov = iov
		r.pins.Pin(unsafe.Pointer(&iov[0]), uintptr(len(iov))*unsafe.Sizeof(iov[0]))
		cb.Buf = (*byte)(unsafe.Pointer(&iov[0]))
		cb.Nbytes = uint64(len(iov))
	}
	cb.Sigevent.Notify = sys.SIGEV_KEVENT
	cb.Sigevent.SetKqueue(int(kq))
	cb.Sigevent.KeventFlags = sys.EV_ONESHOT
	cb.Sigevent.Value = token(r.slot, r.gen)
}

// listio submits reads and writes (and, on 14.0 and later, vectored
// requests) with one lio_listio(LIO_NOWAIT) and sorts out each entry. It
// reports whether the kernel lacked resources, or whether it refused the
// whole list with EINVAL, which leaves every entry untouched and res unset:
// the list is longer than the kernel's limit allows now.
func (b *kqueueBackend) listio(reqs []*Request, res []syscall.Errno) (again, tooLong bool) {
	if len(reqs) == 0 {
		return false, false
	}
	list := b.list[:0]
	for _, r := range reqs {
		list = append(list, &r.cb.aiocb)
	}
	err := sys.LioListio(sys.LIO_NOWAIT, list, nil)
	clear(list)
	if err == nil {
		return false, false
	}
	errno := errnoOf(err)
	switch errno {
	case syscall.EAGAIN, syscall.EIO:
	case syscall.EINVAL:
		return false, true
	default:
		// The call as a whole was refused: the kernel queued nothing.
		fillErrno(res, errno)
		return false, false
	}
	for i, r := range reqs {
		res[i] = b.entryOutcome(&r.cb.aiocb, errno)
		if res[i] == syscall.EAGAIN {
			again = true
		}
	}
	return again, false
}

// entryOutcome classifies one entry of a lio_listio that failed with
// errno (EAGAIN or EIO) from what the kernel wrote into its aiocb at
// submission: EINPROGRESS means queued, status -1 with an errno means
// rejected with it. An entry left as fill made it (status and error 0)
// was never looked at: the kernel writes status -1 into every entry it
// takes up, first of all. That happens when the call failed before the
// entries, as 15.0's does with EAGAIN when the process's first AIO call
// cannot start an AIO daemon (aio_init_aioinfo); such an entry gets the
// call's errno, so that EAGAIN leaves it Prepared to be submitted again
// (aio_error would answer EINVAL for it, an aiocb it does not know).
// Anything else is asked of aio_error.
func (b *kqueueBackend) entryOutcome(cb *sys.Aiocb, errno syscall.Errno) syscall.Errno {
	switch p := cb.Private; {
	case p.Error == int64(syscall.EINPROGRESS):
		return 0
	case p.Status == -1 && p.Error > 0:
		return syscall.Errno(p.Error)
	case p.Status == 0 && p.Error == 0:
		return errno
	}
	v, err := sys.AioError(cb)
	switch {
	case err != nil:
		return errnoOf(err)
	case v == int(syscall.EINPROGRESS), v == 0:
		return 0
	}
	return syscall.Errno(v)
}

// fillErrno stores e for every request of res.
func fillErrno(res []syscall.Errno, e syscall.Errno) {
	for i := range res {
		res[i] = e
	}
}

// wait collects completion events; the wakeup event only sets woke.
func (b *kqueueBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	var ts *sys.Timespec
	if timeout >= 0 {
		b.ts = sys.Timespec{Sec: int64(timeout / time.Second), Nsec: int64(timeout % time.Second)}
		ts = &b.ts
	}
	// The probe makes a kqueue that is not the context's (a number the
	// program closed and reused, or dup2'd onto) fail the call at once
	// with an EV_ERROR event, before it waits or hands out its events.
	var k int
	for {
		seen := b.kq.Load()
		kq := kqFd(seen)
		var err error
		k, err = sys.Kevent(int(kq), b.probe[:], b.kevs[:min(len(evs), len(b.kevs))], ts)
		if err == syscall.EBADF || err == syscall.ENOENT || (err == nil && k > 0 && b.kevs[0].Flags&sys.EV_ERROR != 0) {
			if b.moveOff(seen) {
				continue
			}
			return 0, false, lostError(kq)
		}
		if err != nil {
			return 0, false, err
		}
		break
	}
	n, woke := 0, false
	for i := range b.kevs[:k] {
		kev := &b.kevs[i]
		switch kev.Filter {
		case sys.EVFILT_USER:
			woke = kev.Ident == b.ident
		case sys.EVFILT_AIO:
			slot, gen := untoken(uint64(kev.Udata))
			evs[n] = event{slot: slot, gen: gen, ident: kev.Ident, errno: syscall.Errno(kev.Data)}
			n++
		}
	}
	return n, woke, nil
}

// finish calls aio_return, exactly once per job: it frees the kernel's job
// and turns a failed job's -1 into its errno.
func (b *kqueueBackend) finish(r *Request, ev *event) (int, syscall.Errno, bool) {
	cb := &r.cb.aiocb
	if ev.ident != uintptr(unsafe.Pointer(cb)) {
		return 0, 0, false
	}
	n, err := sys.AioReturn(cb)
	if err != nil {
		return 0, errnoOf(err), true
	}
	return n, 0, true
}

func (b *kqueueBackend) cancel(r *Request) (cancelOutcome, error) {
	v, err := sys.AioCancel(r.fd, &r.cb.aiocb)
	if err != nil {
		return 0, err
	}
	switch v {
	case sys.AIO_CANCELED:
		return cancelDone, nil
	case sys.AIO_NOTCANCELED:
		return cancelNotCanceled, nil
	}
	return cancelAllDone, nil
}

func (b *kqueueBackend) wake() error {
	for {
		seen := b.kq.Load()
		kq := kqFd(seen)
		_, err := sys.Kevent(int(kq), b.trig[:], nil, nil)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EBADF, syscall.ENOENT: // not the context's kqueue
			if b.moveOff(seen) {
				continue
			}
			return lostError(kq)
		}
		return err
	}
}

// close closes the descriptors that are still the kqueue; a number that
// is somebody else's now stays open.
func (b *kqueueBackend) close() error {
	b.fdmu.Lock()
	defer b.fdmu.Unlock()
	var err error
	for _, fd := range [2]int32{b.fd(), b.spare} {
		if b.ours(fd) {
			if e := unix.Close(int(fd)); err == nil {
				err = e
			}
		}
	}
	b.kq.Store(uint64(math.MaxUint32)) // descriptor -1
	b.spare = -1
	return err
}

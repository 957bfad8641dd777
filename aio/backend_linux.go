//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"encoding/binary"
	"errors"
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

// The Linux backend drives kernel AIO (io_submit, io_getevents), one kernel
// AIO context per Context.
//
// Linux AIO is asynchronous only for files opened with O_DIRECT, whose
// buffers, offsets and lengths are aligned (AlignedBuffer,
// Limits.BufferAlignment). A buffered read or write is performed inside
// io_submit: Submit then blocks until the data is copied, and the request
// is already done when Wait collects it. That is correct, only not
// concurrent.
//
// Cancel cannot stop a file read, write or sync: Linux only cancels jobs
// that wait on something (such as polls), and io_cancel cannot tell a
// running file job from a finished one whose event Wait has not collected.
// Cancel on a submitted request therefore reports ErrInProgress, and the
// request completes with its normal result.
//
// Completions are read from the ring the kernel maps at the AIO context's
// address (as libaio and fio do), without a system call while there are
// any; io_getevents is called only to block. io_submit dispatches a batch
// of more than two requests to the device only when it returns, so a batch
// is submitted one request first, then two, four and so on, to let the
// device start on the first ones while the kernel prepares the rest.
// Requests that complete inside io_submit (buffered I/O) gain nothing from
// that: once the ring shows that a request was done during its call, the
// rest of the batch, and the next batches, go in one call each, until one
// is not done during its call.
//
// Wakeup writes an eventfd on which a poll job (IOCB_CMD_POLL) is kept
// armed in the AIO context, so a blocked io_getevents returns with the
// poll's completion. The eventfd's counter holds a wakeup that lands before
// the waiter blocks, or while the poll is being re-armed: the re-armed poll
// completes at once.
//
// The eventfd's numbers are the process's: a program that closes a
// descriptor number twice may close efd, and its next open take the
// number. So the eventfd has a second descriptor, spare, and every use of
// efd (Wakeup's write, the waiter's drain and re-arm, Close) first checks
// that efd is still the eventfd (same device, inode and mode as when
// made), and moves to spare if not, leaving the number, now somebody
// else's, alone. A wakeup thus never writes into a file of the program's,
// and Close closes none. What the check cannot tell apart: an eventfd,
// epoll, timerfd, signalfd or inotify descriptor of the program's put at
// efd's number (Linux gives all of those one inode); and once spare is
// gone too, Wakeup and Wait fail with EBADF.

// wakeData is the aio_data of the poll job; token never produces it, as
// slot indexes stay far below 2^32-1.
const wakeData = math.MaxUint64

// maxKernelContext is the largest context io_setup accepts: the kernel
// doubles the count and caps the ring at 0x10000000 bytes of io_events.
const maxKernelContext = 0x10000000 / 32 / 2

type linuxBackend struct {
	ctx   uintptr // the kernel AIO context
	limit int
	efd   int // the eventfd Wakeup writes; under fdmu
	spare int // another descriptor of the eventfd, or -1; under fdmu
	fdmu  sync.Mutex
	efdID eventfdID // what fstat says of the eventfd
	one   []byte    // the eventfd increment, 1 in host order

	// cbs holds the iocb of each slot, in an anonymous mapping (cbMem)
	// outside the Go heap: the kernel writes an iocb during io_submit and
	// identifies the job by its address until the event is reaped, and
	// memory the garbage collector does not manage needs no pin, so only
	// a request's buffers are pinned (see pinning).
	cbs   []sys.Iocb
	cbMem []byte

	// ring is the kernel's completion ring, nil where it is not mapped at
	// the context's address as expected.
	ring *aioRing

	// inline: the last request submitted was done inside io_submit. Used
	// under the Context's submission lock.
	inline bool

	// nowaitWrites: O_DIRECT writes go to the kernel with RWF_NOWAIT
	// (nowaitWrite), so that one a filesystem would do inside io_submit
	// completes at once with EAGAIN instead (refusedWait). Set by
	// DefaultBackend, whose goroutine engine then serves it, before use.
	nowaitWrites bool

	// Used under the Context's submission lock.
	ptrs []*sys.Iocb // io_submit's iocb pointer array
	idx  []int       // the batch index of each of ptrs

	// Used under the Context's mutex.
	canceled sys.IoEvent // io_cancel's result, unused by kernels since 3.11

	// Used by the waiter only.
	poll    sys.Iocb // IOCB_CMD_POLL on efd; its address is its identity
	pollPtr [1]*sys.Iocb
	armed   bool
	events  []sys.IoEvent
	ts      unix.Timespec
	drained []byte
}

// newLinuxBackend creates the kernel AIO context for limit requests (plus
// the poll job), clamped to fs.aio-max-nr. The error matches ErrAgain when
// fs.aio-max-nr, shared by all processes, has no room left, and
// ErrNotSupported when the kernel has no AIO or no IOCB_CMD_POLL (before
// Linux 4.18).
func newLinuxBackend(limit int) (*linuxBackend, int, error) {
	limit = clampLimit(limit)
	ctx, err := sys.IoSetup(limit + 1)
	if err != nil {
		return nil, 0, ioSetupError(limit+1, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = sys.IoDestroy(ctx)
		return nil, 0, os.NewSyscallError("eventfd", err)
	}
	id, err := idOf(efd)
	spare := -1
	if err == nil {
		spare, err = unix.FcntlInt(uintptr(efd), unix.F_DUPFD_CLOEXEC, 0)
	}
	if err != nil {
		_ = sys.IoDestroy(ctx)
		_ = unix.Close(efd)
		return nil, 0, os.NewSyscallError("eventfd", err)
	}
	cbMem, err := unix.Mmap(-1, 0, limit*int(unsafe.Sizeof(sys.Iocb{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		_ = sys.IoDestroy(ctx)
		_ = unix.Close(efd)
		_ = unix.Close(spare)
		return nil, 0, os.NewSyscallError("mmap", err)
	}
	b := &linuxBackend{
		ctx:     ctx,
		limit:   limit,
		efd:     efd,
		spare:   spare,
		efdID:   id,
		cbs:     unsafe.Slice((*sys.Iocb)(unsafe.Pointer(&cbMem[0])), limit),
		cbMem:   cbMem,
		one:     binary.NativeEndian.AppendUint64(nil, 1),
		ptrs:    make([]*sys.Iocb, limit),
		idx:     make([]int, limit),
		events:  make([]sys.IoEvent, maxEvents),
		drained: make([]byte, 8),
	}
	b.ring = mappedRing(ctx)
	b.poll = sys.Iocb{Data: wakeData, LioOpcode: sys.IOCB_CMD_POLL, Buf: unix.POLLIN}
	b.pollPtr[0] = &b.poll
	if err := b.arm(); err != nil {
		_ = b.close()
		if err == syscall.EINVAL {
			return nil, 0, fmt.Errorf("io_submit(IOCB_CMD_POLL): %w (%w)", ErrNotSupported, err)
		}
		return nil, 0, os.NewSyscallError("io_submit(IOCB_CMD_POLL)", err)
	}
	return b, limit, nil
}

// ioSetupError explains a failed io_setup(nr).
func ioSetupError(nr int, err error) error {
	switch err {
	case syscall.EAGAIN:
		return fmt.Errorf("io_setup(%d): no room under the system-wide fs.aio-max-nr: %w", nr, ErrAgain)
	case syscall.ENOSYS, syscall.EPERM:
		return fmt.Errorf("io_setup(%d): %w (%w)", nr, ErrNotSupported, err)
	}
	return os.NewSyscallError("io_setup", err)
}

func (b *linuxBackend) kernel() string { return "linux-aio" }

func (b *linuxBackend) batchMax() int { return b.limit }

// pinning: the iocbs are outside the Go heap, so only buffers are pinned.
func (b *linuxBackend) pinning() pinning { return pinBuffers }

// submit queues batch with io_submit in chunks of 1, 2, 4... entries, or
// in one call while requests are done inside io_submit, and again from
// each entry the kernel stopped at: EAGAIN refuses that entry and the
// rest, another errno rejects that entry alone. A request io_submit would
// block on until data comes (linuxSubmitBlocks) is not given to it.
func (b *linuxBackend) submit(batch []*Request, res []syscall.Errno) {
	ptrs, idx := b.ptrs[:0], b.idx[:0]
	for i, r := range batch {
		if linuxSubmitBlocks(&r.class) {
			res[i] = syscall.EOPNOTSUPP
			continue
		}
		cb := &b.cbs[r.slot]
		r.cb.fill(cb, r, token(r.slot, r.gen))
		if b.triesNowait(r) {
			cb.RwFlags = unix.RWF_NOWAIT
		}
		ptrs, idx = append(ptrs, cb), append(idx, i)
	}
	chunk := len(ptrs)
	if b.ring != nil && !b.inline {
		chunk = 1
	}
	for i := 0; i < len(ptrs); {
		var tail uint32
		if b.ring != nil {
			tail = b.ring.loadTail()
		}
		n, err := sys.IoSubmit(b.ctx, ptrs[i:min(len(ptrs), i+chunk)])
		if n > 0 {
			i += n
			if b.ring != nil {
				b.inline = b.ring.doneSince(tail, ptrs[i-1])
			}
			if b.inline {
				chunk = len(ptrs) // nothing to overlap
			} else {
				chunk *= 2
			}
			continue
		}
		switch errno := errnoOf(err); errno {
		case syscall.EINTR:
		case 0, syscall.EAGAIN:
			markAgain(res[idx[i]:])
			i = len(ptrs)
		default:
			res[idx[i]] = errno
			i++
		}
	}
	clear(ptrs)
}

func (b *linuxBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	if !b.armed {
		if err := b.arm(); err != nil {
			return 0, false, os.NewSyscallError("io_submit(IOCB_CMD_POLL)", err)
		}
	}
	if len(b.events) < len(evs) {
		b.events = make([]sys.IoEvent, len(evs))
	}
	k := -1
	if b.ring != nil {
		k = b.ring.reap(b.events[:len(evs)])
	}
	if k < 0 || k == 0 && timeout != 0 {
		var ts *unix.Timespec
		if timeout >= 0 {
			b.ts = unix.NsecToTimespec(int64(timeout))
			ts = &b.ts
		}
		var err error
		k, err = sys.IoGetevents(b.ctx, 1, b.events[:len(evs)], ts)
		if err == syscall.EINTR {
			return 0, false, err
		}
		if err != nil {
			return 0, false, os.NewSyscallError("io_getevents", err)
		}
	}
	n, woke := 0, false
	for _, kev := range b.events[:k] {
		if kev.Data == wakeData {
			woke = true
			continue
		}
		ev := &evs[n]
		ev.slot, ev.gen = untoken(kev.Data)
		ev.ident, ev.res, ev.errno = uintptr(kev.Obj), kev.Res, 0
		if kev.Res < 0 {
			ev.res, ev.errno = 0, syscall.Errno(-kev.Res)
		}
		n++
	}
	if woke {
		b.armed = false // the poll job completed; armed again below, or by the next wait
		b.fdmu.Lock()
		if fd, err := b.liveEventfdLocked(); err == nil {
			_, _ = unix.Read(fd, b.drained) // a wake left in the counter only ends the next wait early
		}
		b.fdmu.Unlock()
		if err := b.arm(); err != nil {
			return n, true, os.NewSyscallError("io_submit(IOCB_CMD_POLL)", err)
		}
	}
	return n, woke, nil
}

// arm queues the poll job; a wakeup already counted in the eventfd
// completes it at once.
func (b *linuxBackend) arm() error {
	for tries := 0; ; {
		b.fdmu.Lock()
		fd, err := b.liveEventfdLocked()
		b.fdmu.Unlock()
		if err != nil {
			return err
		}
		b.poll.Fildes = uint32(fd)
		n, err := sys.IoSubmit(b.ctx, b.pollPtr[:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EBADF && tries < eventfdTries:
			tries++ // closed since the check: look again
			continue
		case err != nil:
			return err
		case n != 1:
			return syscall.EAGAIN
		}
		b.armed = true
		return nil
	}
}

// eventfdTries bounds how often one use of the eventfd looks again after
// its number was closed between the check and the call.
const eventfdTries = 4

// nowaitWrite reports whether r is a write that DefaultBackend gives the
// kernel only if it need not wait inside io_submit. ext4 does an O_DIRECT
// write that extends the file inside io_submit, until the device has it;
// with RWF_NOWAIT it refuses at once that one and every other that might
// wait (one over pages the page cache holds, among them), and the write
// goes to the goroutine engine.
func nowaitWrite(r *Request) bool {
	return (r.op == opWrite || r.op == opWritev) && r.class.kind == kindRegular
}

func (b *linuxBackend) triesNowait(r *Request) bool { return b.nowaitWrites && nowaitWrite(r) }

func (b *linuxBackend) refusedWait(r *Request, errno syscall.Errno) bool {
	return errno == syscall.EAGAIN && b.triesNowait(r)
}

func (b *linuxBackend) finish(r *Request, ev *event) (int, syscall.Errno, bool) {
	if ev.ident != uintptr(unsafe.Pointer(&b.cbs[r.slot])) {
		return 0, 0, false
	}
	n, errno := eventResult(ev)
	return n, errno, true
}

// cancel reports cancelNotCanceled for every file job (see the comment at
// the top of this file). A kernel that does cancel reports EINPROGRESS (0
// on some kernels), and the job's event still arrives through io_getevents.
func (b *linuxBackend) cancel(r *Request) (cancelOutcome, error) {
	switch err := sys.IoCancel(b.ctx, &b.cbs[r.slot], &b.canceled); err {
	case nil, syscall.EINPROGRESS:
		return cancelDone, nil
	case syscall.EINVAL, syscall.EAGAIN:
		return cancelNotCanceled, nil
	default:
		return cancelNotCanceled, os.NewSyscallError("io_cancel", err)
	}
}

func (b *linuxBackend) wake() error {
	b.fdmu.Lock()
	defer b.fdmu.Unlock()
	var err error
	for tries := 0; tries <= eventfdTries; tries++ {
		var fd int
		if fd, err = b.liveEventfdLocked(); err == nil {
			_, err = unix.Write(fd, b.one)
		}
		if err != syscall.EBADF {
			break // EBADF: closed since the check; look again
		}
	}
	if err != nil && err != syscall.EAGAIN { // EAGAIN: the counter is already full
		return os.NewSyscallError("write(eventfd)", err)
	}
	return nil
}

// eventfdID is what fstat says of an eventfd, to tell whether a descriptor
// number still names it.
type eventfdID struct {
	dev, ino uint64
	mode     uint32
}

func idOf(fd int) (eventfdID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return eventfdID{}, err
	}
	return eventfdID{dev: uint64(st.Dev), ino: uint64(st.Ino), mode: st.Mode}, nil
}

// isEventfd reports whether fd still names the context's eventfd, as far
// as fstat can tell (see the top of this file).
func (b *linuxBackend) isEventfd(fd int) bool {
	if fd < 0 {
		return false
	}
	id, err := idOf(fd)
	return err == nil && id == b.efdID
}

// liveEventfdLocked returns a descriptor of the context's eventfd: efd if
// it still is one, else the spare, which becomes efd (with a new spare). A
// number that no longer names the eventfd is forgotten, never closed. It
// fails with EBADF once neither descriptor is left. Called under fdmu.
func (b *linuxBackend) liveEventfdLocked() (int, error) {
	if b.isEventfd(b.efd) {
		return b.efd, nil
	}
	b.efd = -1
	if !b.isEventfd(b.spare) {
		b.spare = -1
		return -1, syscall.EBADF
	}
	b.efd, b.spare = b.spare, -1
	if fd, err := unix.FcntlInt(uintptr(b.efd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
		b.spare = fd
	}
	return b.efd, nil
}

// close destroys the AIO context, which cancels the poll job and waits
// for every job, then closes the eventfd the poll referred to and unmaps
// the iocbs, which the kernel no longer touches.
func (b *linuxBackend) close() error {
	var destroyErr, closeErr, unmapErr error
	if err := sys.IoDestroy(b.ctx); err != nil {
		destroyErr = os.NewSyscallError("io_destroy", err)
	}
	b.fdmu.Lock()
	for _, fd := range [2]int{b.efd, b.spare} {
		if !b.isEventfd(fd) {
			continue // closed, or somebody else's by now
		}
		if err := unix.Close(fd); err != nil && closeErr == nil {
			closeErr = os.NewSyscallError("close(eventfd)", err)
		}
	}
	b.efd, b.spare = -1, -1
	b.fdmu.Unlock()
	if destroyErr == nil {
		b.cbs = nil
		if err := unix.Munmap(b.cbMem); err != nil {
			unmapErr = os.NewSyscallError("munmap", err)
		}
		b.cbMem = nil
	}
	return errors.Join(destroyErr, closeErr, unmapErr)
}

// aioRing is the header of the completion ring (struct aio_ring of Linux's
// fs/aio.c) that io_setup maps into the process at the address it returns
// as the context. The kernel adds events at tail; the reader takes them
// from head and moves head, which io_getevents does too and which the
// kernel reads back to account for free places.
type aioRing struct {
	id, nr, head, tail uint32
	magic              uint32
	compatFeatures     uint32
	incompatFeatures   uint32
	headerLength       uint32
	// nr io_events follow.
}

const aioRingMagic = 0xa10a10a1

// mappedRing returns the ring of the AIO context ctx, or nil if what is
// there does not look like the ring this code knows.
func mappedRing(ctx uintptr) *aioRing {
	if ctx == 0 || ctx%unsafe.Alignof(sys.IoEvent{}) != 0 {
		return nil
	}
	r := *(*unsafe.Pointer)(unsafe.Pointer(&ctx)) // the context is the ring's address
	ring := (*aioRing)(r)
	if ring.magic != aioRingMagic || ring.incompatFeatures != 0 ||
		ring.headerLength != uint32(unsafe.Sizeof(*ring)) || ring.nr == 0 {
		return nil
	}
	return ring
}

// events is the ring's array of events.
func (r *aioRing) events() []sys.IoEvent {
	return unsafe.Slice((*sys.IoEvent)(unsafe.Add(unsafe.Pointer(r), unsafe.Sizeof(*r))), r.nr)
}

func (r *aioRing) loadTail() uint32 { return atomic.LoadUint32(&r.tail) }

// doneSince reports whether the event of cb is among those the kernel
// added to the ring since its tail was t. The waiter may be taking them
// meanwhile, but the kernel cannot write over them: the ring has room for
// more events than there can be requests in flight. It looks from the
// newest back: cb is the last one submitted, so its event, if there, is
// usually the last.
func (r *aioRing) doneSince(t uint32, cb *sys.Iocb) bool {
	obj := uint64(uintptr(unsafe.Pointer(cb)))
	evs, e := r.events(), r.loadTail()
	if t >= r.nr || e >= r.nr {
		return false
	}
	for e != t {
		if e == 0 {
			e = r.nr
		}
		e--
		if evs[e].Obj == obj {
			return true
		}
	}
	return false
}

// reap moves the events in the ring, up to len(out), into out, or returns
// -1 if head or tail is out of range (io_getevents then reports what is
// wrong). Only the waiter calls it, never during an io_getevents call of
// the same context.
func (r *aioRing) reap(out []sys.IoEvent) int {
	head, tail := atomic.LoadUint32(&r.head), atomic.LoadUint32(&r.tail)
	if head >= r.nr || tail >= r.nr {
		return -1
	}
	evs := r.events()
	n := 0
	for ; head != tail && n < len(out); n++ {
		out[n] = evs[head]
		if head++; head == r.nr {
			head = 0
		}
	}
	if n > 0 {
		atomic.StoreUint32(&r.head, head)
	}
	return n
}

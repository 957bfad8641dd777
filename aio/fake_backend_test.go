package aio

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/pin"
)

// fakeBackend is a scriptable kernel for the state machine's tests. The
// test decides what submit answers for each request, when and how each
// queued job completes (any order, any result, duplicate, stale or forged
// events), what cancel answers, how often wait is interrupted by EINTR; the
// wakeup is latched like EVFILT_USER with EV_CLEAR. It checks what the
// state machine asks of it: the batch limit, at most 64 events per wait,
// one waiter at a time, the context's mutex held where the interface says
// so, and finish called exactly once for every queued job and never for a
// rejected one.
type fakeBackend struct {
	tb  testing.TB
	ctx *Context // whose mutex must be held by submit, finish, cancel, wake, close

	batch int // what batchMax reports

	// Submission script, read under the context's mutex.
	outcome  func(r *Request) syscall.Errno // decides each request if set
	script   []syscall.Errno                // else the next outcomes, in order
	capacity int                            // else EAGAIN once this many jobs are in the kernel (0: no limit)
	auto     bool                           // complete each queued job at once with its full length

	// Cancel script: cancelFn answers if set; otherwise cancelDone for a
	// job that has not completed (its ECANCELED completion is posted later
	// by the test, see deliverCanceled) and cancelAllDone for one that has.
	cancelFn func(r *Request) (cancelOutcome, error)

	// rawReturn makes finish report a failed job as aio_return does: -1
	// and the errno.
	rawReturn bool

	mu       sync.Mutex
	jobs     []fakeJob           // by slot: the slot's latest submission
	index    map[*Request]uint32 // slot of each queued request (not kept in auto mode)
	queue    []event             // posted events not yet collected
	latch    bool                // EVFILT_USER triggered, not yet reported
	eintr    int                 // wait calls still to fail with EINTR
	failNext error               // the next wait call fails with this
	onWait   func()              // called at every wait before it looks or blocks
	onWake   func() error        // called at every wake, without mu; its error fails the wake, which then triggers nothing
	waiting  bool
	closed   bool
	nextID   uintptr
	inKernel int // queued and not yet finished

	// Counters and logs, under mu.
	queued, finished, rejected, again int
	waitCalls, wakes, closes          int
	logging                           bool
	batches                           []int // len of each submit batch
	waitLens                          []int // len(evs) of each wait call
	waitGot                           []int // events returned by each wait call
	seen                              []*Request

	notify chan struct{}
	timer  *time.Timer
}

type fakeJobState uint8

const (
	fjFree fakeJobState = iota
	fjQueued
	fjRejected
	fjFinished
)

// fakeJob is the fake kernel's record of one submission.
type fakeJob struct {
	r         *Request
	gen       uint32
	ident     uintptr
	state     fakeJobState
	completed bool // an event was posted; res and errno are final
	canceled  bool // cancel answered cancelDone
	res       int64
	errno     syscall.Errno
}

func newFakeBackend(tb testing.TB, batch, limit int) *fakeBackend {
	f := &fakeBackend{
		tb:     tb,
		batch:  batch,
		jobs:   make([]fakeJob, limit),
		index:  make(map[*Request]uint32),
		queue:  make([]event, 0, limit),
		notify: make(chan struct{}, 1),
		timer:  time.NewTimer(time.Hour),
		nextID: 0x1000,
	}
	f.timer.Stop()
	return f
}

// newFakeContext returns a context over a fresh fake backend. At cleanup it
// checks that every queued job was finished exactly once (drain what you
// submit) and that no pins are left.
func newFakeContext(tb testing.TB, cfg Config, batch, limit int) (*Context, *fakeBackend) {
	tb.Helper()
	smCheckPins(tb)
	f := newFakeBackend(tb, batch, limit)
	c := newContext(cfg, f, limit)
	f.ctx = c
	tb.Cleanup(func() { f.verifyDrained() })
	return c, f
}

// smCheckPins makes the test fail if pins are live when it ends.
func smCheckPins(tb testing.TB) {
	tb.Helper()
	start := pin.Live()
	tb.Cleanup(func() {
		if n := pin.Live(); n != 0 {
			tb.Errorf("%d pins live at the end of the test (%d at its start)", n, start)
		}
	})
}

// smFile returns a temporary file open for reading and writing, holding
// size bytes of a known pattern.
func smFile(tb testing.TB, size int) *os.File {
	tb.Helper()
	f, err := os.OpenFile(filepath.Join(tb.TempDir(), "data"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if size > 0 {
		if _, err := f.Write(smPattern(0, size)); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// smPattern returns n bytes of the pattern smFile writes, from offset off.
func smPattern(off int64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off+int64(i))*7 + 3)
	}
	return b
}

func (f *fakeBackend) mustHoldContextLock(what string) {
	if f.ctx != nil && f.ctx.mu.TryLock() {
		f.ctx.mu.Unlock()
		f.tb.Errorf("fake backend: %s called without the context's mutex", what)
	}
}

// mustHoldSubmitLock checks that submit runs under the context's
// submission lock. (That it does not hold the state mutex, which Wait,
// Cancel and Close need while a submission blocks in the kernel, is
// TestSubmitBlockedInKernel's to show.)
func (f *fakeBackend) mustHoldSubmitLock() {
	if f.ctx != nil && f.ctx.smu.TryLock() {
		f.ctx.smu.Unlock()
		f.tb.Errorf("fake backend: submit called without the submission lock")
	}
}

// mustHoldWakeLock checks that wake is ordered against close.
func (f *fakeBackend) mustHoldWakeLock() {
	if f.ctx != nil && f.ctx.wmu.TryLock() {
		f.ctx.wmu.Unlock()
		f.tb.Errorf("fake backend: wake called without the wake lock")
	}
}

func (f *fakeBackend) kernel() string { return "fake" }

func (f *fakeBackend) batchMax() int { return f.batch }

func (f *fakeBackend) submit(batch []*Request, res []syscall.Errno) {
	f.mustHoldSubmitLock()
	if len(batch) == 0 || len(batch) > f.batch {
		f.tb.Errorf("fake backend: submit of %d requests, batchMax %d", len(batch), f.batch)
	}
	if len(res) != len(batch) {
		f.tb.Errorf("fake backend: submit with %d results for %d requests", len(res), len(batch))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		f.tb.Errorf("fake backend: submit after close")
	}
	if f.logging {
		f.batches = append(f.batches, len(batch))
	}
	for i, r := range batch {
		if res[i] != 0 {
			f.tb.Errorf("fake backend: res[%d] = %v on entry, want 0", i, res[i])
		}
		if st := r.State(); st != Submitted || !r.sorting {
			f.tb.Errorf("fake backend: submit of a %v request (claimed by this Submit: %v)", st, r.sorting)
		}
		if r.ownerCtx() != f.ctx {
			f.tb.Errorf("fake backend: submit of a request the context does not own")
		}
		if r.pins.Len() == 0 {
			f.tb.Errorf("fake backend: submit of an unpinned request")
		}
		if int(r.slot) >= len(f.jobs) {
			f.tb.Errorf("fake backend: slot %d out of range %d", r.slot, len(f.jobs))
			res[i] = syscall.EINVAL
			continue
		}
		j := &f.jobs[r.slot]
		if j.state == fjQueued {
			f.tb.Errorf("fake backend: slot %d reused while its job is queued", r.slot)
		}
		if j.r != nil && j.gen == r.gen && j.state != fjFree {
			f.tb.Errorf("fake backend: slot %d generation %d reused", r.slot, r.gen)
		}
		if f.logging {
			f.seen = append(f.seen, r)
		}
		var e syscall.Errno
		switch {
		case f.outcome != nil:
			e = f.outcome(r)
		case len(f.script) > 0:
			e, f.script = f.script[0], f.script[1:]
		case f.capacity > 0 && f.inKernel >= f.capacity:
			e = syscall.EAGAIN
		}
		res[i] = e
		switch e {
		case 0:
			f.nextID += 160
			*j = fakeJob{r: r, gen: r.gen, ident: f.nextID, state: fjQueued}
			f.queued++
			f.inKernel++
			if f.auto {
				f.completeLocked(j, int64(r.length()), 0)
			} else {
				f.index[r] = r.slot
			}
		case syscall.EAGAIN:
			f.again++
		default:
			*j = fakeJob{r: r, gen: r.gen, state: fjRejected}
			f.rejected++
		}
	}
}

// completeLocked records j's result (the first completion wins, as in the
// kernel) and posts its event.
func (f *fakeBackend) completeLocked(j *fakeJob, res int64, errno syscall.Errno) {
	if !j.completed {
		j.completed, j.res, j.errno = true, res, errno
	}
	f.queue = append(f.queue, event{slot: j.r.slot, gen: j.gen, ident: j.ident, res: j.res, errno: j.errno})
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// job returns r's queued job, failing the test if there is none.
func (f *fakeBackend) jobLocked(r *Request) *fakeJob {
	slot, ok := f.index[r]
	if !ok {
		f.tb.Fatalf("fake backend: request %p is not queued", r)
	}
	return &f.jobs[slot]
}

// complete makes r's job finish with res bytes or errno and posts its event.
// Called again for the same job it posts a duplicate event.
func (f *fakeBackend) complete(r *Request, res int64, errno syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completeLocked(f.jobLocked(r), res, errno)
}

// completeOK completes each of reqs with its full length.
func (f *fakeBackend) completeOK(reqs ...*Request) {
	for _, r := range reqs {
		f.complete(r, int64(r.length()), 0)
	}
}

// completeAll completes every queued job that has not completed yet, with
// its full length (ECANCELED if it was canceled).
func (f *fakeBackend) completeAll() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i := range f.jobs {
		j := &f.jobs[i]
		if j.state != fjQueued || j.completed {
			continue
		}
		if j.canceled {
			f.completeLocked(j, 0, syscall.ECANCELED)
		} else {
			f.completeLocked(j, int64(j.r.length()), 0)
		}
		n++
	}
	return n
}

// deliverCanceled posts the ECANCELED completion of every job cancel
// answered cancelDone for.
func (f *fakeBackend) deliverCanceled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i := range f.jobs {
		j := &f.jobs[i]
		if j.state == fjQueued && j.canceled && !j.completed {
			f.completeLocked(j, 0, syscall.ECANCELED)
			n++
		}
	}
	return n
}

// post queues ev as it is: a forged, stale or duplicate event.
func (f *fakeBackend) post(ev event) {
	f.mu.Lock()
	f.queue = append(f.queue, ev)
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// current returns r's queued job as an event (to forge variants of it).
func (f *fakeBackend) current(r *Request) event {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobLocked(r)
	return event{slot: r.slot, gen: j.gen, ident: j.ident, res: int64(r.length())}
}

func (f *fakeBackend) setEINTR(n int) {
	f.mu.Lock()
	f.eintr = n
	f.mu.Unlock()
}

func (f *fakeBackend) setOnWait(fn func()) {
	f.mu.Lock()
	f.onWait = fn
	f.mu.Unlock()
}

// pending reports the events posted and not yet collected.
func (f *fakeBackend) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

func (f *fakeBackend) counts() (queued, finished, rejected, again int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queued, f.finished, f.rejected, f.again
}

func (f *fakeBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	if len(evs) == 0 || len(evs) > 64 {
		f.tb.Errorf("fake backend: wait for %d events; the buffer holds 64", len(evs))
	}
	f.mu.Lock()
	if f.waiting {
		f.tb.Errorf("fake backend: two concurrent wait calls")
	}
	if f.closed {
		f.tb.Errorf("fake backend: wait after close")
	}
	f.waiting = true
	f.waitCalls++
	if f.logging {
		f.waitLens = append(f.waitLens, len(evs))
	}
	intr := f.eintr > 0
	if intr {
		f.eintr--
	}
	fail := f.failNext
	f.failNext = nil
	hook := f.onWait
	f.mu.Unlock()
	n, woke := 0, false
	defer func() {
		f.mu.Lock()
		f.waiting = false
		if f.logging {
			f.waitGot = append(f.waitGot, n)
		}
		f.mu.Unlock()
	}()
	if intr {
		return 0, false, syscall.EINTR
	}
	if fail != nil {
		return 0, false, fail
	}
	if hook != nil {
		hook()
	}
	timerSet := false
	defer func() {
		if timerSet {
			f.timer.Stop()
		}
	}()
	for {
		f.mu.Lock()
		n = copy(evs, f.queue)
		rest := copy(f.queue, f.queue[n:])
		f.queue = f.queue[:rest]
		woke, f.latch = f.latch, false
		f.mu.Unlock()
		if n > 0 || woke || timeout == 0 {
			return n, woke, nil
		}
		if timeout < 0 {
			<-f.notify
			continue
		}
		if !timerSet {
			f.timer.Reset(timeout)
			timerSet = true
		}
		select {
		case <-f.notify:
		case <-f.timer.C:
			timerSet = false
			timeout = 0
		}
	}
}

func (f *fakeBackend) finish(r *Request, ev *event) (int, syscall.Errno, bool) {
	f.mustHoldContextLock("finish")
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(r.slot) >= len(f.jobs) {
		f.tb.Errorf("fake backend: finish of slot %d out of range", r.slot)
		return 0, 0, false
	}
	j := &f.jobs[r.slot]
	switch {
	case j.r != r || j.gen != r.gen:
		f.tb.Errorf("fake backend: finish of a request that is not the slot's current job")
		return 0, 0, false
	case j.state == fjRejected:
		f.tb.Errorf("fake backend: finish of a request rejected at submission")
		return 0, 0, false
	case j.state == fjFinished:
		f.tb.Errorf("fake backend: finish called twice for one job")
		return 0, 0, false
	case j.state != fjQueued:
		f.tb.Errorf("fake backend: finish of a free slot")
		return 0, 0, false
	case ev.slot != r.slot || ev.gen != r.gen:
		f.tb.Errorf("fake backend: finish with an event of slot %d gen %d for slot %d gen %d", ev.slot, ev.gen, r.slot, r.gen)
		return 0, 0, false
	case ev.ident != j.ident:
		return 0, 0, false // not this job's event: the caller must ignore it
	case !j.completed:
		f.tb.Errorf("fake backend: finish of a job that has not completed")
		return 0, 0, false
	}
	j.state = fjFinished
	f.finished++
	f.inKernel--
	if !f.auto {
		delete(f.index, r)
	}
	if j.errno != 0 {
		if f.rawReturn {
			return -1, j.errno, true
		}
		return 0, j.errno, true
	}
	return int(j.res), 0, true
}

func (f *fakeBackend) cancel(r *Request) (cancelOutcome, error) {
	f.mustHoldContextLock("cancel")
	f.mu.Lock()
	defer f.mu.Unlock()
	j := &f.jobs[r.slot]
	if j.r != r || j.state != fjQueued {
		f.tb.Errorf("fake backend: cancel of a request that is not queued (state %d)", j.state)
		return cancelAllDone, nil
	}
	if f.cancelFn != nil {
		out, err := f.cancelFn(r)
		if err == nil && out == cancelDone {
			j.canceled = true
		}
		return out, err
	}
	if j.completed {
		return cancelAllDone, nil
	}
	j.canceled = true
	return cancelDone, nil
}

func (f *fakeBackend) wake() error {
	f.mustHoldWakeLock()
	f.mu.Lock()
	hook := f.onWake
	f.mu.Unlock()
	if hook != nil {
		if err := hook(); err != nil {
			return err
		}
	}
	f.mu.Lock()
	if f.closed {
		f.tb.Errorf("fake backend: wake after close")
	}
	f.latch = true
	f.wakes++
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeBackend) close() error {

	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	if f.closed {
		f.tb.Errorf("fake backend: closed twice")
	}
	if f.inKernel != 0 {
		f.tb.Errorf("fake backend: closed with %d jobs in the kernel", f.inKernel)
	}
	f.closed = true
	return nil
}

// verifyDrained checks that every queued job was finished exactly once.
func (f *fakeBackend) verifyDrained() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queued != f.finished {
		f.tb.Errorf("fake backend: %d jobs queued, %d finished", f.queued, f.finished)
	}
	for i := range f.jobs {
		if f.jobs[i].state == fjQueued {
			f.tb.Errorf("fake backend: slot %d still queued at the end", i)
		}
	}
}

// Compile-time check.
var _ backend = (*fakeBackend)(nil)

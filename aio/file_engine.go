package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Engine serves the calls of Files: a Context, and one goroutine that
// harvests its completions and hands each to the goroutine whose call it
// ends. Calls made at the same time are gathered into shared submissions
// (one io_submit or lio_listio for many); requests come from a pool, so a
// call allocates nothing in the steady state; a call the Context has no
// room for waits until completions make room (or, when the kernel's queue
// is full of others' requests, until a retry after a pause finds room),
// and nothing fails for lack of slots. A ReadAtContext or WriteAtContext
// that waits so is withdrawn when its ctx ends, having moved nothing.
//
// Every File shares the process's engine unless it is made by an Engine's
// OpenFile or NewFile: give a set of files an engine of its own to isolate
// them from others' traffic, to choose its Backend or MaxRequests, or to
// have one engine per disk or NUMA node. An Engine is safe for concurrent
// use.
//
// An Engine serves every call of its Files, whatever the file, through its
// Context: on Linux a DefaultBackend Engine hands a buffered file's calls
// to its goroutine engine (File.Kernel says "goroutines") and a
// KernelBackend Engine performs them inside io_submit, so a buffered file
// is better served by the shared engine, which leaves it to pread in the
// caller's goroutine.
//
// Methods of a nil *Engine do not panic: as with *os.File, those that
// return an error return one matching os.ErrInvalid and syscall.EINVAL
// (OpenFile's is an *os.PathError, and it opens nothing; NewFile leaves
// its file open), and the others return zero values.
type Engine struct {
	c *Context

	mu       sync.Mutex
	idle     sync.Cond  // broadcast when nothing is queued or in flight, for Close
	queue    []*fileReq // prepared, waiting for a submission
	inflight int        // taken out of the queue and not yet harvested
	flushing bool       // a goroutine is submitting the queue
	closed   bool
	batch    []*Request // the flusher's
	subs     []*fileReq // the flusher's: batch's fileReqs

	// When the kernel refuses every request for lack of room and none of
	// the engine's is in flight, a timer flushes the queue again after a
	// pause that doubles while refusals go on (under mu).
	retry      *time.Timer
	retryArmed bool
	againPause time.Duration

	pool freeList[fileReq]

	stop      atomic.Bool
	harvested chan struct{} // closed when the harvester has returned

	// The harvester's Wait, while nothing is in flight, ends after idleWait
	// (hctx holds its deadline), so that it sees stop without the wake that
	// Close sends, should that wake fail.
	idleWait time.Duration
	hctx     idleCtx
}

// engineIdleWait bounds the harvester's Wait while nothing is in flight: it
// is how long a Close whose wake failed waits for the harvester to stop,
// and how often an idle engine's harvester wakes.
const engineIdleWait = time.Second

// idleCtx is the harvester's ctx while nothing is in flight: a deadline,
// which Context.Wait turns into the backend's own timeout (not a wake), and
// no Done channel, so that Wait arms no AfterFunc and allocates nothing.
type idleCtx struct{ deadline time.Time }

func (c *idleCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *idleCtx) Done() <-chan struct{}       { return nil }
func (c *idleCtx) Err() error                  { return nil }
func (c *idleCtx) Value(any) any               { return nil }

// fileReq is one pooled request with the signal its caller parks on.
type fileReq struct {
	r     *Request
	ready chan struct{} // capacity 1: the request is back, or was refused
	// releases counts the two parties that must let go of a submitted
	// request before its caller may see it: the flusher, once it has
	// looked at Submit's outcome, and the harvester, once Wait returned it.
	releases atomic.Int32
	canceled atomic.Bool // the caller's ctx is done: cancel once submitted
	queued   bool        // in Engine.queue (under Engine.mu)
	refusal  error       // Submit refused it for a reason other than room
}

// NewEngine starts an engine on a new Context with cfg (WaitWithoutPending
// is always set: the harvester waits even when nothing is in flight).
// Close it when its Files are closed.
func NewEngine(cfg Config) (*Engine, error) {
	cfg.WaitWithoutPending = true
	c, err := NewContext(cfg)
	if err != nil {
		return nil, err
	}
	return newEngine(c), nil
}

func newEngine(c *Context) *Engine { return newEngineIdle(c, engineIdleWait) }

// newEngineIdle is newEngine with the harvester's idle Wait bounded by
// idleWait (tests shorten it).
func newEngineIdle(c *Context, idleWait time.Duration) *Engine {
	e := &Engine{
		c:         c,
		batch:     make([]*Request, 0, c.MaxRequests()),
		subs:      make([]*fileReq, 0, c.MaxRequests()),
		harvested: make(chan struct{}),
		idleWait:  idleWait,
	}
	e.idle.L = &e.mu
	go e.harvest()
	return e
}

// OpenFile opens the named file as the package's OpenFile does, for a File
// whose calls this engine serves. Once Close has begun it fails with an
// *os.PathError matching ErrClosed, and opens (or creates) nothing. An
// OpenFile that Close overtakes while it opens the file (a FIFO waiting for
// its writer, a slow file system) closes the file it got and fails so too,
// leaving nothing open (with os.O_CREATE the file it created stays): a File
// it returns was made before Close began, as if opened before the Close.
func (e *Engine) OpenFile(name string, flag int, perm os.FileMode) (*File, error) {
	if e == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: invalidArgument("nil *Engine")}
	}
	if e.isClosed() {
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrClosed}
	}
	af, err := openFile(e, name, flag, perm)
	if err != nil {
		return nil, err
	}
	if engineOpenHook != nil {
		engineOpenHook()
	}
	if e.isClosed() {
		af.f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrClosed}
	}
	return af, nil
}

// NewFile makes a File of f, which it takes over as the package's NewFile
// does, whose calls this engine serves. Once Close has begun it fails with
// an error matching ErrClosed and leaves f open, also when Close begins
// while it looks at f: a File it returns was made before Close began.
func (e *Engine) NewFile(f *os.File) (*File, error) {
	if e == nil {
		return nil, nilReceiver("new file", "Engine")
	}
	if e.isClosed() {
		return nil, wrapError("new file", ErrClosed)
	}
	af, err := newFile(e, f, false)
	if err != nil {
		return nil, err
	}
	if engineOpenHook != nil {
		engineOpenHook()
	}
	if e.isClosed() {
		return nil, wrapError("new file", ErrClosed) // f stays open, af is dropped
	}
	return af, nil
}

// engineOpenHook, if set (by tests), runs in OpenFile and NewFile once the
// File is made, before they look again whether Close has begun.
var engineOpenHook func()

// isClosed reports whether Close has begun.
func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Kernel names the interface the engine's Context drives (Context.Kernel).
func (e *Engine) Kernel() string {
	if e == nil {
		return ""
	}
	return e.c.Kernel()
}

// KernelError reports why a DefaultBackend engine does not drive the
// kernel's AIO, as Context.KernelError does for the engine's Context: nil
// where it drives the interface it asked for.
func (e *Engine) KernelError() error {
	if e == nil {
		return nilReceiver("kernel error", "Engine")
	}
	return e.c.KernelError()
}

// Stats counts the requests the engine's Context completed, by engine
// (Context.Stats).
func (e *Engine) Stats() Stats {
	if e == nil {
		return Stats{}
	}
	return e.c.Stats()
}

// Close waits for the requests in flight, stops the harvester and closes
// the Context. Calls on the engine's Files that start later fail with an
// *os.PathError matching ErrClosed, not os.ErrClosed: the Files are still
// open, and File.Close still closes them. Close the Files first. A second
// Close returns ErrClosed.
//
// Close wakes the harvester's Wait to stop it. If that wake fails, the
// harvester still stops, within about a second (its Wait is bounded while
// nothing is in flight), and Close waits for it: the result is then the
// Context's Close error, nil if it closed, as after a wake that worked.
// Only if the harvester has not stopped five such periods after a failed
// wake does Close return the wake's error; the engine is closed all the
// same (a second Close returns ErrClosed), and the Context is closed once
// the harvester stops.
func (e *Engine) Close() error {
	if e == nil {
		return nilReceiver("close", "Engine")
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closed = true
	for e.inflight > 0 || len(e.queue) > 0 || e.flushing {
		e.idle.Wait()
	}
	e.stop.Store(true)
	if e.retry != nil {
		e.retry.Stop() // nothing is queued for it to flush
	}
	e.mu.Unlock()
	if werr := e.c.Wakeup(); werr != nil {
		// The harvester's Wait ends by its idle deadline instead.
		t := time.NewTimer(5 * e.idleWait)
		defer t.Stop()
		select {
		case <-e.harvested:
		case <-t.C:
			go func() {
				<-e.harvested
				_ = e.c.Close() // nobody left to tell
			}()
			return werr
		}
	} else {
		<-e.harvested
	}
	return e.c.Close()
}

// shared is the process's engine, started by the first call that needs it.
var shared struct {
	mu sync.Mutex
	e  atomic.Pointer[Engine]
}

// sharedEngine returns the process's engine, starting it if need be. A
// failure is not remembered: the next call tries again.
func sharedEngine() (*Engine, error) {
	if e := shared.e.Load(); e != nil {
		return e, nil
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if e := shared.e.Load(); e != nil {
		return e, nil
	}
	e, err := NewEngine(Config{})
	if err != nil {
		return nil, fmt.Errorf("aio: starting the shared engine: %w", err)
	}
	shared.e.Store(e)
	return e, nil
}

// get takes a request from the pool.
func (e *Engine) get() *fileReq {
	if fr := e.pool.take(); fr != nil {
		return fr
	}
	return &fileReq{r: NewRequest(), ready: make(chan struct{}, 1)}
}

// put returns fr, Completed or Prepared and owned by no one, to the pool.
func (e *Engine) put(fr *fileReq) { e.pool.put(fr) }

// errQueuedCancel is what run reports for a request canceled before any
// submission: no I/O happened.
var errQueuedCancel = errors.New("aio: canceled before submission")

// run submits fr, Prepared, and waits until the kernel has let go of it. If
// done closes first, the request is canceled and run still waits for its
// completion; canceled then reports it. The result is fr's Result, or why
// it was never submitted.
func (e *Engine) run(done <-chan struct{}, fr *fileReq) (n int, err error, canceled bool) {
	fr.canceled.Store(false)
	fr.refusal = nil
	if err := e.enqueue(fr); err != nil {
		return 0, err, false
	}
	if done == nil {
		<-fr.ready
	} else {
		select {
		case <-fr.ready:
		case <-done:
			canceled = true
			if e.cancel(fr) {
				return 0, errQueuedCancel, true
			}
			<-fr.ready
		}
	}
	if fr.refusal != nil {
		return 0, fr.refusal, canceled
	}
	n, err = fr.r.Result()
	return n, err, canceled
}

// enqueue queues fr and, unless another goroutine is submitting already,
// submits the queue.
func (e *Engine) enqueue(fr *fileReq) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	fr.queued = true
	e.queue = append(e.queue, fr)
	if !e.flushing {
		if len(e.queue) == 1 && e.inflight > 0 {
			// Let the goroutines that are runnable now (those the last
			// harvest woke) queue their next calls, to share this
			// submission. With nothing in flight there is nobody to wait for.
			e.flushing = true
			e.mu.Unlock()
			runtime.Gosched()
			e.mu.Lock()
			e.flushing = false
		}
		e.flushLocked()
	}
	e.mu.Unlock()
	return nil
}

// cancel withdraws fr from the queue if it is still there (true), or asks
// the kernel to cancel it (false: its completion is still to come).
func (e *Engine) cancel(fr *fileReq) bool {
	fr.canceled.Store(true)
	e.mu.Lock()
	if fr.queued {
		if i := slices.Index(e.queue, fr); i >= 0 {
			e.queue = slices.Delete(e.queue, i, i+1)
		}
		fr.queued = false
		e.signalIdleLocked() // Close may wait for the queue to empty
		e.mu.Unlock()
		return true
	}
	e.mu.Unlock()
	// Refused while the flusher holds fr (still Prepared): the flusher
	// sees canceled once it has submitted it, and cancels it then.
	_ = fr.r.Cancel()
	return false
}

// maxFlushRounds bounds how long one caller keeps submitting for others
// while completions are coming that let the harvester take over.
const maxFlushRounds = 4

// flushLocked submits the queue in batches that fit the room left under
// MaxRequests. Called with e.mu held and flushing false; returns with e.mu
// held. Requests the kernel refuses for lack of resources go back to the
// head of the queue; if nothing is in flight to free resources, it tries
// again after a pause, from a timer (retryLaterLocked).
func (e *Engine) flushLocked() {
	e.flushing = true
	defer func() {
		e.flushing = false
		e.signalIdleLocked()
	}()
	for round := 0; len(e.queue) > 0; round++ {
		room := e.c.MaxRequests() - e.inflight
		if room == 0 || round >= maxFlushRounds && e.inflight > 0 {
			return // the harvester flushes once completions make room
		}
		k := min(room, len(e.queue))
		e.subs = append(e.subs[:0], e.queue[:k]...)
		rest := copy(e.queue, e.queue[k:])
		clear(e.queue[rest:])
		e.queue = e.queue[:rest]
		e.batch = e.batch[:0]
		for _, fr := range e.subs {
			fr.queued = false
			fr.releases.Store(0)
			e.batch = append(e.batch, fr.r)
		}
		e.inflight += k
		e.mu.Unlock()

		accepted, again := e.submit()

		e.mu.Lock()
		e.inflight -= k - accepted
		if again > 0 {
			// Back to the head of the queue, in their order, but for
			// those whose caller's ctx ended meanwhile: they are
			// withdrawn now. A caller sets canceled before it looks at
			// queued under e.mu: it either finds its request queued
			// here, or is seen canceled here.
			back := e.subs[:0]
			for _, fr := range e.subs[:again] {
				if fr.canceled.Load() {
					fr.refused(errQueuedCancel)
					continue
				}
				fr.queued = true
				back = append(back, fr)
			}
			e.queue = slices.Insert(e.queue, 0, back...)
			again = len(back)
		}
		clear(e.subs)
		if accepted > 0 {
			e.againPause = 0
		}
		switch {
		case again > 0 && accepted == 0 && e.inflight == 0:
			// The kernel's queue is full of other contexts' requests:
			// nothing of ours will complete to make room. A timer tries
			// again, so that no caller is kept here submitting for
			// others, and a call whose ctx ends meanwhile is withdrawn
			// from the queue.
			e.retryLaterLocked()
			return
		case again > 0 && e.inflight > 0:
			return // the harvester flushes once completions make room
		}
		// Otherwise room came meanwhile (what was accepted has completed,
		// and the harvester left the queue to this flusher): go on.
	}
}

// retryLaterLocked arms the timer that flushes the queue again, after a
// pause from 100µs, doubled at each refusal in a row, up to 10ms. Called
// with e.mu held.
func (e *Engine) retryLaterLocked() {
	if e.retryArmed {
		return
	}
	e.againPause = min(max(2*e.againPause, 100*time.Microsecond), 10*time.Millisecond)
	e.retryArmed = true
	if e.retry == nil {
		e.retry = time.AfterFunc(e.againPause, e.retryFlush)
	} else {
		e.retry.Reset(e.againPause)
	}
}

// retryFlush is the retry timer's: it flushes the queue unless a flusher
// is at work (which then meets what is queued).
func (e *Engine) retryFlush() {
	e.mu.Lock()
	e.retryArmed = false
	if len(e.queue) > 0 && !e.flushing {
		e.flushLocked()
	}
	e.mu.Unlock()
}

// submit hands e.batch to the Context and sorts out e.subs: accepted ones
// are released to the harvester, ones refused for lack of resources are
// moved to the front of e.subs (again of them) for the queue, others fail.
func (e *Engine) submit() (accepted, again int) {
	n, err := e.c.Submit(e.batch...)
	clear(e.batch)
	if n == 0 && err != nil && !errors.Is(err, ErrAgain) && len(e.subs) > 1 {
		// Submit refused the whole call for one request's sake (a file
		// closed behind its File's back): offer each alone, so that only
		// the calls at fault fail.
		return e.submitEach()
	}
	retry := errors.Is(err, ErrAgain)
	for _, fr := range e.subs {
		// A request Submit accepted is Submitted, or already Completed if
		// the harvester got it first; nobody else can touch it before the
		// release below. A refused one is still Prepared.
		if n == len(e.subs) || fr.r.State() != Prepared {
			accepted++
			fr.accepted()
			continue
		}
		if retry {
			e.subs[again] = fr
			again++
			continue
		}
		fr.refused(err)
	}
	return accepted, again
}

// accepted lets go of a request Submit took, as the flusher; a caller
// whose ctx ended meanwhile gets its cancel now.
func (fr *fileReq) accepted() {
	if fr.canceled.Load() {
		_ = fr.r.Cancel()
	}
	fr.release()
}

// refused hands a request Submit would not take back to its caller.
func (fr *fileReq) refused(err error) {
	fr.refusal = err
	fr.ready <- struct{}{}
}

// submitEach submits the gathered requests one by one; after an ErrAgain
// the rest wait for room, in their order.
func (e *Engine) submitEach() (accepted, again int) {
	full := false
	for _, fr := range e.subs {
		var err error
		if !full {
			var n int
			if n, err = e.c.Submit(fr.r); n == 1 {
				accepted++
				fr.accepted()
				continue
			}
			full = errors.Is(err, ErrAgain)
		}
		if full {
			e.subs[again] = fr
			again++
			continue
		}
		fr.refused(err)
	}
	return accepted, again
}

// release lets go of a submitted request on behalf of the flusher or the
// harvester; the second to let go wakes its caller.
func (fr *fileReq) release() {
	if fr.releases.Add(1) == 2 {
		fr.ready <- struct{}{}
	}
}

func (e *Engine) signalIdleLocked() {
	if e.closed && e.inflight == 0 && len(e.queue) == 0 {
		e.idle.Broadcast()
	}
}

// harvest is the engine's goroutine: it waits for completions, hands each
// to its caller, and submits what waited for room.
func (e *Engine) harvest() {
	defer close(e.harvested)
	out := make([]*Request, maxEvents)
	ctx := context.Background()
	pause := time.Millisecond
	// idle: nothing was in flight when last looked. Only the harvester
	// lowers inflight, so it can turn 0 only in a round that harvested,
	// which looks again; a stale true (submissions since) costs a timeout
	// and a look, no more.
	idle := true
	for !e.stop.Load() {
		wctx := ctx
		if idle {
			e.hctx.deadline = time.Now().Add(e.idleWait)
			wctx = &e.hctx
		}
		n, err := e.c.Wait(wctx, 1, out)
		for _, r := range out[:n] {
			r.User().(*fileReq).release()
		}
		clear(out[:n])
		if n > 0 {
			e.mu.Lock()
			e.inflight -= n
			if len(e.queue) > 0 && !e.flushing {
				e.flushLocked()
			}
			e.signalIdleLocked()
			idle = e.inflight == 0
			e.mu.Unlock()
		} else if idle {
			e.mu.Lock()
			idle = e.inflight == 0
			e.mu.Unlock()
		}
		if err != nil && !errors.Is(err, ErrInterrupted) && !errors.Is(err, context.DeadlineExceeded) && n == 0 {
			// Not expected from a live context; do not spin on it.
			time.Sleep(pause)
			pause = min(2*pause, 100*time.Millisecond)
		}
	}
}

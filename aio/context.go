package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Backend selects how a Context reaches the kernel.
type Backend int

//	Backend          serves with                            on
//	DefaultBackend   the kernel's AIO for the files it      FreeBSD: regular files on local
//	                 serves asynchronously, goroutines      mounts and disks; Linux: regular
//	                 for every other file                   files and disks opened O_DIRECT
//	PortableBackend  goroutines for every file              any OS
//	KernelBackend    the kernel's AIO for every file        FreeBSD, Linux (amd64, arm64)
//
// DefaultBackend decides per request, by the file's kind (routing.go); a
// file FreeBSD refuses (EOPNOTSUPP: NFS, FUSE, pipes) is served by
// goroutines from then on, and the request that learned it is handed over
// without the caller seeing the refusal. On Linux an O_DIRECT write goes to
// the kernel on the condition that it not wait inside io_submit
// (RWF_NOWAIT); one the filesystem would do there (ext4: a write that
// extends the file) is refused at once and handed to goroutines the same
// way. Where the kernel offers no AIO,
// DefaultBackend is PortableBackend and KernelBackend fails with
// ErrNotSupported.
const (
	DefaultBackend Backend = iota
	// PortableBackend runs requests on a bounded pool of goroutines doing
	// pread, pwrite, preadv, pwritev, fsync and fdatasync; any OS.
	PortableBackend
	// KernelBackend gives every request to the kernel's AIO. On Linux that
	// runs a buffered (not O_DIRECT) read or write inside Submit, which
	// then waits for the disk, as it does for an O_DIRECT write the
	// filesystem does synchronously (ext4: one that extends the file); a request on a pipe, socket, character
	// device or a file with no type in its mode (an eventfd, a timerfd),
	// which could block Submit until data comes, is not handed to the
	// kernel and completes with EOPNOTSUPP. On FreeBSD the kernel
	// refuses some files with EOPNOTSUPP (see DefaultBackend).
	KernelBackend
)

func (b Backend) String() string {
	switch b {
	case DefaultBackend:
		return "default"
	case PortableBackend:
		return "portable"
	case KernelBackend:
		return "kernel"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// Config configures a Context.
type Config struct {
	// MaxRequests bounds the requests in flight; 0 means 256. A value above
	// what one context may take is clamped (Linux: an eighth of
	// fs.aio-max-nr, which the whole machine shares, less one for the
	// wakeup's poll: 8191 of the default 65536); MaxRequests() reports the
	// bound in force.
	MaxRequests int
	// WaitWithoutPending makes Wait block even when nothing is in flight
	// (for a waiter that runs beside concurrent submitters).
	WaitWithoutPending bool
	// Backend selects the engines that serve requests.
	Backend Backend
	// Workers bounds the goroutines of the goroutine engine (portable
	// backend, and DefaultBackend's files the kernel does not serve);
	// 0 means min(MaxRequests, max(128, 8*GOMAXPROCS)); a value above
	// MaxRequests is clamped to it. Workers start as work arrives and stay
	// until Close.
	Workers int
}

const (
	defaultMaxRequests = 256
	// maxEvents bounds the completions collected per kernel call.
	maxEvents = 64
)

// Context is a completion context: requests are submitted to it and
// collected from it. Submit, Wakeup, InFlight and Request.Cancel may be
// called from any goroutine; one goroutine at a time may Wait.
//
// Methods of a nil *Context do not panic: as with *os.File, those that return
// an error return one matching os.ErrInvalid and syscall.EINVAL, and the
// others return zero values.
//
// A Context that becomes unreachable with nothing in flight releases its
// kernel resources (as an *os.File closes its descriptor), but Close it
// when done: that is prompt and reports errors. A Context dropped with
// requests in flight is never reclaimed: it stays reachable, with its
// kernel queue, descriptors and goroutines, and the requests and buffers
// the kernel may still write, until those requests are returned by Wait,
// which its dropped owner can no longer call. Drain it before dropping it.
// A dropped idle context is released only after a garbage collection, in the
// runtime's cleanup goroutine, and each release takes as long as Close (on
// Linux, tens of milliseconds): a program that drops contexts faster than
// that can find the system-wide fs.aio-max-nr full (ErrAgain from NewContext).
type Context struct {
	be  backend
	cfg Config
	max int
	id  uint32 // the owner id in its requests' state words

	woken atomic.Bool // a Wakeup that Wait has not reported yet

	// smu serializes submissions and guards batch and res. It is held
	// across the backend's submit, which may block in the kernel; Close
	// only tries it (a Submit in progress makes Close return ErrBusy).
	smu   sync.Mutex
	batch []*Request // the chunk handed to the backend
	res   []syscall.Errno
	hold  submitHold // the descriptors a Submit holds

	// mu guards what follows. It is never held across a kernel call that
	// can block, so Wait's bookkeeping, Cancel and Close never wait
	// behind a submission.
	mu       sync.Mutex
	closed   bool
	waiting  bool
	inflight int        // accepted by Submit, not yet returned by Wait
	slots    []*Request // by slot index; nil when free
	gens     []uint32   // generation of each slot, bumped when it is freed
	free     []uint32   // free slot indexes
	ready    []*Request // finished without a kernel event, to deliver first
	evs      []event
	served   [numEngines]uint64 // completed requests, by engine
	pinning  pinning            // what the backend needs pinned while in flight
	router   routingBackend     // the backend, if its engines need different pins

	// cmu serializes Close, so that a Close does not take another's hold
	// of smu for a Submit in progress.
	cmu sync.Mutex

	// wmu orders the backend's wake against its close, so that Wakeup
	// takes no lock a submission holds.
	wmu     sync.RWMutex
	wclosed bool
	wakeMu  sync.Mutex // Wakeups take turns (inside wmu's read lock)

	cleanup runtime.Cleanup // closes an unreachable idle context

	// Links in the registry of contexts with requests in flight.
	prev, next *Context
}

// NewContext creates a context with its own kernel completion queue.
func NewContext(cfg Config) (*Context, error) {
	if cfg.MaxRequests < 0 || cfg.Workers < 0 {
		return nil, wrapError("new context", fmt.Errorf("MaxRequests %d, Workers %d: %w", cfg.MaxRequests, cfg.Workers, os.ErrInvalid))
	}
	limit := cfg.MaxRequests
	if limit == 0 {
		limit = defaultMaxRequests
	}
	var (
		be  backend
		err error
	)
	switch cfg.Backend {
	case DefaultBackend:
		be, limit, err = newDefaultBackend(limit)
	case PortableBackend:
		be, limit, err = newPortableBackend(limit)
	case KernelBackend:
		be, limit, err = newKernelBackend(limit)
	default:
		return nil, wrapError("new context", fmt.Errorf("%v: %w", cfg.Backend, os.ErrInvalid))
	}
	if err != nil {
		return nil, wrapError(fmt.Sprintf("new context (%v backend)", cfg.Backend), err)
	}
	if g := goroutineEngine(be); g != nil && cfg.Workers > 0 {
		g.setWorkers(cfg.Workers)
	}
	c := newContext(cfg, be, limit)
	c.cleanup = runtime.AddCleanup(c, closeUnreachable, unreachable{be, c.id})
	return c, nil
}

// unreachable is what the cleanup of a context needs, without the context.
type unreachable struct {
	be backend
	id uint32
}

// closeUnreachable releases the backend of a context that became
// unreachable: it had nothing in flight (the registry keeps every other one
// reachable).
func closeUnreachable(u unreachable) {
	unregisterContext(u.id)
	_ = u.be.close()
}

func newContext(cfg Config, be backend, limit int) *Context {
	c := &Context{
		be:    be,
		cfg:   cfg,
		max:   limit,
		id:    newContextID(),
		slots: make([]*Request, limit),
		gens:  make([]uint32, limit),
		free:  make([]uint32, limit),
		batch: make([]*Request, be.batchMax()),
		res:   make([]syscall.Errno, be.batchMax()),
		evs:   make([]event, maxEvents),
	}
	c.pinning = pinRequestAndBuffers
	c.router, _ = be.(routingBackend)
	if p, ok := be.(pinningBackend); ok {
		c.pinning = p.pinning()
	}
	for i := range c.free {
		c.free[i] = uint32(limit - 1 - i)
	}
	registerContext(c)
	return c
}

// Kernel names the interface the context drives: "freebsd-aio" (POSIX AIO
// with kqueue), "linux-aio" (kernel AIO) or "portable" (goroutines only).
// A DefaultBackend context names its kernel interface, and also serves
// requests with goroutines (Stats counts both); it is "portable" where the
// system offers no kernel AIO this package drives, or refuses it (for
// example under seccomp): KernelError says why.
func (c *Context) Kernel() string {
	if c == nil {
		return ""
	}
	return c.be.kernel()
}

// MaxRequests returns the bound on requests in flight.
func (c *Context) MaxRequests() int {
	if c == nil {
		return 0
	}
	return c.max
}

// InFlight returns how many requests Submit has accepted that Wait has not
// returned yet: Close succeeds only at 0.
func (c *Context) InFlight() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight
}

// Stats counts the requests a context has completed, by the engine that
// served them: every request Wait returns counts once, canceled or failed
// ones too, under the engine that held it last (on Linux an O_DIRECT write
// the kernel refused with EAGAIN, and a goroutine then did, is Goroutines).
type Stats struct {
	Kernel     uint64 // by the kernel's AIO
	Goroutines uint64 // by goroutines doing ordinary system calls
}

// Stats returns the requests completed so far, by engine.
func (c *Context) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Kernel: c.served[engineKernel], Goroutines: c.served[engineGoroutine]}
}

// Submit hands reqs, all Prepared, to the kernel and returns how many are
// now in flight; each of those comes back from Wait exactly once, including
// one the kernel rejected at submission (its error is in Result). Batches
// larger than the kernel's list limit are split. Requests refused for lack
// of resources (kernel queue full or MaxRequests reached) stay Prepared, and
// the error matches ErrAgain: wait for completions and submit them again.
// The accepted requests are not always a prefix of reqs (the kernel judges
// each entry of a list on its own): State tells which are Submitted.
//
// Submit looks at reqs in order only as far as there is room under
// MaxRequests; it leaves the rest untouched and reports ErrAgain for them,
// so offering a long list again after each Wait costs only what fits. Of
// the requests it looks at, it refuses the whole call, changing nothing,
// with an error matching ErrInvalidState if one is nil (an error that
// also matches os.ErrInvalid and syscall.EINVAL), not Prepared or listed
// twice, ErrInProgress if one is in flight already (or being
// submitted to another context by a Submit still running), or os.ErrClosed
// if one's file was closed since Prepare. An empty call does nothing and
// returns 0, nil.
//
// Submit never blocks on I/O, whatever the file; on Linux a KernelBackend
// context is the exception (see KernelBackend). Wakeup, Cancel and Close
// do not wait for a Submit in progress.
func (c *Context) Submit(reqs ...*Request) (int, error) {
	if c == nil {
		return 0, nilReceiver("submit", "Context")
	}
	if len(reqs) == 0 {
		return 0, nil
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, ErrClosed
	}
	room := c.max - c.inflight
	var full error
	if room < len(reqs) {
		full = wrapError("submit", fmt.Errorf("MaxRequests %d reached: %d of the %d requests not taken: %w", c.max, len(reqs)-room, len(reqs), ErrAgain))
		reqs = reqs[:room]
	}
	err := c.claim(reqs)
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	accepted, err := c.submitHeld(reqs)
	if err == nil {
		err = full
	}
	return accepted, err
}

// submitChunks hands reqs, claimed and with their descriptors read and
// held, to the backend in chunks of at most its batch. Past a chunk the
// kernel could not take whole, the rest is released.
func (c *Context) submitChunks(reqs []*Request) (int, error) {
	accepted := 0
	for pending := reqs; len(pending) > 0; {
		chunk := pending[:min(len(pending), c.be.batchMax())]
		pending = pending[len(chunk):]
		n, again := c.submitChunk(chunk)
		accepted += n
		if again {
			c.mu.Lock()
			c.release(pending)
			c.mu.Unlock()
			return accepted, wrapError("submit", fmt.Errorf("kernel queue full: %w", ErrAgain))
		}
	}
	return accepted, nil
}

// claim makes c the owner of every request of reqs, or of none. It runs
// under c.mu.
//
// A claimed request is Submitted at once, owned by c, with sorting set
// until submitChunk knows the kernel's answer: State reports Submitted
// from the claim on, and Cancel, collect and a second claim tell a request
// still being submitted by its sorting flag, which only c.mu guards. Every
// way out of the claim but acceptance (release, under c.mu) makes the
// request Prepared again.
func (c *Context) claim(reqs []*Request) error {
	for i, r := range reqs {
		if err := c.claimOne(r); err != nil {
			c.release(reqs[:i])
			return wrapError("submit", fmt.Errorf("request %d: %w", i, err))
		}
	}
	return nil
}

func (c *Context) claimOne(r *Request) error {
	if r == nil {
		return nilRequest{}
	}
	w := stateWord(r.word.Load())
	for range claimTries {
		if !w.is(Prepared) || !w.unowned() {
			break
		}
		if r.word.CompareAndSwap(uint64(w), uint64(packState(Submitted, c.id))) {
			r.sorting = true
			return nil
		}
		w = stateWord(r.word.Load()) // taken meanwhile: say by whom
	}
	switch {
	case w.is(Prepared) && w.unowned():
		return fmt.Errorf("being prepared or submitted by another goroutine: %w", ErrInvalidState)
	case w == packState(Submitted, c.id) && r.sorting:
		return fmt.Errorf("listed twice: %w", ErrInvalidState)
	case w.is(Submitted):
		return ErrInProgress
	case w.is(statePreparing):
		return fmt.Errorf("being prepared by another goroutine: %w", ErrInvalidState)
	}
	return fmt.Errorf("%v, not Prepared: %w", r.State(), ErrInvalidState)
}

// claimTries bounds the compare-and-swaps of one claim that others' changes
// of the request defeat.
const claimTries = 4

// release gives claimed requests back to their caller, Prepared. It runs
// under c.mu.
func (c *Context) release(reqs []*Request) {
	for _, r := range reqs {
		r.sorting = false
		r.word.Store(uint64(packState(Prepared, 0)))
	}
}

// submitChunk gives chunk to the backend and sorts out each outcome. The
// backend's submit runs without c.mu, so an event for a request of chunk
// may reach the waiter before its outcome is known: collect keeps it in
// the request (early) and this finishes it.
func (c *Context) submitChunk(chunk []*Request) (accepted int, again bool) {
	c.mu.Lock()
	for _, r := range chunk {
		slot := c.free[len(c.free)-1]
		c.free = c.free[:len(c.free)-1]
		c.slots[slot] = r
		r.slot, r.gen, r.done, r.hasEarly = slot, c.gens[slot], false, false
		r.engine = engineKernel // the goroutine engine says so if it takes r
		c.pin(r)
	}
	c.mu.Unlock()

	res := c.res[:len(chunk)]
	clear(res)
	// The backend gets a copy of chunk in c's own slice: a slice passed
	// through the interface escapes, and Submit's variadic argument would
	// then be allocated on every call.
	batch := c.batch[:copy(c.batch, chunk)]
	c.be.submit(batch, res)
	clear(batch)

	c.mu.Lock()
	defer c.mu.Unlock()
	readied := false
	for i, r := range chunk {
		switch res[i] {
		case 0:
		case syscall.EAGAIN:
			c.releaseSlot(r)
			r.pins.Unpin()
			c.release(chunk[i : i+1])
			again = true
			continue
		default:
			c.releaseSlot(r)
			r.pins.Unpin()
			r.n, r.err, r.done = 0, r.kernelError(res[i]), true
			c.ready = append(c.ready, r)
			readied = true
		}
		r.sorting = false
		if c.inflight == 0 {
			registry.add(c)
		}
		c.inflight++
		accepted++
		if r.hasEarly {
			r.hasEarly = false
			if c.finishEarly(r) {
				readied = true
			}
		}
	}
	if readied && c.waiting {
		c.kick() // the waiter may be blocked in the kernel, unaware of ready
	}
	return accepted, again
}

// finishEarly completes r from the event collect kept for it, into ready.
func (c *Context) finishEarly(r *Request) bool {
	bytes, errno, ok := c.be.finish(r, &r.early)
	if !ok {
		return false
	}
	c.setResult(r, bytes, errno)
	c.releaseSlot(r)
	r.pins.Unpin()
	r.done = true
	c.ready = append(c.ready, r)
	return true
}

// kick makes a blocked wait return, without reporting a Wakeup.
func (c *Context) kick() {
	c.wmu.RLock()
	if !c.wclosed {
		_ = c.be.wake()
	}
	c.wmu.RUnlock()
}

// pinning is what a backend needs pinned while a request is in flight.
type pinning int

const (
	// pinRequestAndBuffers: the kernel keeps the control block inside the
	// Request (FreeBSD's aiocb) and touches the buffers at any time.
	pinRequestAndBuffers pinning = iota
	// pinBuffers: the control block lives outside the Go heap (Linux);
	// only the buffers, and what the backend builds (iovec arrays), are
	// the kernel's until completion.
	pinBuffers
	// pinNothing: memory is only touched by system calls made from Go
	// while they run (the portable backend's pread and pwrite), which
	// needs no pin.
	pinNothing
)

// pinningBackend is a backend that needs less than pinRequestAndBuffers.
type pinningBackend interface{ pinning() pinning }

// routingBackend is a backend whose engines need different pins.
type routingBackend interface{ pinningFor(r *Request) pinning }

// pin pins what the backend needs of r; collect or a refusal unpins it.
func (c *Context) pin(r *Request) {
	p := c.pinning
	if c.router != nil {
		p = c.router.pinningFor(r)
	}
	switch p {
	case pinRequestAndBuffers:
		r.pinMemory()
	case pinBuffers:
		r.pins.Bytes(r.buf)
		for _, b := range r.bufs {
			r.pins.Bytes(b)
		}
	}
}

func (c *Context) releaseSlot(r *Request) {
	c.slots[r.slot] = nil
	c.gens[r.slot]++
	c.free = append(c.free, r.slot)
}

// complete hands r back to its caller: Completed, owned by nobody. The
// owner goes first: a goroutine that sees Completed owns the request and
// may submit it again at once, so it must find no owner.
func (c *Context) complete(r *Request) {
	c.inflight--
	if c.inflight == 0 {
		registry.remove(c)
	}
	c.served[r.engine]++
	r.word.Store(uint64(packState(Completed, 0)))
}

// Wait fills out[:n] with completed requests and returns as soon as n >=
// min (min 0: whatever is ready now). It also returns when ctx is done
// (ctx.Err(), with whatever had completed by then: a Wait with a done ctx
// still collects, and its error takes precedence over ErrNoRequests) or
// Wakeup is called (ErrInterrupted); n > 0 with an error is possible, so
// handle out[:n] first. A nil ctx is context.Background(); min outside
// [0, len(out)] is refused with an error matching os.ErrInvalid. With
// nothing in flight it returns ErrNoRequests unless
// Config.WaitWithoutPending; so does a Wait whose requests all came back
// before min was reached, with those requests. Only one goroutine may wait
// at a time: a second gets ErrBusy. A signal never ends a Wait early.
func (c *Context) Wait(ctx context.Context, min int, out []*Request) (int, error) {
	if c == nil {
		return 0, nilReceiver("wait", "Context")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if min < 0 || min > len(out) {
		return 0, wrapError("wait", fmt.Errorf("min %d outside [0, len(out)=%d]: %w", min, len(out), os.ErrInvalid))
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return 0, ErrClosed
	case c.waiting:
		c.mu.Unlock()
		return 0, ErrBusy
	case c.inflight == 0 && !c.cfg.WaitWithoutPending && !c.woken.Load():
		c.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return 0, err // a done ctx's error takes precedence
		}
		return 0, ErrNoRequests
	}
	c.waiting = true
	c.mu.Unlock()

	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, c.ctxDone)
	}
	n, err := c.wait(ctx, min, out)
	if stop != nil {
		stop()
	}
	c.mu.Lock()
	c.waiting = false
	c.mu.Unlock()
	return n, err
}

func (c *Context) wait(ctx context.Context, atLeast int, out []*Request) (int, error) {
	deadline, hasDeadline := ctx.Deadline()
	n := 0
	for {
		c.mu.Lock()
		n += c.deliverReady(out[n:])
		idle := c.inflight == 0
		c.mu.Unlock()
		if c.woken.Swap(false) {
			return n, ErrInterrupted
		}
		if atLeast > 0 && n >= atLeast {
			return n, nil
		}
		// A done ctx still gets what has completed: one look without
		// blocking, then its error.
		ctxErr := ctx.Err()
		if ctxErr != nil && (idle || len(out) == n) {
			return n, ctxErr
		}
		if idle && !c.cfg.WaitWithoutPending {
			if n >= atLeast {
				return n, nil
			}
			return n, ErrNoRequests
		}
		want := min(len(out)-n, len(c.evs))
		if want == 0 {
			return n, nil
		}
		timeout := time.Duration(-1)
		switch {
		case atLeast == 0 || ctxErr != nil:
			timeout = 0
		case hasDeadline:
			timeout = max(time.Until(deadline), 0)
		}
		k, woke, err := c.be.wait(c.evs[:want], timeout)
		if k > 0 {
			c.mu.Lock()
			n += c.collect(c.evs[:k], out[n:])
			c.mu.Unlock()
		}
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return n, wrapError("wait", err)
		case ctxErr != nil && atLeast > 0 && n >= atLeast:
			return n, nil
		case ctxErr != nil:
			return n, ctxErr
		case atLeast == 0 && !woke:
			return n, nil
		case timeout == 0 && k == 0 && !woke:
			return n, context.DeadlineExceeded
		}
	}
}

// deliverReady moves requests that finished without an event into out.
func (c *Context) deliverReady(out []*Request) int {
	k := min(len(out), len(c.ready))
	for i, r := range c.ready[:k] {
		out[i] = r
		c.complete(r)
	}
	rest := copy(c.ready, c.ready[k:])
	clear(c.ready[rest:])
	c.ready = c.ready[:rest]
	return k
}

// collect turns events into completed requests in out, which has room for
// all of them. Events that name no current submission are dropped.
func (c *Context) collect(evs []event, out []*Request) int {
	n := 0
	for i := range evs {
		ev := &evs[i]
		if uint64(ev.slot) >= uint64(len(c.slots)) { // not int: on 32 bits a large slot would turn negative
			continue
		}
		r := c.slots[ev.slot]
		if r == nil || r.gen != ev.gen {
			continue
		}
		if r.sorting {
			r.early, r.hasEarly = *ev, true // Submit is still sorting it out
			continue
		}
		bytes, errno, ok := c.be.finish(r, ev)
		if !ok {
			continue
		}
		c.setResult(r, bytes, errno)
		c.releaseSlot(r)
		r.pins.Unpin()
		out[n] = r
		n++
		c.complete(r)
	}
	return n
}

func (c *Context) setResult(r *Request, bytes int, errno syscall.Errno) {
	r.n, r.err = bytes, nil
	if errno != 0 {
		r.n, r.err = 0, r.kernelError(errno)
	}
}

// cancel is Request.Cancel for a request c may own. ok is false if r is
// not (or no longer) submitted to c.
func (c *Context) cancel(r *Request) (err error, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stateWord(r.word.Load()) != packState(Submitted, c.id) {
		return nil, false
	}
	if r.sorting {
		return ErrNotSubmitted, true // Submit has not handed it over yet
	}
	if r.done {
		return ErrAlreadyCompleted, true
	}
	outcome, err := c.be.cancel(r)
	if err != nil {
		return wrapError("cancel", err), true
	}
	switch outcome {
	case cancelDone:
		return nil, true
	case cancelNotCanceled:
		return ErrInProgress, true
	default:
		return ErrAlreadyCompleted, true
	}
}

// Wakeup makes the current Wait, or the next one if none is waiting, return
// ErrInterrupted. Wakeups before a Wait reports one coalesce. Wakeup never
// waits for a Submit in progress.
//
// A Wakeup that returns an error (the backend could not signal the waiter:
// its descriptor is gone, say) has armed nothing: the next Wait is not
// interrupted on its account, but still by any Wakeup that succeeded
// before or beside it. Only a Wait already running at that moment may have
// seen it and returned ErrInterrupted.
func (c *Context) Wakeup() error {
	if c == nil {
		return nilReceiver("wakeup", "Context")
	}
	c.wmu.RLock()
	defer c.wmu.RUnlock()
	if c.wclosed {
		return ErrClosed
	}
	// Wakeups take turns, so that between this one's arming and its
	// undoing only Wait (which reports the arming and clears it) changes
	// woken, and a failure undoes no other Wakeup's arming.
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	armed := !c.woken.Swap(true) // before wake: a Wait that sees the kernel's wake must see woken
	if err := c.be.wake(); err != nil {
		if armed {
			c.woken.CompareAndSwap(true, false) // unless Wait took it meanwhile
		}
		return wrapError("wakeup", err)
	}
	return nil
}

// ctxDone wakes the waiter when its context.Context is done; the waiter
// then sees ctx.Err() on its next round.
func (c *Context) ctxDone() { c.kick() }

// Close releases the context's kernel resources. With requests in flight,
// or a goroutine inside Wait or Submit, it returns ErrBusy and changes
// nothing. To close after a Wait that ended early (a canceled ctx, a
// Wakeup), collect what is still in flight first: Cancel each request if
// it should not finish (a read of a pipe or socket waiting for data cannot
// be canceled; see Request.Cancel), then Wait until InFlight is 0. After Close,
// Submit, Wait, Wakeup and Close return ErrClosed.
//
// On Linux a context that drives the kernel's AIO is closed with
// io_destroy, which returns only once the kernel has let go of the AIO
// context, after an RCU grace period: Close takes milliseconds (about 30 on
// the development machine), where PortableBackend's takes microseconds.
// Make contexts once and keep them, not one per operation.
func (c *Context) Close() error {
	if c == nil {
		return nilReceiver("close", "Context")
	}
	c.cmu.Lock()
	defer c.cmu.Unlock()
	// Holding the submission lock keeps Submit out until c is closed; a
	// Submit in progress holds it, and then c is busy.
	if !c.smu.TryLock() {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		return ErrBusy
	}
	defer c.smu.Unlock()
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.inflight > 0 || c.waiting:
		c.mu.Unlock()
		return ErrBusy
	}
	c.closed = true
	c.mu.Unlock()
	c.wmu.Lock()
	c.wclosed = true
	c.wmu.Unlock()
	c.cleanup.Stop()
	unregisterContext(c.id)
	if err := c.be.close(); err != nil {
		return wrapError("close", err)
	}
	return nil
}

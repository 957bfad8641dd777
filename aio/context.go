package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Backend selects how a Context reaches the kernel.
type Backend int

const (
	// DefaultBackend is the kernel's AIO where the OS has it (FreeBSD: POSIX
	// AIO with kqueue; Linux: kernel AIO), else PortableBackend.
	DefaultBackend Backend = iota
	// PortableBackend runs requests on a bounded pool of goroutines doing
	// pread, pwrite, preadv, pwritev, fsync and fdatasync; any OS.
	PortableBackend
)

func (b Backend) String() string {
	switch b {
	case DefaultBackend:
		return "default"
	case PortableBackend:
		return "portable"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// Config configures a Context.
type Config struct {
	// MaxRequests bounds the requests in flight; 0 means 256. A value above
	// what the kernel allows is clamped; MaxRequests() reports the bound in
	// force.
	MaxRequests int
	// WaitWithoutPending makes Wait block even when nothing is in flight
	// (for a waiter that runs beside concurrent submitters).
	WaitWithoutPending bool
	// Backend selects the kernel interface.
	Backend Backend
}

const (
	defaultMaxRequests = 256
	// maxEvents bounds the completions collected per kernel call.
	maxEvents = 64
)

// Context is a completion context: requests are submitted to it and
// collected from it. Submit, Wakeup and Request.Cancel may be called from
// any goroutine; one goroutine at a time may Wait.
type Context struct {
	be  backend
	cfg Config
	max int

	woken atomic.Bool // a Wakeup that Wait has not reported yet

	mu       sync.Mutex
	closed   bool
	waiting  bool
	inflight int        // accepted by Submit, not yet returned by Wait
	slots    []*Request // by slot index; nil when free
	gens     []uint32   // generation of each slot, bumped when it is freed
	free     []uint32   // free slot indexes
	ready    []*Request // finished without a kernel event, to deliver first
	batch    []*Request // the chunk handed to the backend
	res      []syscall.Errno
	evs      []event
	pinning  pinning // what the backend needs pinned while in flight

	// Links in the registry of contexts with requests in flight.
	prev, next *Context
}

// NewContext creates a context with its own kernel completion queue.
func NewContext(cfg Config) (*Context, error) {
	if cfg.MaxRequests < 0 {
		return nil, fmt.Errorf("aio: new context: MaxRequests %d: %w", cfg.MaxRequests, os.ErrInvalid)
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
	default:
		return nil, fmt.Errorf("aio: new context: %v: %w", cfg.Backend, os.ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("aio: new context (%v backend): %w", cfg.Backend, err)
	}
	return newContext(cfg, be, limit), nil
}

func newContext(cfg Config, be backend, limit int) *Context {
	c := &Context{
		be:    be,
		cfg:   cfg,
		max:   limit,
		slots: make([]*Request, limit),
		gens:  make([]uint32, limit),
		free:  make([]uint32, limit),
		batch: make([]*Request, be.batchMax()),
		res:   make([]syscall.Errno, be.batchMax()),
		evs:   make([]event, maxEvents),
	}
	c.pinning = pinRequestAndBuffers
	if p, ok := be.(pinningBackend); ok {
		c.pinning = p.pinning()
	}
	for i := range c.free {
		c.free[i] = uint32(limit - 1 - i)
	}
	return c
}

// Kernel names the interface the context drives: "freebsd-aio" (POSIX AIO
// with kqueue), "linux-aio" (kernel AIO) or "portable" (goroutines). A
// DefaultBackend context is "portable" where the system offers no kernel
// AIO this package drives, or refuses it (for example under seccomp).
func (c *Context) Kernel() string { return c.be.kernel() }

// MaxRequests returns the bound on requests in flight.
func (c *Context) MaxRequests() int { return c.max }

// Submit hands reqs, all Prepared, to the kernel and returns how many are
// now in flight; each of those comes back from Wait exactly once, including
// one the kernel rejected at submission (its error is in Result). Batches
// larger than the kernel's list limit are split. Requests refused for lack
// of resources (kernel queue full or MaxRequests reached) stay Prepared, and
// the error matches ErrAgain: wait for completions and submit them again.
// The accepted requests are not always a prefix of reqs (the kernel judges
// each entry of a list on its own): State tells which are Submitted. An
// empty call does nothing and returns 0, nil. Submit refuses the whole call, changing nothing, if a request is nil, not
// Prepared, already submitted (here or to another context) or listed twice.
func (c *Context) Submit(reqs ...*Request) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, ErrClosed
	}
	if err := c.claim(reqs); err != nil {
		return 0, err
	}
	accepted := 0
	var err error
	pending := reqs
	for len(pending) > 0 {
		room := c.max - c.inflight
		if room == 0 {
			err = fmt.Errorf("aio: submit: %d requests in flight, the MaxRequests bound: %w", c.inflight, ErrAgain)
			break
		}
		chunk := pending[:min(len(pending), c.be.batchMax(), room)]
		pending = pending[len(chunk):]
		n, again := c.submitChunk(chunk)
		accepted += n
		if again {
			err = fmt.Errorf("aio: submit: kernel queue full: %w", ErrAgain)
			break
		}
	}
	for _, r := range pending {
		r.owner.Store(nil)
	}
	return accepted, err
}

// claim makes c the owner of every request of reqs, or of none.
func (c *Context) claim(reqs []*Request) error {
	for i, r := range reqs {
		var err error
		switch {
		case r == nil:
			err = fmt.Errorf("aio: submit: request %d is nil: %w", i, ErrInvalidState)
		case r.State() == Submitted:
			err = fmt.Errorf("aio: submit: request %d: %w", i, ErrInProgress)
		case r.State() != Prepared:
			err = fmt.Errorf("aio: submit: request %d is %v, not Prepared: %w", i, r.State(), ErrInvalidState)
		case !r.owner.CompareAndSwap(nil, c):
			err = fmt.Errorf("aio: submit: request %d is listed twice or being submitted elsewhere: %w", i, ErrInvalidState)
		}
		if err != nil {
			for _, q := range reqs[:i] {
				q.owner.Store(nil)
			}
			return err
		}
	}
	return nil
}

// submitChunk gives chunk to the backend and sorts out each outcome.
func (c *Context) submitChunk(chunk []*Request) (accepted int, again bool) {
	for _, r := range chunk {
		slot := c.free[len(c.free)-1]
		c.free = c.free[:len(c.free)-1]
		c.slots[slot] = r
		r.slot, r.gen, r.done = slot, c.gens[slot], false
		c.pin(r)
	}
	res := c.res[:len(chunk)]
	clear(res)
	// The backend gets a copy of chunk in c's own slice: a slice passed
	// through the interface escapes, and Submit's variadic argument would
	// then be allocated on every call.
	batch := c.batch[:copy(c.batch, chunk)]
	c.be.submit(batch, res)
	clear(batch)
	for i, r := range chunk {
		switch res[i] {
		case 0:
		case syscall.EAGAIN:
			c.releaseSlot(r)
			r.pins.Unpin()
			r.owner.Store(nil)
			again = true
			continue
		default:
			c.releaseSlot(r)
			r.pins.Unpin()
			r.n, r.err, r.done = 0, r.kernelError(res[i]), true
			c.ready = append(c.ready, r)
		}
		r.state.Store(int32(Submitted))
		if c.inflight == 0 {
			registry.add(c)
		}
		c.inflight++
		accepted++
	}
	return accepted, again
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

// pin pins what the backend needs of r; collect or a refusal unpins it.
func (c *Context) pin(r *Request) {
	switch c.pinning {
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
	r.owner.Store(nil)
	r.state.Store(int32(Completed))
}

// Wait fills out[:n] with completed requests and returns as soon as n >=
// min (min 0: whatever is ready now). It also returns when ctx is done
// (ctx.Err()) or Wakeup is called (ErrInterrupted); n > 0 with an error is
// possible, so handle out[:n] first. With nothing in flight it returns
// ErrNoRequests unless Config.WaitWithoutPending; so does a Wait whose
// requests all came back before min was reached, with those requests. Only one goroutine may
// wait at a time: a second gets ErrBusy. A signal never ends a Wait early.
func (c *Context) Wait(ctx context.Context, min int, out []*Request) (int, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if min < 0 || min > len(out) {
		return 0, fmt.Errorf("aio: wait: min %d outside [0, len(out)=%d]: %w", min, len(out), os.ErrInvalid)
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
		if err := ctx.Err(); err != nil {
			return n, err
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
		case atLeast == 0:
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
			return n, fmt.Errorf("aio: wait: %w", err)
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
		if int(ev.slot) >= len(c.slots) {
			continue
		}
		r := c.slots[ev.slot]
		if r == nil || r.gen != ev.gen {
			continue
		}
		bytes, errno, ok := c.be.finish(r, ev)
		if !ok {
			continue
		}
		r.n, r.err = bytes, nil
		if errno != 0 {
			r.n, r.err = 0, r.kernelError(errno)
		}
		c.releaseSlot(r)
		r.pins.Unpin()
		out[n] = r
		n++
		c.complete(r)
	}
	return n
}

// cancel is Request.Cancel for a request c may own. ok is false if r is
// not (or no longer) submitted to c.
func (c *Context) cancel(r *Request) (err error, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.owner.Load() != c || r.State() != Submitted {
		return nil, false
	}
	if r.done {
		return ErrAlreadyCompleted, true
	}
	outcome, err := c.be.cancel(r)
	if err != nil {
		return fmt.Errorf("aio: cancel: %w", err), true
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
// ErrInterrupted. Wakeups before a Wait reports one coalesce.
func (c *Context) Wakeup() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.woken.Store(true)
	if err := c.be.wake(); err != nil {
		return fmt.Errorf("aio: wakeup: %w", err)
	}
	return nil
}

// ctxDone wakes the waiter when its context.Context is done.
func (c *Context) ctxDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		_ = c.be.wake() // the waiter also sees ctx.Err() on its next round
	}
}

// Close releases the context's kernel resources. With requests in flight,
// or a goroutine inside Wait, it returns ErrBusy and changes nothing.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.inflight > 0 || c.waiting:
		return ErrBusy
	}
	c.closed = true
	if err := c.be.close(); err != nil {
		return fmt.Errorf("aio: close: %w", err)
	}
	return nil
}

package aio

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The portable backend, also the goroutine engine of DefaultBackend, runs
// requests on a bounded pool of goroutines doing ordinary system calls
// (portable_io_*.go). It works on every OS. Requests run in no fixed
// order, several at a time, like kernel AIO.
//
// Workers are started as work arrives and stay. While requests are quick
// (the page cache), the pool keeps to a worker per CPU (quickPool), each
// taking a share of the queue at a time. A worker hands each completion
// over as soon as it is done, where the waiter finds it before it sleeps,
// but wakes the waiter only if it sleeps, else once per share: a busy
// waiter is not woken once per request, and a request of the share that
// takes long does not keep the finished ones from it. A request that takes
// long (a disk read, a slow mount) lets the pool grow, up to the bound,
// and the rest of its worker's share goes back to the queue as soon as it
// has run for slowJob, not when it returns (portable_guard.go), so that
// slow requests run in parallel and one that hangs holds up no other; a
// worker on a stream, which may wait for it without end
// (in the poller, or in read(2) for a descriptor in blocking mode), or on
// a Linux character device (which may wait so in pread), does not count
// against the pool. A worker that runs out of work looks for
// more for a few microseconds before it sleeps. Nothing is allocated per
// request.
//
// Where the kernel has a read that refuses to wait for a device (Linux:
// preadv2 with RWF_NOWAIT, portable_inline_linux.go), a read of a buffered
// regular file is first tried that way: by the waiter, which runs such
// reads from the head of the queue instead of sleeping (help), and by a
// worker, which gives the rest of its share back before a read the cache
// does not hold. So reads from the page cache cost no hand-off to another
// goroutine when the waiter is there to do them, and a read that waits for
// the disk is always a worker's, never the waiter's.
//
// A worker reaches a request's descriptor only through the file's
// RawConn, so the descriptor cannot be closed (and its number reused)
// while the worker uses it; a file closed before the worker starts fails
// the request with EBADF. A stream in Go's poller (a pipe or socket) is
// waited for in the poller, not in a blocked thread.

// portableJob is the portable backend's per-request state.
type portableJob struct {
	state  atomic.Int32
	slot   uint32 // r.slot and r.gen, copied at submission: the workers
	gen    uint32 // keep off the lines the waiter writes as it collects
	n      int
	errno  syscall.Errno
	ran    bool               // the system call gave the result
	missed bool               // a read that does not wait could not do it
	part   int                // bytes of r.buf that read left filled before it missed: the worker reads on from there
	run    func(uintptr)      // r.runPortable, made once
	stream func(uintptr) bool // r.runStream, made once

	// Where syncs are ordered (sync_order.go), under the engine's mu:
	epoch   uint64 // of the request's file
	ordered bool   // counted in its file's epoch until it finishes
	held    bool   // a sync kept back until the earlier requests finish
}

// event is the job's event, with errno and no bytes.
func (pj *portableJob) event(errno syscall.Errno) event {
	return event{slot: pj.slot, gen: pj.gen, errno: errno}
}

const (
	jobQueued int32 = iota + 1
	jobRunning
	jobCanceled
	jobFinished
)

// defaultWorkers is the pool's bound for a context of limit requests: as
// many as can be in flight, for devices that gain from parallel requests,
// within a multiple of GOMAXPROCS that keeps a pool of a large context
// from growing without purpose.
func defaultWorkers(limit int) int {
	return max(min(limit, max(maxPortableWorkers, 8*runtime.GOMAXPROCS(0))), 1)
}

// maxPortableWorkers is the default bound's floor.
const maxPortableWorkers = 128

type portableBackend struct {
	lim        int // requests in flight at most
	maxWorkers int
	fast       int // the pool while requests are quick

	mu      sync.Mutex
	queue   []*Request // submitted, not yet taken by a worker
	head    int        // queue[head:] is waiting
	workCh  sync.Cond  // workers wait here for work
	idle    int        // workers waiting on workCh
	workers int        // workers started
	parked  int        // workers on a stream, which may wait for it
	allow   int        // workers wanted now, fast..maxWorkers
	closing bool

	sleeping atomic.Bool // the waiter sleeps (here, or in DefaultBackend's kernel) until workers wake it

	order syncOrder // under mu, where syncs are ordered

	// The waiter's, for help.
	runs  inlineRuns
	took  [helpBatch]*Request
	waits [helpBatch]*Request

	dmu    sync.Mutex
	done   []event // completions not yet collected
	woke   bool    // a wake not yet reported
	notify chan struct{}
	timer  *time.Timer
	quit   sync.WaitGroup

	// onDone, when set, is called after completions are added to done (by
	// DefaultBackend, whose waiter may be blocked in the kernel).
	onDone func()
}

func newPortableBackend(limit int) (backend, int, error) {
	b := newGoroutineEngine(limit, 0)
	return b, b.limit(), nil
}

// newGoroutineEngine makes a pool for limit requests with at most workers
// goroutines (0: defaultWorkers).
func newGoroutineEngine(limit, workers int) *portableBackend {
	limit = min(limit, 1<<16)
	if workers <= 0 {
		workers = defaultWorkers(limit)
	}
	b := &portableBackend{
		lim:        limit,
		maxWorkers: workers,
		fast:       min(workers, quickPool()),
		queue:      make([]*Request, 0, limit),
		done:       make([]event, 0, limit),
		notify:     make(chan struct{}, 1),
		timer:      time.NewTimer(time.Hour),
	}
	b.allow = b.fast
	b.workCh.L = &b.mu
	b.timer.Stop()
	return b
}

// quickPool is the pool while requests are quick: a worker for each CPU,
// but one fewer where the waiter does reads itself (help), since it then
// takes one CPU's share of them.
func quickPool() int {
	n := runtime.GOMAXPROCS(0)
	if inlineReads {
		n--
	}
	return max(n, 1)
}

func (b *portableBackend) limit() int { return b.lim }

// setWorkers bounds the pool at n workers, and at most one per request
// that can be in flight (more could never all have work, and the pool's
// doubling of allow must stay far from overflowing); before any work
// arrives.
func (b *portableBackend) setWorkers(n int) {
	n = min(n, b.lim)
	b.maxWorkers = n
	b.fast = min(b.fast, n)
	b.allow = b.fast
}

func (b *portableBackend) kernel() string { return "portable" }

func (b *portableBackend) goroutines() *portableBackend { return b }

func (b *portableBackend) batchMax() int { return b.lim }

// pinning: the workers touch a request's memory only through the system
// calls they make from Go, which need no pin (the request stays reachable
// from the context's slots until Wait returns it).
func (b *portableBackend) pinning() pinning { return pinNothing }

func (b *portableBackend) submit(batch []*Request, res []syscall.Errno) {
	for _, r := range batch {
		r.engine = engineGoroutine
		r.pj.slot, r.pj.gen = r.slot, r.gen
		r.pj.missed, r.pj.part = false, 0
		r.pj.state.Store(jobQueued)
	}
	b.mu.Lock()
	if orderedSyncs {
		for _, r := range batch {
			b.order.add(r)
		}
	}
	b.enqueue(batch)
	b.mu.Unlock()
}

// finished counts r out of its file's sync order, queueing a sync that
// may now start; r's event is not yet handed over.
func (b *portableBackend) finished(r *Request) {
	if !orderedSyncs {
		return
	}
	b.mu.Lock()
	if rel := b.order.done(r); rel != nil {
		b.enqueue(rel)
		clear(rel)
	}
	b.mu.Unlock()
}

// holdSyncs keeps back the syncs of taken that must wait for earlier
// requests, and returns the rest. Called under b.mu.
func (b *portableBackend) holdSyncs(taken []*Request) []*Request {
	k := 0
	for _, r := range taken {
		if !b.order.hold(r) {
			taken[k] = r
			k++
		}
	}
	clear(taken[k:])
	return taken[:k]
}

// enqueue adds reqs to the queue and wakes or starts the workers it needs.
// Called under b.mu.
func (b *portableBackend) enqueue(reqs []*Request) {
	if b.head > 0 && len(b.queue)+len(reqs) > cap(b.queue) {
		b.queue = b.queue[:copy(b.queue, b.queue[b.head:])]
		b.head = 0
	}
	b.queue = append(b.queue, reqs...)
	b.staff()
}

// staff wakes idle workers for the waiting requests and starts new ones
// while the pool is below what is wanted. Called under b.mu.
func (b *portableBackend) staff() {
	waiting := len(b.queue) - b.head
	for range min(b.idle, waiting) {
		b.workCh.Signal()
	}
	active := b.workers - b.parked
	start := max(min(waiting-b.idle, b.allow-active, b.maxWorkers+b.parked-b.workers), 0)
	b.workers += start
	b.quit.Add(start)
	for range start {
		go b.work()
	}
}

// take waits for work (spinning first, if spin) and returns a worker's
// share of the queue: an equal part for each wanted worker, so that
// requests run in parallel.
func (b *portableBackend) take(into []*Request, spin bool) []*Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	if spin && b.head == len(b.queue) && !b.closing {
		b.spin()
	}
	room := len(into)
	for {
		for b.head == len(b.queue) {
			if b.closing {
				return nil
			}
			b.idle++
			b.workCh.Wait()
			b.idle--
		}
		waiting := len(b.queue) - b.head
		share := min((waiting+b.allow-1)/b.allow, room)
		into = append(into[:0], b.queue[b.head:b.head+share]...)
		clear(b.queue[b.head : b.head+share])
		b.head += share
		if b.head == len(b.queue) {
			b.queue, b.head = b.queue[:0], 0
		}
		if orderedSyncs {
			into = b.holdSyncs(into)
		}
		if len(into) > 0 {
			return into
		}
	}
}

// spin waits a little for work before a worker goes to sleep: the
// waiter usually submits again within microseconds, and waking a sleeping
// worker costs far more. Called and returns under b.mu.
func (b *portableBackend) spin() {
	t0 := monotonic()
	for b.head == len(b.queue) && !b.closing && monotonic()-t0 < spinFor {
		b.mu.Unlock()
		runtime.Gosched()
		b.mu.Lock()
	}
}

// spinFor is how long a worker looks for work before it sleeps.
const spinFor = 20 * time.Microsecond

// epoch anchors monotonic.
var epoch = time.Now()

// monotonic reads the monotonic clock alone, which time.Now does with the
// wall clock.
func monotonic() time.Duration { return time.Since(epoch) }

// slowJob is how long a request may take and still count as quick: far
// above a read from the page cache, below a read from a disk.
const slowJob = 40 * time.Microsecond

// slowed records that a request took long, and rest, the untouched
// remainder of a worker's share (perhaps none), goes back to the queue for
// other workers. The pool grows only if requests wait: a slow request
// alone (one call at a time on a File) gains nothing from more workers, and
// each new one would cost a goroutine.
//
// A waiter asleep is woken if rest holds reads it can do itself (help):
// with the pool at its bound no worker may be there to take them until a
// slow request returns, which may be never.
func (b *portableBackend) slowed(rest []*Request) {
	helpable := false
	for _, r := range rest {
		if canInline(r) {
			helpable = true
			break
		}
	}
	b.mu.Lock()
	if len(rest) > 0 || b.head < len(b.queue) {
		b.allow = min(b.allow*2, b.maxWorkers)
	}
	if len(rest) > 0 {
		b.enqueue(rest)
	}
	b.mu.Unlock()
	if helpable && b.sleeping.Load() {
		b.wakeWaiter()
	}
}

// handBack returns the untouched rest of a worker's share to the queue.
func (b *portableBackend) handBack(rest []*Request) {
	b.mu.Lock()
	b.enqueue(rest)
	b.mu.Unlock()
}

// giveBack hands taken[i:], the rest of a worker's share, back to the
// queue and returns what the worker keeps.
func (b *portableBackend) giveBack(taken []*Request, i int) []*Request {
	if rest := taken[i:]; len(rest) > 0 {
		b.handBack(rest)
		clear(rest)
	}
	return taken[:i]
}

// requeue puts running requests that were not done back in the queue.
func (b *portableBackend) requeue(rs []*Request) {
	if len(rs) == 0 {
		return
	}
	for _, r := range rs {
		r.pj.state.Store(jobQueued)
	}
	b.handBack(rs)
	clear(rs)
}

// quick records a share done without a slow request: the pool shrinks
// back towards fast by one.
func (b *portableBackend) quick() {
	b.mu.Lock()
	b.allow = max(b.allow-1, b.fast)
	b.mu.Unlock()
}

// workerBatch bounds what one worker takes at a time.
const workerBatch = 16

func (b *portableBackend) work() {
	defer b.quit.Done()
	var (
		jobs  [workerBatch]*Request
		evs   [workerBatch]event
		waits [workerBatch]*Request
		runs  inlineRuns
	)
	guard := newShareGuard(b)
	defer guard.done()
	slow := false
	for {
		// After a slow share the next request is far off: no spinning,
		// which would also keep the CPUs from workers the blocking
		// requests leave behind.
		taken := b.take(jobs[:], !slow)
		if taken == nil {
			return
		}
		n := 0
		quiet := false // completions handed over without waking the waiter
		slow = false
		for i := 0; i < len(taken); {
			r := taken[i]
			switch {
			case r.class.waitsWithoutEnd():
				// A stream may wait for data without end, and so may a
				// character device: give the rest of the share back
				// first.
				taken = b.giveBack(taken, i+1)
				evs[n] = b.run(r)
				taken[i] = nil
				n, i = n+1, i+1
			case canInline(r):
				// Reads the cache holds are done at once; one it does not
				// hold (or not at once: a page being read in, or locked)
				// may wait for the device, so what is done is handed over
				// and the rest of the share goes back to the queue first,
				// and the pool grows if one did wait.
				j := i + 1
				for j < len(taken) && canInline(taken[j]) {
					j++
				}
				k, w := b.inline(taken[i:j], evs[n:], waits[:0], &runs)
				n += k
				clear(taken[i:j])
				i = j
				if len(w) == 0 {
					break
				}
				// This worker waits for the first of those; the others go
				// back too, to run beside it on other workers.
				if n > 0 {
					b.post(evs[:n])
					n, quiet = 0, false
				}
				taken = b.giveBack(taken, i)
				b.requeue(w[1:])
				t := monotonic()
				evs[n] = b.perform(w[0])
				w[0] = nil
				n++
				if monotonic()-t > slowJob {
					slow = true
					b.slowed(nil)
				}
			default:
				// It may block (a device, a hung mount, a long fsync):
				// what follows it in the share goes to other workers if
				// it runs long, timed from its own start (reads done
				// inline before it, and completions handed over, are not
				// its time).
				lent := i+1 < len(taken)
				t0 := monotonic()
				if lent {
					guard.begin(taken[i+1:], t0)
				}
				evs[n] = b.run(r)
				taken[i] = nil
				n, i = n+1, i+1
				switch {
				case lent && guard.end():
					slow = true
					clear(taken[i:])
					taken = taken[:i]
				case monotonic()-t0 > slowJob:
					slow = true
					b.slowed(taken[i:])
					clear(taken[i:])
					taken = taken[:i]
				}
			}
			// What is done is handed over at once, so that a request of
			// the share that then takes long (or waits without end) does
			// not keep it from the waiter, which looks before it sleeps;
			// the waiter is woken now if it sleeps, else once per share.
			if n > 0 {
				b.publish(evs[:n])
				n, quiet = 0, true
			}
			if quiet && b.sleeping.Load() {
				b.wakeWaiter()
				quiet = false
			}
		}
		guard.done()
		if quiet {
			b.wakeWaiter()
		}
		if !slow {
			b.quick()
		}
	}
}

// post hands completions to the waiter and wakes it.
func (b *portableBackend) post(evs []event) {
	if len(evs) == 0 {
		return
	}
	b.publish(evs)
	b.wakeWaiter()
}

// publish hands completions to the waiter without waking it: a waiter
// looks for them before it sleeps (reap, pending), and one that sleeps
// says so (sleeping) for workers to wake it.
func (b *portableBackend) publish(evs []event) {
	b.dmu.Lock()
	b.done = append(b.done, evs...)
	b.dmu.Unlock()
}

// wakeWaiter wakes the waiter for completions published.
func (b *portableBackend) wakeWaiter() {
	b.signal()
	if b.onDone != nil {
		b.onDone()
	}
}

// run performs r unless it was canceled, and returns its event.
func (b *portableBackend) run(r *Request) event {
	if !r.pj.state.CompareAndSwap(jobQueued, jobRunning) {
		b.finished(r)
		return r.pj.event(syscall.ECANCELED)
	}
	return b.perform(r)
}

// perform does r, which is running, and returns its event.
func (b *portableBackend) perform(r *Request) event {
	ev := r.pj.event(0)
	if r.pj.run == nil {
		r.pj.run, r.pj.stream = r.runPortable, r.runStream
	}
	r.pj.n, r.pj.errno, r.pj.ran = 0, 0, false
	var err error
	switch {
	case r.class.waitsWithoutEnd() && r.op != opFlush && r.op != opDataSync:
		// A stream, or a Linux character device: it may wait in the
		// poller, where os.OpenFile put it (it answers EAGAIN until ready,
		// and runStream then has the poller wait), or in the system call
		// itself where the descriptor is in blocking mode (os.Stdin, or a
		// file whose Fd was called).
		b.park(1)
		if r.op == opRead || r.op == opReadv {
			err = r.rc.Read(r.pj.stream)
		} else {
			err = r.rc.Write(r.pj.stream)
		}
		b.park(-1)
	default:
		err = r.rc.Control(r.pj.run)
	}
	if err != nil && !r.pj.ran {
		// The file was closed before or while the request waited for it
		// (EBADF), or the poller cannot wait for this descriptor (EAGAIN).
		r.pj.n, r.pj.errno = 0, syscall.EBADF
		if r.rc.Control(noFd) == nil {
			r.pj.errno = syscall.EAGAIN
		}
	}
	ev.res, ev.errno = int64(r.pj.n), r.pj.errno
	b.finished(r)
	r.pj.state.Store(jobFinished)
	return ev
}

func (r *Request) runPortable(fd uintptr) {
	r.pj.n, r.pj.errno = portableIO(r, int(fd))
	r.pj.ran = true
}

// runStream is one attempt on a stream; false asks the poller to wait
// until the descriptor is ready.
func (r *Request) runStream(fd uintptr) bool {
	n, errno := portableIO(r, int(fd))
	if errno == syscall.EAGAIN {
		return false
	}
	r.pj.n, r.pj.errno, r.pj.ran = n, errno, true
	return true
}

// park counts a worker onto (+1) or off (-1) a stream; one going on makes
// room for another worker.
func (b *portableBackend) park(d int) {
	b.mu.Lock()
	b.parked += d
	if d > 0 {
		b.staff()
	}
	b.mu.Unlock()
}

func (b *portableBackend) signal() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// reap moves waiting completions into evs without blocking; woke reports
// a wake not yet reported.
func (b *portableBackend) reap(evs []event) (int, bool) {
	b.dmu.Lock()
	n := copy(evs, b.done)
	rest := copy(b.done, b.done[n:])
	b.done = b.done[:rest]
	woke := b.woke
	b.woke = false
	b.dmu.Unlock()
	return n, woke
}

func (b *portableBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	timerSet := false
	defer func() {
		if timerSet {
			b.timer.Stop()
		}
	}()
	for {
		n, woke := b.reap(evs)
		if n > 0 || woke || timeout == 0 {
			return n, woke, nil
		}
		if n, woke := b.help(evs); n > 0 {
			return n, woke, nil
		}
		// Workers hand over what they have done at once, not at the end
		// of their share, while the waiter sleeps; so a last look first.
		b.sleeping.Store(true)
		if n, woke := b.reap(evs); n > 0 || woke {
			b.sleeping.Store(false)
			return n, woke, nil
		}
		if timeout < 0 {
			<-b.notify
			b.sleeping.Store(false)
			continue
		}
		if !timerSet {
			b.timer.Reset(timeout)
			timerSet = true
		}
		select {
		case <-b.notify:
			b.sleeping.Store(false)
		case <-b.timer.C:
			b.sleeping.Store(false)
			timerSet = false
			timeout = 0 // look once more, then report the timeout
		}
	}
}

func (b *portableBackend) finish(r *Request, ev *event) (int, syscall.Errno, bool) {
	n, errno := eventResult(ev)
	return n, errno, true
}

func (b *portableBackend) cancel(r *Request) (cancelOutcome, error) {
	if r.pj.state.CompareAndSwap(jobQueued, jobCanceled) {
		if orderedSyncs {
			// A held sync goes back to the queue, where a worker reports
			// it canceled.
			b.mu.Lock()
			if rel := b.order.unhold(r); rel != nil {
				b.enqueue(rel)
				clear(rel)
			}
			b.mu.Unlock()
		}
		return cancelDone, nil
	}
	if r.pj.state.Load() == jobRunning {
		return cancelNotCanceled, nil
	}
	return cancelAllDone, nil
}

func (b *portableBackend) wake() error {
	b.dmu.Lock()
	b.woke = true
	b.dmu.Unlock()
	b.signal()
	return nil
}

func (b *portableBackend) close() error {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	b.workCh.Broadcast()
	b.quit.Wait()
	return nil
}

package aio

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The portable backend runs requests on a bounded pool of goroutines that
// do positional I/O with ordinary system calls (portable_io_*.go). It works
// on every OS and is the baseline the kernel backends are measured against.
// Requests run in no fixed order, several at a time, like kernel AIO.

// maxPortableWorkers bounds the pool; more in flight simply queue.
const maxPortableWorkers = 128

// portableJob is the portable backend's per-request state.
type portableJob struct{ state atomic.Int32 }

const (
	jobQueued int32 = iota + 1
	jobRunning
	jobCanceled
	jobFinished
)

type portableBackend struct {
	jobs chan *Request // capacity MaxRequests, so submit never blocks

	mu     sync.Mutex
	done   []event // completions not yet collected
	woke   bool    // a wake not yet reported
	notify chan struct{}
	timer  *time.Timer
	quit   sync.WaitGroup
}

func newPortableBackend(limit int) (backend, int, error) {
	limit = min(limit, 1<<16)
	b := &portableBackend{
		jobs:   make(chan *Request, limit),
		done:   make([]event, 0, limit),
		notify: make(chan struct{}, 1),
		timer:  time.NewTimer(time.Hour),
	}
	b.timer.Stop()
	workers := min(limit, maxPortableWorkers)
	b.quit.Add(workers)
	for range workers {
		go b.work()
	}
	return b, limit, nil
}

func (b *portableBackend) kernel() string { return "portable" }

func (b *portableBackend) batchMax() int { return cap(b.jobs) }

// pinning: the workers touch a request's memory only through the system
// calls they make from Go, which need no pin (the request stays reachable
// from the context's slots until Wait returns it).
func (b *portableBackend) pinning() pinning { return pinNothing }

func (b *portableBackend) submit(batch []*Request, res []syscall.Errno) {
	for _, r := range batch {
		r.pj.state.Store(jobQueued)
		b.jobs <- r
	}
}

func (b *portableBackend) work() {
	defer b.quit.Done()
	for r := range b.jobs {
		ev := event{slot: r.slot, gen: r.gen}
		if r.pj.state.CompareAndSwap(jobQueued, jobRunning) {
			n, errno := portableIO(r)
			ev.res, ev.errno = int64(n), errno
			r.pj.state.Store(jobFinished)
		} else {
			ev.errno = syscall.ECANCELED
		}
		b.mu.Lock()
		b.done = append(b.done, ev)
		b.mu.Unlock()
		b.signal()
	}
}

func (b *portableBackend) signal() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

func (b *portableBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	timerSet := false
	defer func() {
		if timerSet {
			b.timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		n := copy(evs, b.done)
		rest := copy(b.done, b.done[n:])
		b.done = b.done[:rest]
		woke := b.woke
		b.woke = false
		b.mu.Unlock()
		if n > 0 || woke || timeout == 0 {
			return n, woke, nil
		}
		if timeout < 0 {
			<-b.notify
			continue
		}
		if !timerSet {
			b.timer.Reset(timeout)
			timerSet = true
		}
		select {
		case <-b.notify:
		case <-b.timer.C:
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
		return cancelDone, nil
	}
	if r.pj.state.Load() == jobRunning {
		return cancelNotCanceled, nil
	}
	return cancelAllDone, nil
}

func (b *portableBackend) wake() error {
	b.mu.Lock()
	b.woke = true
	b.mu.Unlock()
	b.signal()
	return nil
}

func (b *portableBackend) close() error {
	close(b.jobs)
	b.quit.Wait()
	return nil
}

package aio

import (
	"sync"
	"time"
)

// shareGuard lets a worker's untouched share go to other workers while the
// worker is stuck in one request: a read or write of a hung mount, a long
// fsync. While the worker runs a request that may block, it lends the rest
// of its share to its guard (begin, end); the guard's timer, armed once
// per share, hands that rest back to the queue (as slowed does) once the
// request has run for slowJob. One guard per worker, made once.
type shareGuard struct {
	b     *portableBackend
	timer *time.Timer

	mu     sync.Mutex
	rest   []*Request    // lent: the share after the running request
	start  time.Duration // when the running request began (monotonic)
	moved  bool          // the timer handed rest to the queue
	armed  bool
	active bool // a request runs with rest lent
}

func newShareGuard(b *portableBackend) *shareGuard {
	g := &shareGuard{b: b}
	g.timer = time.AfterFunc(time.Hour, g.expire)
	g.timer.Stop()
	return g
}

// begin lends rest (not empty) while the worker runs a request that may
// block, begun at now.
func (g *shareGuard) begin(rest []*Request, now time.Duration) {
	g.mu.Lock()
	g.rest, g.start, g.moved, g.active = rest, now, false, true
	if !g.armed {
		g.armed = true
		g.timer.Reset(slowJob)
	}
	g.mu.Unlock()
}

// end takes the rest back after the request returned, and reports whether
// the timer handed it to the queue meanwhile (the worker then clears its
// slots). Once end returns, the timer touches nothing of the worker's.
func (g *shareGuard) end() (moved bool) {
	g.mu.Lock()
	moved = g.moved
	g.rest, g.moved, g.active = nil, false, false
	g.mu.Unlock()
	return moved
}

// done disarms the timer at the end of a share.
func (g *shareGuard) done() {
	g.mu.Lock()
	if g.armed {
		g.armed = false
		g.timer.Stop()
	}
	g.mu.Unlock()
}

// expire hands the lent rest to the queue if its request has run for
// slowJob, under the guard's lock, so that the worker cannot reuse the
// slice while it is copied; else it looks again when that time comes.
func (g *shareGuard) expire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.armed {
		return
	}
	if !g.active || g.moved {
		g.armed = false
		return
	}
	if ran := monotonic() - g.start; ran < slowJob {
		g.timer.Reset(slowJob - ran)
		return
	}
	g.b.slowed(g.rest)
	g.moved = true
	g.armed = false
}

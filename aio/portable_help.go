package aio

import "syscall"

// Reads the page cache holds, done without a hand-off where the system has
// a read that refuses to wait for a device (inlineReads, canInline): by
// the waiter instead of sleeping (help), and by workers for runs of them
// in their share, several of one file inside one RawConn call.

// help runs requests at the head of the queue in the waiter's goroutine,
// instead of sleeping while a worker does, as long as they can be done
// without waiting for a device (canInline: reads the page cache holds),
// up to its part of the queue, helpBatch and len(evs). A read the cache
// does not hold goes back to the queue, for the workers. If it did any, it
// adds what the workers have posted, as reap does, and returns the count
// and whether a wake came.
func (b *portableBackend) help(evs []event) (int, bool) {
	if !inlineReads {
		return 0, false
	}
	took := b.took[:]
	b.mu.Lock()
	// The waiter takes its part of what waits, as one more worker, and
	// leaves the rest to the workers: taking all would leave a worker just
	// woken for it nothing to do, and one CPU doing everything.
	waiting := len(b.queue) - b.head
	part := min(len(evs), helpBatch, (waiting+b.allow)/(b.allow+1))
	k := 0
	for k < part && canInline(b.queue[b.head]) {
		took[k] = b.queue[b.head]
		b.queue[b.head] = nil
		b.head++
		k++
	}
	if b.head == len(b.queue) {
		b.queue, b.head = b.queue[:0], 0
	}
	b.mu.Unlock()
	n, back := b.inline(took[:k], evs, b.waits[:0], &b.runs)
	clear(took[:k])
	b.requeue(back)
	if n == 0 {
		return 0, false
	}
	m, woke := b.reap(evs[n:])
	return n + m, woke
}

// helpBatch bounds the requests one help runs, so that the waiter returns
// what is done soon.
const helpBatch = 8

// inline runs rs, each unless it was canceled, with reads that do not
// wait for a device (canInline), those on one file in one RawConn call. It
// puts the events of those done (or canceled) in evs and returns how many,
// and appends to waits those the reads could not do, which are running and
// must be performed (blocking: they are marked missed, so that canInline
// no longer holds for them).
func (b *portableBackend) inline(rs []*Request, evs []event, waits []*Request, runs *inlineRuns) (int, []*Request) {
	n := 0
	claimed := rs[:0]
	for _, r := range rs {
		if r.pj.state.CompareAndSwap(jobQueued, jobRunning) {
			claimed = append(claimed, r)
			continue
		}
		b.finished(r)
		evs[n] = r.pj.event(syscall.ECANCELED)
		n++
	}
	for i := 0; i < len(claimed); {
		j := i + 1
		for j < len(claimed) && claimed[j].file == claimed[i].file {
			j++
		}
		runs.do(claimed[i:j])
		i = j
	}
	for _, r := range claimed {
		if !r.pj.ran {
			r.pj.missed = true
			waits = append(waits, r)
			continue
		}
		evs[n] = r.pj.event(0)
		evs[n].res = int64(r.pj.n)
		n++
		b.finished(r)
		r.pj.state.Store(jobFinished)
	}
	return n, waits
}

// inlineRuns does reads that do not wait for several requests on one file
// inside one RawConn call, so that the descriptor is held once for all.
// Each worker has its own, and the waiter another.
type inlineRuns struct {
	reqs []*Request
	fn   func(uintptr) // runs.run, made once
}

// do runs the reads of rs, running requests all on one file; each one's
// pj.ran says whether its read was done.
func (runs *inlineRuns) do(rs []*Request) {
	for _, r := range rs {
		r.pj.ran = false
	}
	if runs.fn == nil {
		runs.fn = runs.run
	}
	runs.reqs = rs
	_ = rs[0].rc.Control(runs.fn) // on error (closed) none ran
	runs.reqs = nil
}

func (runs *inlineRuns) run(fd uintptr) {
	for _, r := range runs.reqs {
		r.runInline(fd)
	}
}

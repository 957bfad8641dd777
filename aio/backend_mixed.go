//go:build (freebsd || linux) && (amd64 || arm64)

package aio

import (
	"sync/atomic"
	"syscall"
	"time"
)

// mixedBackend is DefaultBackend where the kernel has AIO: each request
// goes to the engine that serves its file asynchronously (kernelServes),
// the kernel's AIO or the goroutine engine, and one wait collects the
// completions of both. Slots and generations are the context's, shared
// by both engines; a request's engine field says which one has it.
//
// The waiter sleeps where completions can come from: on the goroutine
// engine alone while the kernel has nothing in flight (so buffered I/O on
// Linux never touches kernel AIO), else in the kernel, which the goroutine
// engine wakes once per burst of completions (kicked), not once per
// completion.
type mixedBackend struct {
	k     backend
	g     *portableBackend
	which kernelAIO
	kpin  pinning // what the kernel engine needs pinned

	kin    atomic.Int64 // requests in flight in the kernel engine
	sleep  atomic.Int32 // where the waiter sleeps (sleepNone...)
	kicked atomic.Bool  // a kernel wake for goroutine completions is pending

	again []*Request // requests the kernel refused, handed to goroutines
	res   []syscall.Errno

	nowait   nowaitEngine // k, if it refuses requests that would wait in it
	aside    [1]*Request  // a request nowait refused, handed to goroutines
	asideRes [1]syscall.Errno
}

// nowaitEngine is a kernel engine that is given some requests on the
// condition that they do not wait inside the submitting call (Linux: O_DIRECT
// writes with RWF_NOWAIT). Such a request the kernel refuses goes to the
// goroutine engine, and the caller never sees the refusal.
type nowaitEngine interface {
	// triesNowait reports whether r goes to the kernel on that condition.
	// EOPNOTSUPP at submission then says that r's filesystem cannot keep
	// it (tmpfs): such requests of its files go to goroutines from then on
	// (fileClass.noNowait, noNowaitBefore), their others still to the
	// kernel.
	triesNowait(r *Request) bool
	// refusedWait reports whether errno, the result of a request, is the
	// kernel's refusal of one that would have waited.
	refusedWait(r *Request, errno syscall.Errno) bool
}

const (
	sleepNone int32 = iota
	sleepKernel
	sleepGoroutines
)

func newMixedBackend(k backend, which kernelAIO, limit int) *mixedBackend {
	b := &mixedBackend{
		k:     k,
		g:     newGoroutineEngine(limit, 0),
		which: which,
		kpin:  pinRequestAndBuffers,
		again: make([]*Request, 0, k.batchMax()),
		res:   make([]syscall.Errno, k.batchMax()),
	}
	if p, ok := k.(pinningBackend); ok {
		b.kpin = p.pinning()
	}
	b.nowait, _ = k.(nowaitEngine)
	b.g.onDone = b.kick
	return b
}

func (b *mixedBackend) kernel() string { return b.k.kernel() }

func (b *mixedBackend) goroutines() *portableBackend { return b.g }

func (b *mixedBackend) batchMax() int { return b.k.batchMax() }

// route names the engine for r, whose file class is known.
func (b *mixedBackend) route(r *Request) engineID {
	if kernelServes(b.which, &r.class) && !(r.class.noNowait && b.triesNowait(r)) {
		return engineKernel
	}
	return engineGoroutine
}

func (b *mixedBackend) triesNowait(r *Request) bool {
	return b.nowait != nil && b.nowait.triesNowait(r)
}

// pinningFor is what r needs pinned on the engine that will serve it.
func (b *mixedBackend) pinningFor(r *Request) pinning {
	if b.route(r) == engineKernel {
		return b.kpin
	}
	return pinNothing
}

// submit hands runs of requests for the same engine to that engine, in
// order. A request the kernel refuses with EOPNOTSUPP goes to goroutines
// at once, and marks its file as not served when the refusal holds for all
// of the file's requests (refusalCoversFile), or, for a request given on
// the condition that it not wait, marks its file's such requests
// (nowaitEngine); after an EAGAIN from the kernel the rest of the batch is
// not offered.
func (b *mixedBackend) submit(batch []*Request, res []syscall.Errno) {
	for i := 0; i < len(batch); {
		e := b.route(batch[i])
		j := i + 1
		for j < len(batch) && b.route(batch[j]) == e {
			j++
		}
		run, rres := batch[i:j], res[i:j]
		if e == engineGoroutine {
			b.g.submit(run, rres)
		} else if b.submitKernel(run, rres) {
			markAgain(res[j:])
			return
		}
		i = j
	}
}

// submitKernel gives run to the kernel and reports whether it lacked
// resources.
func (b *mixedBackend) submitKernel(run []*Request, res []syscall.Errno) (again bool) {
	b.kin.Add(int64(len(run))) // before: events may come during the call
	if b.sleep.Load() == sleepGoroutines {
		_ = b.g.wake() // the waiter must now sleep in the kernel
	}
	b.k.submit(run, res)
	if orderedSyncs {
		b.g.orderKernel(run, res)
	}
	moved := b.again[:0]
	for i, r := range run {
		switch res[i] {
		case 0:
			continue
		case syscall.EOPNOTSUPP:
			if b.triesNowait(r) {
				r.class.noNowait = true
				markNoNowait(r.class)
			} else if refusalCoversFile(b.which, r) {
				r.class.refused = true
				markRefused(r.class)
			}
			moved = append(moved, r)
			res[i] = 0
		case syscall.EAGAIN:
			again = true
		}
		b.kin.Add(-1)
	}
	if len(moved) > 0 {
		b.g.submit(moved, b.res[:len(moved)])
		clear(moved)
	}
	return again
}

// kick wakes a waiter asleep in the kernel for goroutine completions.
func (b *mixedBackend) kick() {
	if b.sleep.Load() == sleepKernel && !b.kicked.Swap(true) {
		_ = b.k.wake()
	}
}

func (b *mixedBackend) wait(evs []event, timeout time.Duration) (int, bool, error) {
	n, woke := b.g.reap(evs)
	if n > 0 || woke || timeout == 0 {
		if n < len(evs) && b.kin.Load() > 0 {
			k, kwoke, err := b.k.wait(evs[n:], 0)
			return n + k, woke || kwoke, err
		}
		return n, woke, nil
	}
	// What the kernel has finished comes before the reads the waiter could
	// run itself, which would otherwise keep it from the kernel's ring for
	// as long as buffered reads keep coming.
	if b.kin.Load() > 0 {
		if k, woke, err := b.k.wait(evs, 0); k > 0 || woke || err != nil {
			return k, woke, err
		}
	}
	if n, woke := b.g.help(evs); n > 0 {
		return n, woke, nil
	}
	if b.kin.Load() == 0 {
		b.sleep.Store(sleepGoroutines)
		if b.kin.Load() == 0 {
			n, woke, err := b.g.wait(evs, timeout)
			b.sleep.Store(sleepNone)
			return n, woke, err
		}
	}
	// Workers wake a sleeping waiter for each completion (sleeping), here
	// through the kernel (kick).
	b.g.sleeping.Store(true)
	b.sleep.Store(sleepKernel)
	b.kicked.Store(false)
	if b.g.pending() {
		b.g.sleeping.Store(false)
		b.sleep.Store(sleepNone)
		return b.wait(evs, 0)
	}
	k, kwoke, err := b.k.wait(evs, timeout)
	b.g.sleeping.Store(false)
	b.sleep.Store(sleepNone)
	m, gwoke := b.g.reap(evs[k:])
	return k + m, kwoke || gwoke, err
}

func (b *mixedBackend) finish(r *Request, ev *event) (int, syscall.Errno, bool) {
	if r.engine != engineKernel {
		return b.g.finish(r, ev)
	}
	n, errno, ok := b.k.finish(r, ev)
	if !ok {
		return 0, 0, false
	}
	b.kin.Add(-1)
	if orderedSyncs && r.pj.ordered {
		b.g.finished(r) // a device's request, which a sync of goroutines may wait for
	}
	if errno != 0 && b.nowait != nil && b.nowait.refusedWait(r, errno) {
		// Still in flight, on the goroutine engine, which completes it;
		// its pins stay until then. Called under the context's mutex, as
		// Cancel is, so Cancel sees it on one engine or the other.
		b.aside[0] = r
		b.g.submit(b.aside[:], b.asideRes[:])
		b.aside[0] = nil
		return 0, 0, false
	}
	return n, errno, true
}

func (b *mixedBackend) cancel(r *Request) (cancelOutcome, error) {
	if r.engine != engineKernel {
		return b.g.cancel(r)
	}
	return b.k.cancel(r)
}

// wake wakes the waiter wherever it sleeps.
func (b *mixedBackend) wake() error {
	_ = b.g.wake()
	return b.k.wake()
}

func (b *mixedBackend) close() error {
	_ = b.g.close()
	return b.k.close()
}

// markAgain refuses the requests of res for lack of resources: they return
// to Prepared.
func markAgain(res []syscall.Errno) {
	for i := range res {
		res[i] = syscall.EAGAIN
	}
}

// pending reports whether completions of the goroutine engine wait to be
// collected.
func (b *portableBackend) pending() bool {
	b.dmu.Lock()
	defer b.dmu.Unlock()
	return len(b.done) > 0 || b.woke
}

package aio

import (
	"syscall"
	"time"
)

// backend is what a kernel interface gives the state machine. The state
// machine owns all bookkeeping (slots, in-flight count, delivery, wakeup
// flag, deadlines); a backend only talks to the kernel. Locks: submit runs
// under the context's submission lock alone (it may block in the kernel,
// and runs beside wait, finish and cancel); finish and cancel under the
// context's mutex; wake under the wake lock's read side (so possibly
// several at once, never after close); wait by the one waiter, without a
// lock; close once, with nothing in flight.
type backend interface {
	// kernel names the interface the backend drives, for Context.Kernel.
	kernel() string

	// batchMax is the most requests one submit call may carry.
	batchMax() int

	// submit hands batch to the kernel. Every request is pinned and has its
	// slot and generation; the backend fills and pins its control block.
	// For each request it stores in res[i] 0 if the kernel queued it,
	// EAGAIN if the kernel lacked resources (the request will return to
	// Prepared), or the errno the kernel rejected it with (the request
	// completes with that error and never produces an event).
	submit(batch []*Request, res []syscall.Errno)

	// wait collects up to len(evs) completion events, blocking up to
	// timeout (negative: no limit; zero: poll). woke reports that the
	// backend's wakeup fired. It may return EINTR, after which the caller
	// retries with the time that remains.
	wait(evs []event, timeout time.Duration) (n int, woke bool, err error)

	// finish collects the result of r, whose event ev names r's slot and
	// generation. ok is false if ev does not belong to r's current
	// submission (the event is then ignored). The kernel's resources for r
	// are released here, exactly once.
	finish(r *Request, ev *event) (n int, errno syscall.Errno, ok bool)

	// cancel asks the kernel to cancel r.
	cancel(r *Request) (cancelOutcome, error)

	// wake makes a blocked or the next wait return with woke set. Wakes
	// may coalesce. It is safe to call from any goroutine until close.
	wake() error

	// close releases the backend's kernel resources. Nothing is in flight.
	close() error
}

// event is one completion as a backend reports it.
type event struct {
	slot  uint32
	gen   uint32
	ident uintptr       // the kernel's identity of the job, checked by finish
	res   int64         // bytes transferred, when known from the event
	errno syscall.Errno // the job's error, when known from the event
}

type cancelOutcome int

const (
	cancelDone        cancelOutcome = iota // canceled; the completion still comes
	cancelNotCanceled                      // running; it will complete normally
	cancelAllDone                          // already finished
)

// eventResult is finish for backends whose events carry the result.
func eventResult(ev *event) (int, syscall.Errno) {
	if ev.errno != 0 {
		return 0, ev.errno
	}
	return int(ev.res), 0
}

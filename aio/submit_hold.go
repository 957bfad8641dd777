package aio

import "fmt"

// A Submit keeps the descriptor of every file of its requests open from
// the moment it reads the descriptor numbers until the backend has taken
// the requests: each file's descriptor is held through its RawConn (whose
// Control defers a Close of the *os.File until it returns), one Control
// inside the other. A file closed by another goroutine meanwhile thus
// keeps its number until the kernel has the file itself (kernel AIO takes
// its own reference at submission), and no other open can take the number
// and receive the request. The goroutine engine holds the descriptor again
// when it runs a request.
//
// The Close meanwhile waits for nothing of Submit's on a file that is not
// in Go's poller (a regular file): it returns, and the descriptor is
// closed when the last Control returns. On a file in the poller (a pipe, a
// socket, a terminal) os.File.Close waits for the Control to return, so it
// waits for the Submit. So nothing inside the hold may wait for a
// goroutine that could be closing one of the files: it takes only the
// context's and the backend's own locks, and blocks only in the kernel
// (io_submit bringing in a buffer's page, or doing a KernelBackend
// request), never on the caller's goroutines.
// Nested Controls cost a few hundred bytes of stack per run of requests on
// one file: some 30 MB for 65536 requests on as many files.

// submitHold is the state of one Submit while it holds descriptors;
// guarded by Context.smu.
type submitHold struct {
	reqs   []*Request    // Submit's, copied into own
	own    []*Request    // c.max long, so that Submit's argument does not escape
	next   int           // the request whose file Control holds now
	step   func(uintptr) // c.holdStep, made once
	failed int           // a request whose file is closed, or -1
	n      int           // what the submission returned
	err    error
}

// submitHeld reads the descriptors of reqs, all claimed by c, and hands
// the requests to the backend while every one of those descriptors is
// held. It fails, submitting nothing, if a file is closed.
func (c *Context) submitHeld(reqs []*Request) (int, error) {
	h := &c.hold
	if h.step == nil {
		h.step = c.holdStep
	}
	if h.own == nil {
		h.own = make([]*Request, c.max)
	}
	h.reqs, h.failed, h.n, h.err = h.own[:copy(h.own, reqs)], -1, 0, nil
	c.holdFrom(0)
	n, err, failed := h.n, h.err, h.failed
	clear(h.reqs)
	h.reqs, h.err = nil, nil
	if failed >= 0 {
		c.mu.Lock()
		c.release(reqs)
		c.mu.Unlock()
		r := reqs[failed]
		return 0, wrapError("submit", fmt.Errorf("request %d: %w", failed, closedFileError(r)))
	}
	return n, err
}

// holdFrom holds the descriptors of reqs[k:] not held yet, then submits.
// A request on the same file as the one before it shares that hold.
func (c *Context) holdFrom(k int) {
	h := &c.hold
	for ; k < len(h.reqs) && k > 0 && h.reqs[k].file == h.reqs[k-1].file; k++ {
		r, prev := h.reqs[k], h.reqs[k-1]
		r.fd = prev.fd
		if !r.class.known {
			r.class = prev.class
		}
	}
	if k == len(h.reqs) {
		if testHookSubmitHeld != nil {
			testHookSubmitHeld()
		}
		h.n, h.err = c.submitChunks(h.reqs)
		return
	}
	h.next = k
	if h.reqs[k].rc.Control(h.step) != nil {
		h.failed = k // closed: the step did not run
	}
}

// holdStep runs inside the Control of h.reqs[h.next]'s file.
func (c *Context) holdStep(fd uintptr) {
	h := &c.hold
	k := h.next
	h.reqs[k].storeFd(fd)
	c.holdFrom(k + 1)
}

// testHookSubmitHeld, set by tests, runs inside Submit while the
// descriptors are held, just before the requests go to the backend.
var testHookSubmitHeld func()

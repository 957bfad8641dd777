package aio

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// handedOverBackend is the portable backend whose submit, once it has
// handed the batch to the engine, waits for release: the window in which
// the engine may already have finished a request whose Submit has not yet
// sorted out its outcome.
type handedOverBackend struct {
	*portableBackend
	entered chan struct{}
	release chan struct{}
}

func (b *handedOverBackend) submit(batch []*Request, res []syscall.Errno) {
	b.portableBackend.submit(batch, res)
	b.entered <- struct{}{}
	<-b.release
}

// TestRequestBeingSubmitted: from the moment Submit takes a request it is
// Submitted and its context's; until Submit has sorted out the kernel's
// answer, Cancel reports ErrNotSubmitted, Prepare ErrInProgress and
// another context's Submit ErrInProgress, changing nothing, and an event
// for it that reaches Wait first is kept, not delivered. Once Submit
// returns, Wait returns the request exactly once, with its data.
func TestRequestBeingSubmitted(t *testing.T) {
	smCheckPins(t)
	file := smFile(t, 64)
	hb := &handedOverBackend{
		portableBackend: newGoroutineEngine(8, 0),
		entered:         make(chan struct{}),
		release:         make(chan struct{}),
	}
	// Until Submit counts it, the request is not in flight: Wait without
	// pending requests must not end in ErrNoRequests meanwhile.
	c := newContext(Config{WaitWithoutPending: true}, hb, 8)
	other := newContext(Config{}, newGoroutineEngine(8, 0), 8)
	t.Cleanup(func() { other.Close() })
	r, buf := NewRequest(), make([]byte, 8)
	if err := r.PrepareRead(file, 8, buf, nil); err != nil {
		t.Fatal(err)
	}
	submitted := make(chan error, 1)
	go func() {
		n, err := c.Submit(r)
		if err == nil && n != 1 {
			err = errors.New("not accepted")
		}
		submitted <- err
	}()
	<-hb.entered

	if st := r.State(); st != Submitted {
		t.Errorf("State during Submit = %v, want Submitted", st)
	}
	if r.ownerCtx() != c {
		t.Errorf("during Submit the request is not its context's")
	}
	if err := r.Cancel(); !errors.Is(err, ErrNotSubmitted) {
		t.Errorf("Cancel during Submit = %v, want ErrNotSubmitted", err)
	}
	if err := r.PrepareRead(file, 0, make([]byte, 4), nil); !errors.Is(err, ErrInProgress) {
		t.Errorf("Prepare during Submit = %v, want ErrInProgress", err)
	}
	if n, err := other.Submit(r); n != 0 || !errors.Is(err, ErrInProgress) {
		t.Errorf("another context's Submit during Submit = %d, %v; want 0, ErrInProgress", n, err)
	}
	if other.InFlight() != 0 || r.ownerCtx() != c {
		t.Errorf("the refused Submit changed the request: other has %d in flight", other.InFlight())
	}

	// The engine finishes the read while Submit is held: Wait sees its
	// event first and must keep it for Submit.
	out := make([]*Request, 1)
	for deadline := time.Now().Add(30 * time.Second); ; {
		n, err := c.Wait(context.Background(), 0, out)
		if n != 0 || err != nil {
			t.Fatalf("Wait during Submit = %d, %v; want 0, nil", n, err)
		}
		c.mu.Lock()
		early := r.hasEarly
		c.mu.Unlock()
		if early {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine never finished the read")
		}
		time.Sleep(time.Millisecond)
	}

	close(hb.release)
	if err := <-submitted; err != nil {
		t.Fatalf("Submit: %v", err)
	}
	got := smWaitN(t, c, 1)
	if got[0] != r {
		t.Fatalf("Wait returned %p, want the request", got[0])
	}
	if n, err := r.Result(); n != 8 || err != nil || !bytes.Equal(buf, smPattern(8, 8)) {
		t.Fatalf("Result = %d, %v, data %v", n, err, buf)
	}
	if n, err := c.Wait(context.Background(), 0, out); n != 0 || err != nil || c.InFlight() != 0 {
		t.Fatalf("Wait after the request came back = %d, %v with %d in flight; want nothing", n, err, c.InFlight())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedClaimIsNobodys: a request Submit took and the kernel then
// refused for lack of room (EAGAIN) is Prepared and owned by nobody when
// Submit returns, free for another context, while the one listed before it
// is in flight.
func TestRefusedClaimIsNobodys(t *testing.T) {
	file := smFile(t, 64)
	a, fa := newFakeContext(t, Config{}, 4, 4)
	b, fb := newFakeContext(t, Config{}, 4, 4)
	reqs := smPrepared(t, file, 2)
	fa.outcome = func(r *Request) syscall.Errno {
		if r == reqs[1] {
			return syscall.EAGAIN
		}
		return 0
	}
	if n, err := a.Submit(reqs...); n != 1 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit = %d, %v; want 1, ErrAgain", n, err)
	}
	if st, owner := reqs[1].State(), reqs[1].ownerCtx(); st != Prepared || owner != nil {
		t.Fatalf("the refused request is %v, owned by a context: %v", st, owner != nil)
	}
	if st := reqs[0].State(); st != Submitted {
		t.Fatalf("the accepted request is %v", st)
	}
	if n, err := a.Submit(reqs[0]); n != 0 || !errors.Is(err, ErrInProgress) {
		t.Fatalf("Submit of the request in flight = %d, %v; want ErrInProgress", n, err)
	}
	if n, err := a.Submit(reqs[1], reqs[1]); n != 0 || !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Submit listing a request twice = %d, %v; want ErrInvalidState", n, err)
	}
	if st, owner := reqs[1].State(), reqs[1].ownerCtx(); st != Prepared || owner != nil {
		t.Fatalf("after the refused list the request is %v, owned by a context: %v", st, owner != nil)
	}
	fb.auto = true
	if n, err := b.Submit(reqs[1]); n != 1 || err != nil {
		t.Fatalf("another context's Submit of the refused request = %d, %v", n, err)
	}
	fa.completeOK(reqs[0])
	if got := smWaitN(t, a, 1); got[0] != reqs[0] {
		t.Fatal("a returned the wrong request")
	}
	if got := smWaitN(t, b, 1); got[0] != reqs[1] {
		t.Fatal("b returned the wrong request")
	}
}

// TestClaimedAwaitingItsChunk: a request Submit has taken but not yet
// handed to the backend (it waits for an earlier chunk) still has the
// slot, generation and done mark of its last submission, here one the
// kernel rejected at queue time. Meanwhile it is Submitted, Result says
// ErrInProgress, Cancel ErrNotSubmitted (not what its stale done mark
// would say), Prepare and another context's Submit ErrInProgress; when the
// earlier chunk meets a full kernel queue, it is Prepared and nobody's
// again, and another context then takes it.
func TestClaimedAwaitingItsChunk(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 1, 4)
	other, fo := newFakeContext(t, Config{}, 4, 4)
	fo.auto = true
	reqs := smPrepared(t, file, 3)
	r0, r1, r2 := reqs[0], reqs[1], reqs[2]

	// r2's last submission: rejected at queue time, returned by Wait.
	f.outcome = func(*Request) syscall.Errno { return syscall.EBADF }
	if n, err := c.Submit(r2); n != 1 || err != nil {
		t.Fatalf("Submit of the request to reject = %d, %v", n, err)
	}
	if got := smWaitN(t, c, 1); got[0] != r2 {
		t.Fatal("Wait returned another request")
	}
	if _, err := r2.Result(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Result of the rejected request = %v", err)
	}
	if err := r2.PrepareRead(file, 2, make([]byte, 8), nil); err != nil {
		t.Fatal(err)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	f.outcome = func(r *Request) syscall.Errno {
		switch r {
		case r0:
			entered <- struct{}{}
			<-release
			return 0
		case r1:
			return syscall.EAGAIN
		}
		t.Errorf("the request after the refused chunk reached the backend")
		return 0
	}
	type result struct {
		n   int
		err error
	}
	submitted := make(chan result, 1)
	go func() {
		n, err := c.Submit(reqs...)
		submitted <- result{n, err}
	}()
	<-entered
	for i, r := range []*Request{r1, r2} {
		if st := r.State(); st != Submitted {
			t.Errorf("request %d waiting for its chunk is %v, want Submitted", i+1, st)
		}
		if _, err := r.Result(); !errors.Is(err, ErrInProgress) {
			t.Errorf("Result of request %d waiting for its chunk = %v, want ErrInProgress", i+1, err)
		}
		if err := r.Cancel(); !errors.Is(err, ErrNotSubmitted) {
			t.Errorf("Cancel of request %d waiting for its chunk = %v, want ErrNotSubmitted", i+1, err)
		}
		if err := r.PrepareRead(file, 0, make([]byte, 4), nil); !errors.Is(err, ErrInProgress) {
			t.Errorf("Prepare of request %d waiting for its chunk = %v, want ErrInProgress", i+1, err)
		}
		if n, err := other.Submit(r); n != 0 || !errors.Is(err, ErrInProgress) {
			t.Errorf("another context's Submit of request %d waiting for its chunk = %d, %v; want 0, ErrInProgress", i+1, n, err)
		}
	}
	if other.InFlight() != 0 {
		t.Errorf("the refused Submits left %d requests in flight in the other context", other.InFlight())
	}
	close(release)
	if res := <-submitted; res.n != 1 || !errors.Is(res.err, ErrAgain) {
		t.Fatalf("Submit = %d, %v; want 1, ErrAgain", res.n, res.err)
	}
	if st := r0.State(); st != Submitted || r0.ownerCtx() != c {
		t.Errorf("the accepted request is %v", st)
	}
	for i, r := range []*Request{r1, r2} {
		if st, owner := r.State(), r.ownerCtx(); st != Prepared || owner != nil {
			t.Errorf("refused request %d is %v, owned by a context: %v", i+1, st, owner != nil)
		}
		if err := r.Cancel(); !errors.Is(err, ErrNotSubmitted) {
			t.Errorf("Cancel of refused request %d = %v, want ErrNotSubmitted", i+1, err)
		}
	}
	if k := c.InFlight(); k != 1 {
		t.Errorf("InFlight = %d, want 1", k)
	}
	f.completeOK(r0)
	if got := smWaitN(t, c, 1); got[0] != r0 {
		t.Fatal("Wait returned another request")
	}
	if n, err := other.Submit(r1, r2); n != 2 || err != nil {
		t.Fatalf("another context's Submit of the refused requests = %d, %v", n, err)
	}
	got := smWaitN(t, other, 2)
	if !(got[0] == r1 && got[1] == r2 || got[0] == r2 && got[1] == r1) {
		t.Fatal("the other context returned the wrong requests")
	}
	for i, r := range got {
		if n, err := r.Result(); n != 8 || err != nil {
			t.Errorf("Result of request %d from the other context = %d, %v", i, n, err)
		}
	}
}

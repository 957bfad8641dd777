package aio

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// blockingBackend is the portable backend whose submit, once block is
// set, waits for release: a kernel call that blocks (io_submit of a
// buffered read on Linux under KernelBackend).
type blockingBackend struct {
	*portableBackend
	block   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingBackend) submit(batch []*Request, res []syscall.Errno) {
	if b.block.Load() {
		b.entered <- struct{}{}
		<-b.release
	}
	b.portableBackend.submit(batch, res)
}

// within fails t if fn has not returned after a generous bound: it must
// not wait for the blocked submission.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s waited for a Submit blocked in the kernel", what)
	}
}

// TestSubmitBlockedInKernel: while a Submit is blocked in the backend's
// submit, Wakeup, InFlight, Cancel, Close and Wait all answer, and Wait
// collects the requests already in flight.
func TestSubmitBlockedInKernel(t *testing.T) {
	smCheckPins(t)
	file := smFile(t, 4096)
	bb := &blockingBackend{
		portableBackend: newGoroutineEngine(8, 0),
		entered:         make(chan struct{}),
		release:         make(chan struct{}),
	}
	c := newContext(Config{}, bb, 8)
	reqs := smPrepared(t, file, 2)
	if n, err := c.Submit(reqs[0]); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	bb.block.Store(true)
	submitted := make(chan error, 1)
	go func() {
		n, err := c.Submit(reqs[1])
		if err == nil && n != 1 {
			err = errors.New("not accepted")
		}
		submitted <- err
	}()
	<-bb.entered

	var err error
	within(t, "Wakeup", func() { err = c.Wakeup() })
	if err != nil {
		t.Fatalf("Wakeup = %v", err)
	}
	within(t, "InFlight", func() { _ = c.InFlight() })
	within(t, "Cancel", func() { err = reqs[0].Cancel() })
	within(t, "Close", func() { err = c.Close() })
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Close during a Submit = %v, want ErrBusy", err)
	}
	out := make([]*Request, 2)
	got := 0
	for got == 0 {
		within(t, "Wait", func() {
			var k int
			k, err = c.Wait(context.Background(), 1, out)
			got += k
		})
		if err != nil && !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait = %v", err)
		}
	}
	if out[0] != reqs[0] {
		t.Fatalf("Wait returned %p, want the request in flight", out[0])
	}
	close(bb.release)
	if err := <-submitted; err != nil {
		t.Fatalf("the blocked Submit: %v", err)
	}
	smWaitN(t, c, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

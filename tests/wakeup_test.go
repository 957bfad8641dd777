package tests

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

type waitResult struct {
	n   int
	err error
}

// startWaiter runs Wait(ctx, min, out) in a goroutine and reports its
// result. A Wait refused with ErrBusy (a probe of the test was inside Wait
// at that moment) is retried.
func startWaiter(ctx context.Context, c *aio.Context, min int, out []*aio.Request) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		for {
			n, err := c.Wait(ctx, min, out)
			if errors.Is(err, aio.ErrBusy) {
				runtime.Gosched()
				continue
			}
			ch <- waitResult{n, err}
			return
		}
	}()
	return ch
}

// waiterInside returns once another goroutine is inside Wait on c, which it
// learns from a probing Wait answering ErrBusy. The probe has no room for
// results (min 0, empty out), so it never takes a completion from the
// waiter. c must have WaitWithoutPending set, so that the probe itself does
// not fail.
func waiterInside(t *testing.T, c *aio.Context, done <-chan waitResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	var out []*aio.Request
	for {
		select {
		case r := <-done:
			t.Fatalf("the waiter returned %d, %v before anything could end its Wait", r.n, r.err)
		default:
		}
		_, err := c.Wait(ctx, 0, out)
		switch {
		case errors.Is(err, aio.ErrBusy):
			return
		case err != nil:
			t.Fatalf("probing Wait: %v", err)
		}
		runtime.Gosched()
	}
}

// TestWakeupBeforeWait: a Wakeup with nobody waiting makes the next Wait
// return ErrInterrupted at once, even with nothing in flight and no
// deadline, with and without WaitWithoutPending; repeated 10,000 times.
func TestWakeupBeforeWait(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		for _, wwp := range []bool{false, true} {
			c := newContext(t, b, aio.Config{WaitWithoutPending: wwp})
			out := make([]*aio.Request, 4)
			for i := range 10000 {
				if err := c.Wakeup(); err != nil {
					t.Fatalf("Wakeup: %v", err)
				}
				n, err := c.Wait(context.Background(), 1, out)
				if n != 0 || !errors.Is(err, aio.ErrInterrupted) {
					t.Fatalf("WaitWithoutPending=%v, iteration %d: Wait after Wakeup = %d, %v; want 0, ErrInterrupted", wwp, i, n, err)
				}
			}
			// The wakeup was consumed: without WaitWithoutPending the next
			// Wait says there is nothing to wait for.
			if !wwp {
				if n, err := c.Wait(context.Background(), 1, out); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
					t.Fatalf("Wait after the wakeup was reported = %d, %v; want 0, ErrNoRequests", n, err)
				}
			}
		}
	})
}

// TestWakeupCoalesce: several Wakeups before a Wait are reported once.
func TestWakeupCoalesce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		out := make([]*aio.Request, 1)
		for range 3 {
			if err := c.Wakeup(); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Wait(context.Background(), 1, out); n != 0 || !errors.Is(err, aio.ErrInterrupted) {
			t.Fatalf("Wait after 3 Wakeups = %d, %v; want 0, ErrInterrupted", n, err)
		}
		// A poll finds nothing more: no second interruption.
		if n, err := c.Wait(context.Background(), 0, out); n != 0 || err != nil {
			t.Fatalf("poll after the coalesced wakeup = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestWakeupDuringWait: a Wakeup from another goroutine ends a Wait that
// is blocked with nothing in flight; repeated 1,000 times.
func TestWakeupDuringWait(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		out := make([]*aio.Request, 1)
		for i := range 1000 {
			done := startWaiter(context.Background(), c, 1, out)
			if i%2 == 0 {
				waiterInside(t, c, done) // surely blocked; else it may not be yet
			}
			if err := c.Wakeup(); err != nil {
				t.Fatalf("Wakeup: %v", err)
			}
			r := <-done
			if r.n != 0 || !errors.Is(r.err, aio.ErrInterrupted) {
				t.Fatalf("iteration %d: Wait ended by Wakeup = %d, %v; want 0, ErrInterrupted", i, r.n, r.err)
			}
		}
	})
}

// TestWakeupWithRequestsInFlight: a Wait for more completions than there
// are requests (min = in flight + 1) collects them all and then blocks
// until Wakeup, which ends it with ErrInterrupted; the requests it
// collected are in out[:n] (n > 0 with an error, like io.Reader).
func TestWakeupWithRequestsInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		f := tempFile(t)
		const k = 8
		reqs := make([]*aio.Request, k)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i), []byte{byte('a' + i)}, i))
		}
		submitAll(t, c, reqs...)
		out := make([]*aio.Request, k+1)
		done := startWaiter(context.Background(), c, k+1, out)
		waiterInside(t, c, done)
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if !errors.Is(r.err, aio.ErrInterrupted) || r.n > k {
			t.Fatalf("Wait(min %d) with %d in flight, ended by Wakeup = %d, %v; want ≤ %d, ErrInterrupted", k+1, k, r.n, r.err, k)
		}
		got := r.n
		if got < k {
			got += len(waitN(t, c, k-got))
		}
		if got != k {
			t.Fatalf("%d of %d requests delivered", got, k)
		}
		for _, req := range reqs {
			expectResult(t, req, 1)
		}
		compare(t, "file", readFile(t, f.Name()), []byte("abcdefgh"))
	})
}

// TestWaitBusy: while one goroutine waits, a second Wait gets ErrBusy, and
// so does Close; after the Wakeup both work again.
func TestWaitBusy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		done := startWaiter(context.Background(), c, 1, make([]*aio.Request, 1))
		waiterInside(t, c, done)
		if err := c.Close(); !errors.Is(err, aio.ErrBusy) {
			t.Fatalf("Close while a goroutine waits: %v, want ErrBusy", err)
		}
		if err := c.Wakeup(); err != nil {
			t.Fatalf("Wakeup after a refused Close: %v", err)
		}
		if r := <-done; !errors.Is(r.err, aio.ErrInterrupted) {
			t.Fatalf("Wait ended by Wakeup: %d, %v; want ErrInterrupted", r.n, r.err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close after the waiter left: %v", err)
		}
	})
}

// TestWaitSignalStorm: signals sent to the process (SIGURG, which the Go
// runtime uses for preemption, and SIGUSR1, caught with signal.Notify)
// while Wait blocks never end it early; only the Wakeup does. A second
// round keeps requests in flight during the storm, and they all complete
// with correct results.
func TestWaitSignalStorm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		if !haveSignals {
			t.Skip("no signals can be sent to the process on " + runtime.GOOS)
		}
		sigs := make(chan os.Signal, 64)
		signal.Notify(sigs, caughtSignal)
		defer func() { signal.Stop(sigs); close(sigs) }()
		go func() {
			for range sigs { // drop them
			}
		}()
		storm := func(n int) {
			for i := range n {
				if err := raiseSignal(i); err != nil {
					t.Fatalf("kill: %v", err)
				}
				runtime.Gosched()
			}
		}

		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		done := startWaiter(context.Background(), c, 1, make([]*aio.Request, 1))
		waiterInside(t, c, done)
		storm(2000)
		select {
		case r := <-done:
			t.Fatalf("Wait returned %d, %v during a signal storm, before any Wakeup", r.n, r.err)
		default:
		}
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.n != 0 || !errors.Is(r.err, aio.ErrInterrupted) {
			t.Fatalf("Wait after the storm and a Wakeup = %d, %v; want 0, ErrInterrupted", r.n, r.err)
		}

		f := tempFile(t)
		want := randBytes(newRand(t), 256*4096)
		reqs := make([]*aio.Request, 256)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*4096), want[i*4096:(i+1)*4096], i))
		}
		submitAll(t, c, reqs...)
		out := make([]*aio.Request, len(reqs))
		done = startWaiter(context.Background(), c, len(reqs), out)
		storm(2000)
		r := <-done
		if r.n != len(reqs) || r.err != nil {
			t.Fatalf("Wait(min %d) during a signal storm = %d, %v", len(reqs), r.n, r.err)
		}
		for _, req := range reqs {
			expectResult(t, req, 4096)
		}
		compare(t, "file", readFile(t, f.Name()), want)
	})
}

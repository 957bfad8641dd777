package tests

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// shortDeadline is how long the tests let a Wait block when it must end by
// its deadline. Nothing is asserted about how long it took.
const shortDeadline = 50 * time.Millisecond

// prepareWrites returns k one-byte writes to f at offsets 0..k-1, user i.
func prepareWrites(t *testing.T, f *os.File, k int) []*aio.Request {
	t.Helper()
	reqs := make([]*aio.Request, k)
	for i := range reqs {
		reqs[i] = aio.NewRequest()
		mustPrepare(t, reqs[i].PrepareWrite(f, int64(i), []byte{byte(i)}, i))
	}
	return reqs
}

// TestWaitNoRequests: with nothing in flight and no WaitWithoutPending,
// Wait returns ErrNoRequests at once, whatever min is.
func TestWaitNoRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		out := make([]*aio.Request, 4)
		for _, min := range []int{0, 1, 4} {
			if n, err := c.Wait(context.Background(), min, out); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
				t.Fatalf("Wait(min %d) with nothing in flight = %d, %v; want 0, ErrNoRequests", min, n, err)
			}
		}
	})
}

// TestWaitDeadlineNothingInFlight: with WaitWithoutPending, a Wait with
// nothing in flight blocks until its deadline (context.DeadlineExceeded),
// and a poll (min 0) returns at once with nothing.
func TestWaitDeadlineNothingInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		out := make([]*aio.Request, 4)
		if n, err := c.Wait(context.Background(), 0, out); n != 0 || err != nil {
			t.Fatalf("poll with nothing in flight = %d, %v; want 0, nil", n, err)
		}
		for range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), shortDeadline)
			n, err := c.Wait(ctx, 1, out)
			cancel()
			if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait(min 1) with nothing in flight and a deadline = %d, %v; want 0, DeadlineExceeded", n, err)
			}
		}
		// The context still works afterwards.
		f := tempFile(t)
		run(t, c, prepareWrites(t, f, 3)...)
	})
}

// TestWaitContextCanceled: canceling the context.Context ends a blocked
// Wait with context.Canceled; an already canceled one ends it at once.
func TestWaitContextCanceled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		out := make([]*aio.Request, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := startWaiter(ctx, c, 1, out)
		waiterInside(t, c, done)
		cancel()
		if r := <-done; r.n != 0 || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Wait whose context was canceled = %d, %v; want 0, context.Canceled", r.n, r.err)
		}
		if n, err := c.Wait(ctx, 1, out); n != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with a canceled context = %d, %v; want 0, context.Canceled", n, err)
		}
	})
}

// TestWaitMinGreaterThanInFlight: a Wait for more completions than are in
// flight returns the ones there are together with an error: with
// WaitWithoutPending it blocks until the deadline (DeadlineExceeded);
// without it, once nothing is left in flight, it says ErrNoRequests.
func TestWaitMinGreaterThanInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		for _, wwp := range []bool{true, false} {
			c := newContext(t, b, aio.Config{WaitWithoutPending: wwp})
			f := tempFile(t)
			const k = 3
			reqs := prepareWrites(t, f, k)
			submitAll(t, c, reqs...)
			out := make([]*aio.Request, k+1)
			ctx, cancel := context.WithTimeout(context.Background(), shortDeadline)
			got := 0
			var err error
			for got < k && err == nil {
				// A Wait may end by its deadline before every request is
				// done; with a fresh deadline it gets the rest.
				var n int
				n, err = c.Wait(ctx, k+1-got, out[got:])
				got += n
				if got < k && errors.Is(err, context.DeadlineExceeded) {
					cancel()
					ctx, cancel = context.WithTimeout(context.Background(), shortDeadline)
					err = nil
				}
			}
			cancel()
			want := aio.ErrNoRequests
			if wwp {
				want = context.DeadlineExceeded
			}
			if got != k || !errors.Is(err, want) {
				t.Fatalf("WaitWithoutPending=%v: Wait(min %d) with %d in flight = %d, %v; want %d, %v", wwp, k+1, k, got, err, k, want)
			}
			seen := map[*aio.Request]bool{}
			for _, r := range out[:got] {
				if seen[r] {
					t.Fatalf("request %v delivered twice", r.User())
				}
				seen[r] = true
				expectResult(t, r, 1)
			}
		}
	})
}

// TestWaitInvalidMin: min < 0 or min > len(out) is refused without taking
// anything.
func TestWaitInvalidMin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		reqs := prepareWrites(t, f, 2)
		submitAll(t, c, reqs...)
		out := make([]*aio.Request, 2)
		if n, err := c.Wait(context.Background(), -1, out); n != 0 || err == nil {
			t.Fatalf("Wait(min -1) = %d, %v; want an error", n, err)
		}
		if n, err := c.Wait(context.Background(), 3, out); n != 0 || err == nil {
			t.Fatalf("Wait(min 3, len(out) 2) = %d, %v; want an error", n, err)
		}
		waitN(t, c, 2)
	})
}

// TestWaitMinAndSmallOut: Wait returns at least min and at most len(out)
// completions; over many calls every request arrives exactly once.
func TestWaitMinAndSmallOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		rng := newRand(t)
		const k = 200
		reqs := prepareWrites(t, f, k)
		submitAll(t, c, reqs...)
		ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
		defer cancel()
		seen := map[*aio.Request]bool{}
		for len(seen) < k {
			size := 1 + rng.IntN(min(k-len(seen), 70))
			min := rng.IntN(size + 1)
			out := make([]*aio.Request, size)
			n, err := c.Wait(ctx, min, out)
			if err != nil || n < min || n > size {
				t.Fatalf("Wait(min %d, len(out) %d) = %d, %v", min, size, n, err)
			}
			for _, r := range out[:n] {
				if seen[r] {
					t.Fatalf("request %v delivered twice", r.User())
				}
				seen[r] = true
				expectResult(t, r, 1)
			}
		}
		if n, err := c.Wait(ctx, 0, make([]*aio.Request, 1)); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
			t.Fatalf("Wait after everything was delivered = %d, %v; want 0, ErrNoRequests", n, err)
		}
	})
}

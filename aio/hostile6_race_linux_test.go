//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestH6EverythingAtOnce: on a DefaultBackend context with an O_DIRECT
// file (kernel AIO) and a buffered one (goroutines), two goroutines submit
// reads of both in small batches, two wait (one Wait at a time: the other
// gets ErrBusy), two cancel what was submitted, and one calls Close until
// it succeeds. Every request a Submit accepted comes back from Wait exactly
// once, whole or (only when its Cancel returned nil, never for O_DIRECT)
// canceled; one refused with ErrClosed stays Prepared and never comes back;
// Close succeeds only with nothing in flight; and after it everything says
// ErrClosed.
func TestH6EverythingAtOnce(t *testing.T) {
	const (
		blocks = 32
		per    = 24 // requests of each submitter
		rounds = 20
	)
	fs := h5Data(t, blocks)
	rng := rand.New(rand.NewPCG(6, 6))
	early := 0 // rounds whose Close came before every request was submitted
	defer func() { t.Logf("%d of %d rounds closed before all was submitted", early, rounds) }()
	for round := range rounds {
		c, mb := h5Context(t, Config{MaxRequests: 4 * per})
		var reqs [2][]*Request
		var jobs [2][]*h5Job
		for s := range reqs {
			reqs[s] = h5Requests(per)
			jobs[s] = h5Round(t, rng, fs, reqs[s], blocks)
		}
		var (
			accepted, returned, refused atomic.Int64
			mu                          sync.Mutex // guards h5Check's counts
			closed                      atomic.Bool
			submitting                  atomic.Int32
			wg                          sync.WaitGroup
		)
		submitted := make(chan *Request, 2*per)
		submitting.Store(2)
		for s := range 2 {
			wg.Go(func() {
				defer func() {
					if submitting.Add(-1) == 0 {
						close(submitted)
					}
				}()
				rs := reqs[s]
				for len(rs) > 0 {
					k := min(len(rs), 1+rand.IntN(6))
					n, err := c.Submit(rs[:k]...)
					accepted.Add(int64(n))
					for _, r := range rs[:n] {
						submitted <- r
					}
					switch {
					case errors.Is(err, ErrClosed):
						for _, r := range rs[n:] {
							if st := r.State(); st != Prepared {
								t.Errorf("round %d: a request refused by a closed context is %v", round, st)
							}
						}
						refused.Add(int64(len(rs) - n))
						return
					case err != nil && !errors.Is(err, ErrAgain):
						t.Errorf("round %d: Submit: %v", round, err)
						return
					}
					rs = rs[n:]
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for r := range submitted {
					err := r.Cancel()
					j := r.User().(*h5Job)
					switch {
					case err == nil && j.kind == h5Direct:
						t.Errorf("round %d: Cancel of an O_DIRECT read returned nil", round)
					case err == nil, errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted):
					default:
						t.Errorf("round %d: Cancel of a submitted %v read: %v", round, j.kind, err)
					}
					j.cancelErr.Store(&err)
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
				defer cancel()
				out := make([]*Request, 8)
				for {
					n, err := c.Wait(ctx, 1, out[:1+rand.IntN(len(out))])
					returned.Add(int64(n))
					mu.Lock()
					for _, r := range out[:n] {
						// Cancel may still be deciding; h5Check reads
						// its answer once all goroutines are done.
						r.User().(*h5Job).seen++
					}
					mu.Unlock()
					switch {
					case errors.Is(err, ErrClosed):
						return
					case errors.Is(err, ErrNoRequests), errors.Is(err, ErrBusy):
						if closed.Load() {
							return
						}
					case err != nil:
						t.Errorf("round %d: Wait: %v", round, err)
						return
					}
				}
			})
		}
		wg.Go(func() {
			for {
				err := c.Close()
				switch {
				case err == nil:
					if n := c.InFlight(); n != 0 {
						t.Errorf("round %d: Close succeeded with %d in flight", round, n)
					}
					closed.Store(true)
					return
				case !errors.Is(err, ErrBusy):
					t.Errorf("round %d: Close: %v", round, err)
					closed.Store(true)
					return
				}
			}
		})
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if a, r, x := accepted.Load(), returned.Load(), refused.Load(); a != r || a+x != 2*per {
			t.Fatalf("round %d: %d accepted, %d returned by Wait, %d refused, of %d", round, a, r, x, 2*per)
		}
		if refused.Load() > 0 {
			early++
		}
		for s := range jobs {
			for i, j := range jobs[s] {
				r := reqs[s][i]
				switch {
				case r.State() == Prepared:
					if j.seen != 0 {
						t.Fatalf("round %d: a request refused by Submit came back from Wait", round)
					}
				case j.seen != 1:
					t.Fatalf("round %d: %v request came back %d times", round, j.kind, j.seen)
				default:
					j.seen = 0
					h5Check(t, r)
				}
			}
		}
		h5Idle(t, c, mb)
		for _, call := range []func() error{
			c.Close, c.Wakeup,
			func() error { _, err := c.Submit(reqs[0][0]); return err },
			func() error { _, err := c.Wait(context.Background(), 1, make([]*Request, 1)); return err },
		} {
			if err := call(); !errors.Is(err, ErrClosed) {
				t.Fatalf("round %d: a call on the closed context: %v, want ErrClosed", round, err)
			}
		}
	}
}

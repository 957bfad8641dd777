//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestH10WorkersMaxInt: Config.Workers of math.MaxInt ("no bound") is
// clamped to MaxRequests, so that the pool, which doubles the workers it
// wants while requests are slow, never overflows that count: reads of a
// buffered file dropped from the page cache (slow, and served by the
// goroutine engine in both backends) keep completing, round after round.
func TestH10WorkersMaxInt(t *testing.T) {
	for _, be := range []Backend{PortableBackend, DefaultBackend} {
		t.Run(be.String(), func(t *testing.T) {
			const reqs, size = 64, 256 << 10
			c := h3Context(t, Config{MaxRequests: reqs, Workers: math.MaxInt}, be)
			g := goroutineEngine(c.be)
			if g == nil {
				t.Skipf("no goroutine engine in %T", c.be)
			}
			g.mu.Lock()
			bound := g.maxWorkers
			g.mu.Unlock()
			if bound > c.MaxRequests() {
				t.Fatalf("Workers: math.MaxInt bounds the pool at %d workers, above MaxRequests %d (doubling the workers wanted overflows)", bound, c.MaxRequests())
			}
			f, _ := inlineFile(t, size)
			rs, bufs := make([]*Request, reqs), make([][]byte, reqs)
			for i := range rs {
				rs[i], bufs[i] = NewRequest(), AlignedBuffer(size)
			}
			out := make([]*Request, reqs)
			for round := range 4 {
				for i, r := range rs {
					if err := r.PrepareRead(f, 0, bufs[i], i); err != nil {
						t.Fatal(err)
					}
				}
				// Out of the page cache, so that the reads wait for the disk
				// (and the pool grows).
				if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
					t.Fatal(err)
				}
				if n, err := c.Submit(rs...); n != reqs || err != nil {
					t.Fatalf("round %d: Submit = %d, %v", round, n, err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				for got := 0; got < reqs; {
					n, err := c.Wait(ctx, 1, out)
					got += n
					if err != nil {
						cancel()
						t.Fatalf("round %d: %d of %d reads back, then %v", round, got, reqs, err)
					}
				}
				cancel()
				for _, r := range rs {
					if n, err := r.Result(); n != size || err != nil {
						t.Fatalf("round %d: read %v = %d, %v", round, r.User(), n, err)
					}
				}
				g.mu.Lock()
				allow := g.allow
				g.mu.Unlock()
				if allow < 1 || allow > bound {
					t.Fatalf("round %d: the pool wants %d workers, outside [1, %d]", round, allow, bound)
				}
			}
		})
	}
}

package tests

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// TestMaxRequestsBackpressure submits 5,000 writes at once to a context
// with MaxRequests 64. Submit takes what fits and answers ErrAgain (which
// is also EAGAIN), leaving the rest Prepared; draining completions and
// submitting the rest again gets every request done exactly once, and the
// file holds every write.
func TestMaxRequestsBackpressure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 64})
		max := c.MaxRequests()
		if max <= 0 || max > 64 {
			t.Fatalf("MaxRequests() = %d with Config.MaxRequests 64", max)
		}
		f := tempFile(t)
		rng := newRand(t)
		const total, size = 5000, 512
		want := randBytes(rng, total*size)
		reqs := make([]*aio.Request, total)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*size), want[i*size:(i+1)*size], i))
		}

		// The first Submit fills the context and refuses the rest.
		n, err := c.Submit(reqs...)
		if !errors.Is(err, aio.ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("Submit(%d) to a context with MaxRequests %d: %d, %v; want ErrAgain", total, max, n, err)
		}
		if n <= 0 || n > max {
			t.Fatalf("Submit(%d) accepted %d, want 1..%d", total, n, max)
		}
		prepared := 0
		for _, r := range reqs {
			if r.State() == aio.Prepared {
				prepared++
			}
		}
		if prepared != total-n {
			t.Fatalf("after Submit accepted %d of %d, %d are still Prepared, want %d", n, total, prepared, total-n)
		}
		// A second Submit with the context full takes nothing.
		var rest []*aio.Request
		for _, r := range reqs {
			if r.State() == aio.Prepared {
				rest = append(rest, r)
			}
		}
		if n == max {
			if k, err := c.Submit(rest[0]); k != 0 || !errors.Is(err, aio.ErrAgain) {
				t.Fatalf("Submit to a full context: %d, %v; want 0, ErrAgain", k, err)
			}
			if s := rest[0].State(); s != aio.Prepared {
				t.Fatalf("request refused with ErrAgain is %v, want Prepared", s)
			}
		}

		// Drain and resubmit until done; runAll checks the accounting.
		inflight := waitN(t, c, n)
		done := runAll(t, c, rest)
		seen := make([]bool, total)
		for _, r := range append(inflight, done...) {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("request %d delivered twice", i)
			}
			seen[i] = true
			expectResult(t, r, size)
		}
		compare(t, "file", readFile(t, f.Name()), want)
	})
}

// TestBackpressureSync: a flush refused because the context is full stays
// Prepared with ErrAgain, and goes through once there is room.
func TestBackpressureSync(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 8})
		f := tempFile(t)
		max := c.MaxRequests()
		reqs := prepareWrites(t, f, max)
		submitAll(t, c, reqs...)
		flush := aio.NewRequest()
		mustPrepare(t, flush.PrepareFlush(f, "flush"))
		if n, err := c.Submit(flush); n != 0 || !errors.Is(err, aio.ErrAgain) {
			t.Fatalf("Submit(flush) to a full context = %d, %v; want 0, ErrAgain", n, err)
		}
		if s := flush.State(); s != aio.Prepared {
			t.Fatalf("refused flush is %v, want Prepared", s)
		}
		if _, err := flush.Result(); !errors.Is(err, aio.ErrNotSubmitted) {
			t.Fatalf("Result of the refused flush: %v, want ErrNotSubmitted", err)
		}
		waitN(t, c, max)
		run(t, c, flush)
		expectResult(t, flush, 0)
	})
}

// TestBatchLargerThanKernelList submits, in one call, far more requests
// than one kernel list call takes (FreeBSD's lio_listio: 16 by default);
// Submit splits the batch and accepts all of them.
func TestBatchLargerThanKernelList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 256})
		f := tempFile(t)
		n := c.MaxRequests()
		if l, err := aio.SystemLimits(); err == nil {
			t.Logf("SystemLimits: %+v; MaxRequests() = %d", l, n)
		}
		want := randBytes(newRand(t), n*1024)
		reqs := make([]*aio.Request, n)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*1024), want[i*1024:(i+1)*1024], i))
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, 1024)
		}
		compare(t, "file", readFile(t, f.Name()), want)
	})
}

// TestMaxRequestsConfig: 0 means the default of 256 (or the kernel's
// lower bound); a request above what the backend allows is clamped and
// MaxRequests reports the bound in force; a negative one is refused.
func TestMaxRequestsConfig(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		limits, limitsErr := aio.SystemLimits()
		for _, asked := range []int{0, 1, 7, 64, 256, 1 << 20} {
			c, err := aio.NewContext(aio.Config{Backend: b, MaxRequests: asked})
			if errors.Is(err, aio.ErrAgain) && asked > 256 {
				// Linux: fs.aio-max-nr is shared by every process on the
				// machine, and others may hold it right now.
				t.Logf("MaxRequests %d: %v", asked, err)
				continue
			}
			if err != nil {
				t.Fatalf("NewContext(MaxRequests %d): %v", asked, err)
			}
			got := c.MaxRequests()
			want := asked
			if asked == 0 {
				want = 256
			}
			if got <= 0 || got > want {
				t.Errorf("MaxRequests %d: MaxRequests() = %d, want 1..%d", asked, got, want)
			}
			if asked > 0 && asked <= 64 && got != asked {
				t.Errorf("MaxRequests %d: MaxRequests() = %d; a small bound needs no clamping", asked, got)
			}
			if b == aio.DefaultBackend && c.Kernel() != "portable" && limitsErr == nil && limits.MaxOutstanding > 0 && got > limits.MaxOutstanding {
				t.Errorf("MaxRequests %d: MaxRequests() = %d is above what the kernel allows, SystemLimits().MaxOutstanding = %d", asked, got, limits.MaxOutstanding)
			}
			t.Logf("MaxRequests %d: MaxRequests() = %d", asked, got)
			closeContext(t, c)
		}
		if c, err := aio.NewContext(aio.Config{MaxRequests: -1, Backend: b}); err == nil {
			c.Close()
			t.Fatal("NewContext with MaxRequests -1 succeeded")
		}
	})
}

// TestBackpressureTwoContexts fills two contexts: where the kernel bounds
// the process's queue (FreeBSD's max_aio_queue_per_proc), the second one
// is refused by the kernel with ErrAgain, its requests stay Prepared, and
// once the first drains everything goes through. Where nothing bounds the
// process, both are simply accepted. Either way every request completes
// exactly once.
func TestBackpressureTwoContexts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		per := 256
		if l, err := aio.SystemLimits(); err == nil && l.MaxOutstanding > 0 && l.MaxOutstanding < per {
			per = l.MaxOutstanding
		}
		c1 := newContext(t, b, aio.Config{MaxRequests: per})
		c2 := newContext(t, b, aio.Config{MaxRequests: per})
		f := tempFile(t)
		const size = 4096
		n1, n2 := c1.MaxRequests(), c2.MaxRequests()
		want := randBytes(newRand(t), (n1+n2)*size)
		reqs := make([]*aio.Request, n1+n2)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*size), want[i*size:(i+1)*size], i))
		}
		first, second := reqs[:n1], reqs[n1:]
		k1, err := c1.Submit(first...)
		if err != nil && !errors.Is(err, aio.ErrAgain) {
			t.Fatalf("Submit to the first context: %v", err)
		}
		k2, err := c2.Submit(second...)
		if err != nil && !errors.Is(err, aio.ErrAgain) {
			t.Fatalf("Submit to the second context: %v", err)
		}
		t.Logf("first context took %d of %d, second %d of %d (%v)", k1, n1, k2, n2, err)
		var done []*aio.Request
		if k1 > 0 {
			done = append(done, waitN(t, c1, k1)...)
		}
		if k2 > 0 {
			done = append(done, waitN(t, c2, k2)...)
		}
		var rest1, rest2 []*aio.Request
		for _, r := range first {
			if r.State() == aio.Prepared {
				rest1 = append(rest1, r)
			}
		}
		for _, r := range second {
			if r.State() == aio.Prepared {
				rest2 = append(rest2, r)
			}
		}
		if len(rest1) != n1-k1 || len(rest2) != n2-k2 {
			t.Fatalf("Prepared after Submit: %d and %d, want %d and %d", len(rest1), len(rest2), n1-k1, n2-k2)
		}
		if len(rest1) > 0 {
			done = append(done, runAll(t, c1, rest1)...)
		}
		if len(rest2) > 0 {
			done = append(done, runAll(t, c2, rest2)...)
		}
		seen := make([]bool, len(reqs))
		for _, r := range done {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("request %d delivered twice", i)
			}
			seen[i] = true
			expectResult(t, r, size)
		}
		if len(done) != len(reqs) {
			t.Fatalf("%d of %d requests delivered", len(done), len(reqs))
		}
		compare(t, "file", readFile(t, f.Name()), want)
		ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
		defer cancel()
		for _, c := range []*aio.Context{c1, c2} {
			if n, err := c.Wait(ctx, 0, make([]*aio.Request, 1)); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
				t.Fatalf("Wait on a drained context = %d, %v; want 0, ErrNoRequests", n, err)
			}
		}
	})
}

package aio

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests drive an Engine over the scriptable fake kernel, which decides
// when and how each request completes: short transfers, refusals for lack
// of resources, cancellation while the kernel holds the buffer.

// fakeEngine returns an engine over a fake backend of limit requests and
// a File of it on a real (empty) file; the engine is closed at cleanup.
func fakeEngine(t *testing.T, limit int) (*Engine, *fakeBackend, *File) {
	t.Helper()
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, limit)
	e := newEngine(c)
	f, err := e.NewFile(smFile(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the engine closes before the fake
	// checks that it was drained.
	t.Cleanup(func() {
		f.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	})
	return e, fb, f
}

// fakeQueued returns the fake's jobs that have not completed.
func fakeQueued(fb *fakeBackend) []*Request {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	var out []*Request
	for i := range fb.jobs {
		if j := &fb.jobs[i]; j.state == fjQueued && !j.completed {
			out = append(out, j.r)
		}
	}
	return out
}

// waitFor polls cond until it holds, failing t after a long time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEngineShortTransfers: the fake completes every read with at most
// 1000 bytes and reports the end of the file at 5000; ReadAt resubmits the
// rest each time from where the last part ended, returns all 5000 bytes
// with io.EOF, and a write is resubmitted until it is whole.
func TestEngineShortTransfers(t *testing.T) {
	_, fb, f := fakeEngine(t, 8)
	const end = 5000
	type part struct {
		off int64
		n   int
	}
	var (
		mu    sync.Mutex
		parts []part
		stop  = make(chan struct{})
	)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, r := range fakeQueued(fb) {
				mu.Lock()
				parts = append(parts, part{r.off, r.length()})
				mu.Unlock()
				n := min(int64(r.length()), 1000)
				if r.op == opRead {
					n = max(min(n, end-r.off), 0)
				}
				fb.complete(r, n, 0)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	defer close(stop)

	n, err := f.ReadAt(make([]byte, 8000), 0)
	if n != end || err != io.EOF {
		t.Fatalf("ReadAt = %d, %v; want %d, io.EOF", n, err, end)
	}
	mu.Lock()
	want := []part{{0, 8000}, {1000, 7000}, {2000, 6000}, {3000, 5000}, {4000, 4000}, {5000, 3000}}
	if !slices.Equal(parts, want) {
		t.Errorf("submissions = %v, want %v", parts, want)
	}
	parts = nil
	mu.Unlock()
	if n, err := f.WriteAt(make([]byte, 2500), 100); n != 2500 || err != nil {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	mu.Lock()
	if want := []part{{100, 2500}, {1100, 1500}, {2100, 500}}; !slices.Equal(parts, want) {
		t.Errorf("write submissions = %v, want %v", parts, want)
	}
	mu.Unlock()
}

// TestEngineAgain: the fake refuses requests with EAGAIN once 3 are in
// its kernel. Forty concurrent calls all succeed: the refused ones wait in
// the engine until completions make room.
func TestEngineAgain(t *testing.T) {
	_, fb, f := fakeEngine(t, 64)
	fb.mu.Lock()
	fb.capacity = 3
	fb.mu.Unlock()
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if qs := fakeQueued(fb); len(qs) > 0 {
				fb.completeOK(qs[0]) // one at a time, so that refusals go on
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer close(stop)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if n, err := f.WriteAt(make([]byte, 512), int64(i)*512); n != 512 || err != nil {
				t.Errorf("WriteAt %d = %d, %v", i, n, err)
			}
		})
	}
	wg.Wait()
	if _, _, _, again := fb.counts(); again == 0 {
		t.Error("the fake never refused a request: the test did not exercise ErrAgain")
	}
}

// TestEngineMaxRequests: with a context of 4 requests, 12 concurrent calls
// never put more than 4 in flight; those queued meanwhile go to the kernel
// together, in shared submissions, once completions make room.
func TestEngineMaxRequests(t *testing.T) {
	e, fb, f := fakeEngine(t, 4)
	fb.mu.Lock()
	fb.logging = true
	fb.mu.Unlock()
	var wg sync.WaitGroup
	call := func(i int) {
		wg.Go(func() {
			if n, err := f.ReadAt(make([]byte, 64), int64(i)*64); n != 64 || err != nil {
				t.Errorf("ReadAt %d = %d, %v", i, n, err)
			}
		})
	}
	for i := range 4 {
		call(i)
	}
	waitFor(t, "4 requests in the kernel", func() bool { return len(fakeQueued(fb)) == 4 })
	for i := range 8 {
		call(4 + i)
	}
	queued := func() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.queue) }
	waitFor(t, "8 calls queued in the engine", func() bool { return queued() == 8 })
	for round := 0; round < 3; round++ {
		if k := len(fakeQueued(fb)); k != 4 {
			t.Fatalf("round %d: %d requests in the kernel, want 4", round, k)
		}
		fb.completeAll()
		if round < 2 {
			waitFor(t, "the next 4 submitted", func() bool { return queued() == 4*(1-round) && len(fakeQueued(fb)) == 4 })
		}
	}
	wg.Wait()
	fb.mu.Lock()
	batches := slices.Clone(fb.batches)
	fb.mu.Unlock()
	if slices.Max(batches) != 4 || len(batches) > 6 {
		t.Errorf("submission batches %v: the 8 queued calls were not gathered", batches)
	}
}

// TestEngineCancelInKernel: a ReadAtContext whose ctx ends while the
// kernel holds its buffer returns only after the kernel has let go: when
// the canceled request completes (ErrCanceled, 0 bytes), or, if the kernel
// could not cancel it, when it completes normally.
func TestEngineCancelInKernel(t *testing.T) {
	for _, cancelable := range []bool{true, false} {
		name := map[bool]string{true: "canceled", false: "running"}[cancelable]
		t.Run(name, func(t *testing.T) {
			_, fb, f := fakeEngine(t, 8)
			if !cancelable {
				fb.mu.Lock()
				fb.cancelFn = func(*Request) (cancelOutcome, error) { return cancelNotCanceled, nil }
				fb.mu.Unlock()
			}
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := f.ReadAtContext(ctx, make([]byte, 4096), 0)
				done <- result{n, err}
			}()
			waitFor(t, "the read in the kernel", func() bool { return len(fakeQueued(fb)) == 1 })
			r := fakeQueued(fb)[0]
			cancel()
			waitFor(t, "the cancel", func() bool {
				fb.mu.Lock()
				defer fb.mu.Unlock()
				return fb.jobs[r.slot].canceled || !cancelable
			})
			time.Sleep(20 * time.Millisecond) // a chance to return too early
			select {
			case res := <-done:
				t.Fatalf("ReadAtContext returned %d, %v while the kernel held the buffer", res.n, res.err)
			default:
			}
			if cancelable {
				fb.deliverCanceled()
			} else {
				fb.completeOK(r)
			}
			res := <-done
			// Canceled: nothing read, and ctx's error. Completed whole
			// although ctx ended: a read like any other (io.ReaderAt: n ==
			// len(p) with a nil error).
			if cancelable && (res.n != 0 || !errors.Is(res.err, context.Canceled)) {
				t.Errorf("ReadAtContext = %d, %v; want 0, context.Canceled", res.n, res.err)
			}
			if !cancelable && (res.n != 4096 || res.err != nil) {
				t.Errorf("ReadAtContext = %d, %v; want 4096, nil", res.n, res.err)
			}
			// The request went back to the pool and serves the next call.
			go func() {
				for len(fakeQueued(fb)) == 0 {
					time.Sleep(time.Millisecond)
				}
				fb.completeAll()
			}()
			if n, err := f.ReadAt(make([]byte, 100), 0); n != 100 || err != nil {
				t.Errorf("ReadAt after the canceled call = %d, %v", n, err)
			}
		})
	}
}

// TestEngineCancelQueued: a call whose ctx ends while it waits in the
// engine for room is withdrawn without any I/O.
func TestEngineCancelQueued(t *testing.T) {
	e, fb, f := fakeEngine(t, 1)
	first := make(chan error, 1)
	go func() {
		_, err := f.ReadAt(make([]byte, 10), 0)
		first <- err
	}()
	waitFor(t, "the first read in the kernel", func() bool { return len(fakeQueued(fb)) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := f.ReadAtContext(ctx, make([]byte, 10), 0)
		second <- err
	}()
	waitFor(t, "the second read queued", func() bool { e.mu.Lock(); defer e.mu.Unlock(); return len(e.queue) == 1 })
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("queued ReadAtContext = %v, want context.Canceled", err)
	}
	fb.completeAll()
	if err := <-first; err != nil {
		t.Errorf("first ReadAt = %v", err)
	}
	if queued, _, _, _ := fb.counts(); queued != 1 {
		t.Errorf("%d requests reached the kernel, want 1", queued)
	}
}

// TestEngineRejectedAtSubmission: a request the kernel rejects inside
// Submit (EBADF here) comes back to its caller with the errno, although
// the harvester was blocked in Wait when it was rejected.
func TestEngineRejectedAtSubmission(t *testing.T) {
	_, fb, f := fakeEngine(t, 8)
	fb.mu.Lock()
	fb.script = []syscall.Errno{syscall.EBADF}
	fb.mu.Unlock()
	time.Sleep(10 * time.Millisecond) // let the harvester block in Wait
	_, err := f.WriteAt([]byte("x"), 0)
	if !errors.Is(err, syscall.EBADF) {
		t.Errorf("WriteAt rejected at submission = %v, want EBADF", err)
	}
}

// TestEngineKernelError: an Engine says why it drives no kernel AIO as a
// Context of the same Config does: nil where the kernel's AIO serves (or
// was not asked for), an error matching ErrNotSupported where a
// DefaultBackend engine fell back to goroutines alone (Kernel "portable":
// qemu-user, or a build without a kernel backend).
func TestEngineKernelError(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		e, err := NewEngine(Config{Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewContext(Config{Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		ek, ck := e.KernelError(), c.KernelError()
		if (ek == nil) != (ck == nil) || ek != nil && ek.Error() != ck.Error() {
			t.Errorf("%v: Engine.KernelError() = %v; a Context's = %v", be, ek, ck)
		}
		fellBack := be == DefaultBackend && e.Kernel() == "portable"
		if fellBack && !errors.Is(ek, ErrNotSupported) || !fellBack && ek != nil {
			t.Errorf("%v engine driving %q: KernelError() = %v", be, e.Kernel(), ek)
		}
		c.Close()
		e.Close()
	}
}

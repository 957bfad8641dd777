package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Attacks on File's ctx calls over the fake kernel: what a call whose ctx
// ended reports once the kernel, unable to cancel, completes its request.

// h9CtxCall starts call (a ReadAtContext or WriteAtContext of 4096 bytes at
// 0 on f) with a ctx it cancels once the fake holds a request, after the
// fake's first completions (first, applied in order to the first requests)
// have been delivered; the request in the kernel at cancel time then ends
// with last. It returns the call's outcome.
func h9CtxCall(t *testing.T, fb *fakeBackend, call func(ctx context.Context) (int, error), first []int64, last func(r *Request)) (int, error) {
	t.Helper()
	fb.mu.Lock()
	fb.cancelFn = func(*Request) (cancelOutcome, error) { return cancelNotCanceled, nil }
	fb.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := call(ctx)
		done <- result{n, err}
	}()
	for _, k := range first {
		waitFor(t, "a request in the kernel", func() bool { return len(fakeQueued(fb)) == 1 })
		fb.complete(fakeQueued(fb)[0], k, 0)
	}
	waitFor(t, "the last request in the kernel", func() bool { return len(fakeQueued(fb)) == 1 })
	r := fakeQueued(fb)[0]
	cancel()
	time.Sleep(10 * time.Millisecond) // let the call see its ctx and ask for the cancel
	last(r)
	select {
	case res := <-done:
		return res.n, res.err
	case <-time.After(30 * time.Second):
		t.Fatal("the call has not returned 30s after its request completed")
		return 0, nil
	}
}

// TestH9CtxDoneCompletionErrorReported: a ReadAtContext or WriteAtContext
// whose ctx ends while the kernel holds a request it cannot cancel, and
// whose request then fails (EIO, ENOSPC), reports that failure as the
// call without ctx does (*os.PathError with the errno and the bytes moved
// before it), not ctx.Err(); one whose request completes the call reports
// it done (n == len(p), nil); one whose request is canceled, ctx.Err().
func TestH9CtxDoneCompletionErrorReported(t *testing.T) {
	type outcome struct {
		name  string
		first []int64 // earlier completions, bytes each
		last  func(*fakeBackend, *Request)
		wantN int
		errno syscall.Errno // 0: ctx.Err()
	}
	fail := func(e syscall.Errno) func(*fakeBackend, *Request) {
		return func(fb *fakeBackend, r *Request) { fb.complete(r, 0, e) }
	}
	ok := func(fb *fakeBackend, r *Request) { fb.completeOK(r) }
	for _, op := range []string{"read", "write"} {
		for _, o := range []outcome{
			{"EIO", nil, fail(syscall.EIO), 0, syscall.EIO},
			{"ENOSPC-after-1000", []int64{1000}, fail(syscall.ENOSPC), 1000, syscall.ENOSPC},
			{"EBADF", nil, fail(syscall.EBADF), 0, syscall.EBADF},
			{"completed", nil, ok, 4096, 0},
			{"completed-after-1000", []int64{1000}, ok, 4096, 0},
			{"canceled", nil, fail(syscall.ECANCELED), 0, 0},
			{"canceled-after-1000", []int64{1000}, fail(syscall.ECANCELED), 1000, 0},
		} {
			t.Run(op+"/"+o.name, func(t *testing.T) {
				_, fb, f := fakeEngine(t, 8)
				name := map[string]string{"read": "ReadAtContext", "write": "WriteAtContext"}[op]
				call := func(ctx context.Context) (int, error) {
					if op == "read" {
						return f.ReadAtContext(ctx, make([]byte, 4096), 0)
					}
					return f.WriteAtContext(ctx, make([]byte, 4096), 0)
				}
				n, err := h9CtxCall(t, fb, call, o.first, func(r *Request) { o.last(fb, r) })
				if o.errno == 0 && o.wantN == 4096 {
					// Done whole although ctx ended: io's contract, n ==
					// len(p) with no error.
					if n != 4096 || err != nil {
						t.Fatalf("%s = %d, %v; want 4096, nil", name, n, err)
					}
					return
				}
				if o.errno == 0 {
					if n != o.wantN || err != context.Canceled {
						t.Fatalf("%s = %d, %v; want %d, context.Canceled itself", name, n, err, o.wantN)
					}
					return
				}
				var pe *os.PathError
				if n != o.wantN || !errors.As(err, &pe) || !errors.Is(err, o.errno) || pe.Op != op || pe.Path != f.Name() {
					t.Fatalf("%s = %d, %v (%T); want %d, *os.PathError{Op: %q, Path: %q} with %v, as without ctx",
						name, n, err, err, o.wantN, op, f.Name(), o.errno)
				}
				if errors.Is(err, context.Canceled) {
					t.Fatalf("%s = %v: also matches context.Canceled", name, err)
				}
			})
		}
	}
}

// TestH9CtxGivesUpWhileKernelFullOfOthers: the engine's kernel refuses
// every request for lack of room (EAGAIN) while none of the engine's own
// is in flight: its queue is full of other contexts' requests, so no
// completion of the engine's will make room. A ReadAtContext whose ctx
// ends meanwhile gives up with ctx.Err() and nothing read, without
// waiting for room; a ReadAt without ctx keeps trying and succeeds once
// room comes; Engine.Close, begun while a ctx call waits, returns once
// that call gave up.
func TestH9CtxGivesUpWhileKernelFullOfOthers(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	e := newEngine(c)
	f, err := e.NewFile(smFile(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		e.Close() // the test's own Close went first, unless it failed before
	})
	var full atomic.Bool
	full.Store(true)
	t.Cleanup(func() { full.Store(false) }) // before the engine's Close: room at last
	fb.mu.Lock()
	fb.outcome = func(*Request) syscall.Errno {
		if full.Load() {
			return syscall.EAGAIN
		}
		return 0
	}
	fb.auto = true
	fb.mu.Unlock()
	refusals := func() int { _, _, _, again := fb.counts(); return again }

	within := func(what string, ch <-chan error) error {
		t.Helper()
		select {
		case err := <-ch:
			return err
		case <-time.After(30 * time.Second):
			t.Fatalf("%s has not returned after 30s", what)
			return nil
		}
	}
	ctxCall := func(ctx context.Context) <-chan error {
		ch := make(chan error, 1)
		go func() {
			n, err := f.ReadAtContext(ctx, make([]byte, 512), 0)
			if n != 0 {
				err = fmt.Errorf("%d bytes read, want 0 (and %v)", n, err)
			}
			ch <- err
		}()
		return ch
	}

	ctx, cancel := context.WithCancel(context.Background())
	first := ctxCall(ctx)
	waitFor(t, "a refusal", func() bool { return refusals() > 0 })
	cancel()
	if err := within("ReadAtContext with its ctx canceled while the kernel is full", first); err != context.Canceled {
		t.Fatalf("ReadAtContext while the kernel is full, ctx canceled = %v; want context.Canceled", err)
	}

	plain := make(chan error, 1)
	go func() {
		n, err := f.ReadAt(make([]byte, 512), 0)
		if err == nil && n != 512 {
			err = fmt.Errorf("ReadAt read %d bytes, want 512", n)
		}
		plain <- err
	}()
	waitFor(t, "more refusals", func() bool { return refusals() > 3 })
	full.Store(false)
	if err := within("ReadAt once room came", plain); err != nil {
		t.Fatalf("ReadAt once room came = %v", err)
	}

	full.Store(true)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	second := ctxCall(ctx)
	at := refusals()
	waitFor(t, "a refusal", func() bool { return refusals() > at })
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	waitFor(t, "Close to begin", e.isClosed)
	cancel()
	if err := within("ReadAtContext canceled while Engine.Close waited", second); err != context.Canceled {
		t.Fatalf("ReadAtContext canceled while Engine.Close waited = %v; want context.Canceled", err)
	}
	if err := within("Engine.Close", closed); err != nil {
		t.Fatalf("Engine.Close = %v", err)
	}
	if queued, _, _, _ := fb.counts(); queued != 1 {
		t.Errorf("%d requests reached the kernel, want 1 (the plain ReadAt)", queued)
	}
}

// TestH9CtxEndsDuringRefusedSubmission: a ReadAtContext's ctx ends while
// the kernel is refusing its request for lack of room (inside Submit),
// with nothing of the engine's in flight: the request does not go back to
// the engine's queue to wait for room; the call gives up with ctx.Err().
func TestH9CtxEndsDuringRefusedSubmission(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	e := newEngine(c)
	f, err := e.NewFile(smFile(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	var full atomic.Bool
	full.Store(true)
	t.Cleanup(func() {
		full.Store(false) // room at last, if the test failed
		f.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	})
	var submissions atomic.Int32
	fb.mu.Lock()
	fb.outcome = func(r *Request) syscall.Errno {
		if !full.Load() {
			return 0
		}
		if submissions.Add(1) == 2 {
			// The second submission, by the engine's retry rather than
			// the caller, which waits meanwhile: refuse it only once
			// the caller's ctx has ended and the caller has seen it.
			fr := r.User().(*fileReq)
			deadline := time.Now().Add(30 * time.Second)
			for !fr.canceled.Load() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		return syscall.EAGAIN
	}
	fb.auto = true
	fb.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		n, err := f.ReadAtContext(ctx, make([]byte, 512), 0)
		if n != 0 {
			err = fmt.Errorf("%d bytes read, want 0 (and %v)", n, err)
		}
		done <- err
	}()
	waitFor(t, "the second submission", func() bool { return submissions.Load() >= 2 })
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("ReadAtContext canceled during its refused submission = %v; want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadAtContext canceled during its refused submission has not returned after 30s")
	}
}

// h9BrokenCtx is a Context that breaks its contract: its Done channel is
// closed, and Err says nil.
type h9BrokenCtx struct {
	context.Context
	done chan struct{}
}

func (c h9BrokenCtx) Done() <-chan struct{} { return c.done }
func (c h9BrokenCtx) Err() error            { return nil }

// TestH9BrokenCtxNeverSuccessShort: a ReadAtContext or WriteAtContext
// given up because ctx's Done channel closed never reports success with
// fewer bytes than asked (io.ReaderAt and io.WriterAt forbid it), even
// when the Context's Err says nil: the error is then context.Canceled.
func TestH9BrokenCtxNeverSuccessShort(t *testing.T) {
	for _, op := range []string{"ReadAtContext", "WriteAtContext"} {
		t.Run(op, func(t *testing.T) {
			_, fb, f := fakeEngine(t, 8)
			ctx := h9BrokenCtx{context.Background(), make(chan struct{})}
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				if op == "ReadAtContext" {
					r.n, r.err = f.ReadAtContext(ctx, make([]byte, 4096), 0)
				} else {
					r.n, r.err = f.WriteAtContext(ctx, make([]byte, 4096), 0)
				}
				done <- r
			}()
			waitFor(t, "the request in the kernel", func() bool { return len(fakeQueued(fb)) == 1 })
			close(ctx.done)
			waitFor(t, "the cancel", func() bool {
				fb.mu.Lock()
				defer fb.mu.Unlock()
				for i := range fb.jobs {
					if fb.jobs[i].canceled {
						return true
					}
				}
				return false
			})
			fb.deliverCanceled()
			r := <-done
			if r.n != 0 || !errors.Is(r.err, context.Canceled) {
				t.Fatalf("%s with a ctx whose Done closed and whose Err says nil = %d, %v; want 0, context.Canceled", op, r.n, r.err)
			}
		})
	}
}

package aio

import (
	"context"
	"errors"
	"os"
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
// before it), not ctx.Err(); one whose request completes reports the
// bytes and ctx.Err(); one whose request is canceled, ctx.Err().
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

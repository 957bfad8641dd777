package tests

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// A pipe read waiting in the poller when its file is closed ends with an
// error that says so (EBADF or os.ErrClosed), not with EAGAIN, which tells
// the caller to try again on a descriptor that no longer exists.
func TestPipeReadClosedWhileParked(t *testing.T) {
	for _, b := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(b.String(), func(t *testing.T) {
			c := newContext(t, b, aio.Config{})
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pw.Close() })
			r := aio.NewRequest()
			mustPrepare(t, r.PrepareRead(pr, 0, make([]byte, 8), nil))
			submitAll(t, c, r)
			time.Sleep(50 * time.Millisecond) // let the worker reach the poller
			if err := pr.Close(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
			defer cancel()
			out := make([]*aio.Request, 1)
			if _, err := c.Wait(ctx, 1, out); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			n, err := r.Result()
			if n != 0 || errors.Is(err, syscall.EAGAIN) || !(errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed)) {
				t.Errorf("Result() = %d, %v; want 0 and EBADF or os.ErrClosed", n, err)
			}
		})
	}
}

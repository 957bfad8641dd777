package aio_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// TestPrepareRefusalSaysWhy: a Prepare refused for its arguments says which
// one was wrong, as File.ReadAt does for a negative offset, and still
// matches syscall.EINVAL and os.ErrInvalid.
func TestPrepareRefusalSaysWhy(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := aio.NewRequest()
	buf := make([]byte, 8)
	bufs := make([][]byte, 1025)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"PrepareRead off -1", r.PrepareRead(f, -1, buf, nil), "negative offset -1"},
		{"PrepareWrite off -4096", r.PrepareWrite(f, -4096, buf, nil), "negative offset -4096"},
		{"PrepareReadv 1025 buffers", r.PrepareReadv(f, 0, bufs, nil), "1025 buffers"},
		{"PrepareWritev off -1", r.PrepareWritev(f, -1, bufs[:1], nil), "negative offset -1"},
		{"PrepareFlush nil file", r.PrepareFlush(nil, nil), "nil file"},
	} {
		if c.err == nil {
			t.Errorf("%s: nil error", c.name)
			continue
		}
		if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %q does not say %q", c.name, c.err, c.want)
		}
		if !errors.Is(c.err, syscall.EINVAL) || !errors.Is(c.err, os.ErrInvalid) {
			t.Errorf("%s: %v matches syscall.EINVAL %v, os.ErrInvalid %v; want both", c.name, c.err, errors.Is(c.err, syscall.EINVAL), errors.Is(c.err, os.ErrInvalid))
		}
		if strings.Count(c.err.Error(), "aio") != 1 {
			t.Errorf("%s: %q names the package other than once", c.name, c.err)
		}
	}
	if s := r.State(); s != aio.Idle {
		t.Errorf("after the refusals the request is %v; want Idle", s)
	}
}

// TestCancelStreamReadWaitingForData: a pipe read waiting for data is
// running, so Cancel refuses it with ErrInProgress on every backend that
// takes it (the kernel's AIO never does); a read deadline set on the file
// ends it with EAGAIN, and the context then drains and closes, as
// Request.Cancel's documentation says.
func TestCancelStreamReadWaitingForData(t *testing.T) {
	for _, be := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c, err := aio.NewContext(aio.Config{Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			defer pr.Close()
			r := aio.NewRequest()
			if err := r.PrepareRead(pr, 0, make([]byte, 8), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Submit(r); err != nil {
				t.Fatal(err)
			}
			out := make([]*aio.Request, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			n, err := c.Wait(ctx, 1, out)
			cancel()
			if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait for a read of an empty pipe: %d, %v; want 0, the deadline", n, err)
			}
			if err := r.Cancel(); !errors.Is(err, aio.ErrInProgress) {
				t.Fatalf("Cancel of the read waiting for data: %v; want ErrInProgress", err)
			}
			if err := pr.SetReadDeadline(time.Now()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			n, err = c.Wait(ctx, 1, out)
			cancel()
			if n != 1 || err != nil {
				t.Fatalf("Wait after the read deadline: %d, %v; want the read", n, err)
			}
			if got, err := r.Result(); got != 0 || !errors.Is(err, syscall.EAGAIN) {
				t.Errorf("Result after the read deadline: %d, %v; want 0 and EAGAIN", got, err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close once drained: %v", err)
			}
		})
	}
}

// TestWaitDoneCtxBeforeNoRequests: a Wait with a done ctx reports the ctx's
// error rather than ErrNoRequests, as its documentation says ("its error
// takes precedence over ErrNoRequests"), whether nothing was in flight when
// it began or its requests all came back during it.
func TestWaitDoneCtxBeforeNoRequests(t *testing.T) {
	for _, be := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c, err := aio.NewContext(aio.Config{Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			out := make([]*aio.Request, 2)
			if n, err := c.Wait(ctx, 0, out); n != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("Wait(done ctx, 0) with nothing in flight: %d, %v; want 0, context.Canceled", n, err)
			}
			if n, err := c.Wait(ctx, 1, out); n != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("Wait(done ctx, 1) with nothing in flight: %d, %v; want 0, context.Canceled", n, err)
			}
			if n, err := c.Wait(context.Background(), 0, out); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
				t.Errorf("Wait(Background, 0) with nothing in flight: %d, %v; want 0, ErrNoRequests", n, err)
			}
			// The same with a request that comes back during the Wait.
			f, err := os.Create(filepath.Join(t.TempDir(), "f"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := aio.NewRequest()
			if err := r.PrepareWrite(f, 0, []byte("x"), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Submit(r); err != nil {
				t.Fatal(err)
			}
			for got := 0; got == 0; {
				var n int
				n, err = c.Wait(ctx, 0, out)
				got += n
				if got == 0 && !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait(done ctx, 0) with the write in flight: %d, %v; want context.Canceled until it is back", n, err)
				}
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Wait(done ctx, 0) that got the last request: %v; want context.Canceled", err)
			}
		})
	}
}

// TestSubmitMaxRequestsMessage: the ErrAgain of a Submit that meets
// MaxRequests says the bound and how many of the call's requests it did not
// take, not how many were in flight before the call (0 here, though
// the call itself filled the context).
func TestSubmitMaxRequestsMessage(t *testing.T) {
	c, err := aio.NewContext(aio.Config{Backend: aio.PortableBackend, MaxRequests: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := []*aio.Request{aio.NewRequest(), aio.NewRequest(), aio.NewRequest()}
	for _, r := range rs {
		if err := r.PrepareWrite(f, 0, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	n, err := c.Submit(rs...)
	if n != 2 || !errors.Is(err, aio.ErrAgain) {
		t.Fatalf("Submit of 3 under MaxRequests 2: %d, %v; want 2 and ErrAgain", n, err)
	}
	for _, want := range []string{"MaxRequests 2", "1 of the 3 requests not taken"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Submit's error %q does not say %q", err, want)
		}
	}
	out := make([]*aio.Request, 2)
	if k, err := c.Wait(context.Background(), 2, out); k != 2 || err != nil {
		t.Fatalf("Wait: %d, %v", k, err)
	}
}

// TestNewFileRefusals: NewFile's refusals name the package once and match
// what they say: a nil file matches os.ErrInvalid and syscall.EINVAL, as
// the File's other refused arguments do; an Engine's NewFile once the
// engine is closed matches ErrClosed and leaves the file open.
func TestNewFileRefusals(t *testing.T) {
	_, err := aio.NewFile(nil)
	if !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("NewFile(nil): %v; want it to match os.ErrInvalid and syscall.EINVAL", err)
	}
	if err != nil && strings.Count(err.Error(), "aio:") != 1 {
		t.Errorf("NewFile(nil): %q names the package other than once", err)
	}
	e, err := aio.NewEngine(aio.Config{Backend: aio.PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = e.NewFile(f)
	if !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Engine.NewFile after Close: %v; want ErrClosed", err)
	}
	if c := strings.Count(err.Error(), "aio:"); c != 1 {
		t.Errorf("Engine.NewFile after Close: %q names the package %d times; want once", err, c)
	}
	if _, err := f.Stat(); err != nil {
		t.Errorf("the file after the refused NewFile: %v; want it open", err)
	}
}

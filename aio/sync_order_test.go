//go:build freebsd || (linux && fbsdmodel)

package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Where syncs are ordered (FreeBSD), a sync the goroutine engine serves
// starts only once the requests submitted before it on its file are done,
// as aio_fsync does in the kernel. A FIFO, which FreeBSD's AIO refuses, is
// the file: a write to it while it is full stays in the engine until the
// test drains it.

// soFullFIFO opens a FIFO read-write and fills it, and returns it with a
// function that empties it.
func soFullFIFO(t *testing.T) (*os.File, func()) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	var werr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if _, werr = syscall.Write(int(fd), chunk); werr != nil {
				return
			}
		}
	}); err != nil || !errors.Is(werr, syscall.EAGAIN) {
		t.Fatalf("filling the FIFO: %v, %v (want EAGAIN at full)", err, werr)
	}
	drain := func() {
		_ = rc.Control(func(fd uintptr) {
			for {
				if _, err := syscall.Read(int(fd), chunk); err != nil {
					return
				}
			}
		})
	}
	return f, drain
}

func soBackends(t *testing.T, fn func(t *testing.T, be Backend)) {
	for _, b := range []struct {
		name string
		be   Backend
	}{{"portable", PortableBackend}, {"default", DefaultBackend}} {
		t.Run(b.name, func(t *testing.T) { fn(t, b.be) })
	}
}

func soContext(t *testing.T, be Backend) *Context {
	t.Helper()
	c, err := NewContext(Config{MaxRequests: 8, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func soSubmit(t *testing.T, c *Context, reqs ...*Request) {
	t.Helper()
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
}

// soWaitFor waits up to d for n completions and returns them.
func soWaitFor(t *testing.T, c *Context, n int, d time.Duration) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out := make([]*Request, 8)
	k, err := c.Wait(ctx, n, out)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %d, %v", k, err)
	}
	return out[:k]
}

// soHeldSync submits a write to a full FIFO and then the sync prep
// prepares on it, and checks that neither completes meanwhile: the write
// waits for room, the sync for the write.
func soHeldSync(t *testing.T, be Backend, prep func(s *Request, f *os.File) error) (c *Context, w, s *Request, drain func()) {
	t.Helper()
	f, drain := soFullFIFO(t)
	c = soContext(t, be)
	w, s = NewRequest(), NewRequest()
	if err := w.PrepareWrite(f, 0, make([]byte, 512), "write"); err != nil {
		t.Fatal(err)
	}
	if err := prep(s, f); err != nil {
		t.Fatal(err)
	}
	soSubmit(t, c, w, s)
	if got := soWaitFor(t, c, 1, 100*time.Millisecond); len(got) > 0 {
		_, err := got[0].Result()
		t.Fatalf("the %v completed (%v) while the write before the sync waited for room in the FIFO", got[0].User(), err)
	}
	return c, w, s, drain
}

func TestSyncWaitsForEarlierRequests(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		c, w, _, drain := soHeldSync(t, be, func(s *Request, f *os.File) error { return s.PrepareFlush(f, "flush") })
		drain()
		got := soWaitFor(t, c, 2, time.Minute)
		if len(got) != 2 {
			t.Fatalf("after the FIFO was drained, %d of the write and the flush came back", len(got))
		}
		if n, err := w.Result(); n != 512 || err != nil {
			t.Errorf("write: %d, %v", n, err)
		}
	})
}

func TestHeldSyncCancels(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		c, w, s, drain := soHeldSync(t, be, func(s *Request, f *os.File) error { return s.PrepareDataSync(f, "data sync") })
		if err := s.Cancel(); err != nil {
			t.Fatalf("Cancel of the held sync = %v, want nil", err)
		}
		got := soWaitFor(t, c, 1, time.Minute)
		if len(got) != 1 || got[0] != s {
			t.Fatalf("after Cancel, Wait gave %d requests, want the sync alone", len(got))
		}
		if _, err := s.Result(); !errors.Is(err, ErrCanceled) {
			t.Errorf("canceled sync: %v, want ErrCanceled", err)
		}
		drain()
		if got := soWaitFor(t, c, 1, time.Minute); len(got) != 1 || got[0] != w {
			t.Fatalf("after the drain, Wait gave %d requests, want the write", len(got))
		}
	})
}

// TestSyncOrderIsPerFile: a sync of another file, and a request after the
// held sync on its own file, do not wait for the write.
func TestSyncOrderIsPerFile(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, drain := soFullFIFO(t)
		g, err := os.Create(filepath.Join(t.TempDir(), "other"))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		c := soContext(t, be)
		w, s, other, later := NewRequest(), NewRequest(), NewRequest(), NewRequest()
		for _, err := range []error{
			w.PrepareWrite(f, 0, make([]byte, 512), "write"),
			s.PrepareFlush(f, "flush"),
			other.PrepareFlush(g, "other file's flush"),
			later.PrepareRead(f, 0, nil, "later read"), // of 0 bytes: it leaves the FIFO full
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		soSubmit(t, c, w, s, other, later)
		got := soWaitFor(t, c, 2, time.Minute)
		done := map[*Request]bool{}
		for _, r := range got {
			done[r] = true
		}
		if !done[other] || !done[later] || len(got) != 2 {
			var names []any
			for _, r := range got {
				names = append(names, r.User())
			}
			t.Fatalf("while the write waited, %v came back; want the other file's flush and the later read", names)
		}
		drain()
		if got := soWaitFor(t, c, 2, time.Minute); len(got) != 2 {
			t.Fatalf("after the drain, %d of the write and the flush came back", len(got))
		}
	})
}

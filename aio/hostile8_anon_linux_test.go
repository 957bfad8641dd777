//go:build linux

package aio

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// h8Eventfd makes a non-blocking eventfd (counter 0, so a read of it waits
// in the poller until something is written) as an *os.File.
func h8Eventfd(t *testing.T) *os.File {
	t.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Skipf("eventfd: %v", err)
	}
	f := os.NewFile(uintptr(fd), "eventfd")
	t.Cleanup(func() { f.Close() })
	return f
}

// h8WaitFor waits up to d for at least n completions and returns them.
func h8WaitFor(t *testing.T, c *Context, n int, d time.Duration) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out := make([]*Request, 16)
	k, err := c.Wait(ctx, n, out)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %d, %v", k, err)
	}
	return out[:k]
}

// TestH8SyncOfOneAnonFileWaitsNotForAnother: Linux gives every eventfd
// (and timerfd, signalfd, epoll instance) one shared anonymous inode, so
// their device and inode do not tell two of them apart. A sync of one
// eventfd must not wait for a read of another that waits for its counter:
// the two are different files (PrepareFlush orders a sync only after the
// requests on its own file), and that read may wait for good. Where syncs
// are ordered (-tags fbsdmodel) the goroutine engine keyed its order by
// device and inode alone and held the flush behind the other file's read.
func TestH8SyncOfOneAnonFileWaitsNotForAnother(t *testing.T) {
	for _, be := range []Backend{PortableBackend, DefaultBackend} {
		t.Run(be.String(), func(t *testing.T) {
			a, b := h8Eventfd(t), h8Eventfd(t)
			c, err := NewContext(Config{MaxRequests: 8, Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			rd, fl := NewRequest(), NewRequest()
			buf := make([]byte, 8)
			if err := rd.PrepareRead(a, 0, buf, "read of a"); err != nil {
				t.Fatal(err)
			}
			if err := fl.PrepareFlush(b, "flush of b"); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(rd, fl); n != 2 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			got := h8WaitFor(t, c, 1, 2*time.Second)
			if len(got) != 1 || got[0] != fl {
				var names []any
				for _, r := range got {
					names = append(names, r.User())
				}
				t.Errorf("while the read of eventfd a waited for its counter, %v came back; want the flush of eventfd b", names)
			}
			// Let the read finish, so that everything comes back.
			if _, err := unix.Write(int(a.Fd()), []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
				t.Fatal(err)
			}
			want := 2 - len(got)
			for want > 0 {
				more := h8WaitFor(t, c, want, time.Minute)
				if len(more) == 0 {
					t.Fatalf("%d requests never came back", want)
				}
				want -= len(more)
			}
			if n, err := rd.Result(); n != 8 || err != nil {
				t.Errorf("read of eventfd a: %d, %v; want 8 bytes", n, err)
			}
			if _, err := fl.Result(); err != nil && !errors.Is(err, unix.EINVAL) {
				t.Errorf("flush of eventfd b: %v; want nil or EINVAL (what fsync says of it)", err)
			}
		})
	}
}

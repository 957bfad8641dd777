//go:build unix

package tests

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// promptly runs fn and fails the test if it has not returned after
// hangTimeout: a call that must not block on I/O.
func promptly(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(hangTimeout):
		t.Fatalf("%s still blocked after %v", what, hangTimeout)
	}
}

// streamPair returns the two ends of an empty pipe or socket pair.
func streamPair(t *testing.T, kind string) (rd, wr *os.File) {
	t.Helper()
	switch kind {
	case "pipe":
		var err error
		if rd, wr, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
	case "socket":
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			if err := syscall.SetNonblock(fd, true); err != nil {
				t.Fatal(err)
			}
		}
		rd, wr = os.NewFile(uintptr(fds[0]), "socket-a"), os.NewFile(uintptr(fds[1]), "socket-b")
	}
	t.Cleanup(func() { rd.Close(); wr.Close() })
	return rd, wr
}

// nonblocking reports whether f's descriptor is in non-blocking mode,
// read without os.File.Fd (which would change it).
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fl int
	var ferr error
	if err := rc.Control(func(fd uintptr) { fl, ferr = fcntlGetfl(fd) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	return fl&syscall.O_NONBLOCK != 0
}

// TestSubmitOfEmptyStreamReturns: a read of an empty pipe or socket is
// handed over and Submit returns at once on every backend; Wakeup, Cancel,
// InFlight and Close keep answering while the read waits for data; the
// data, once written, completes it (or the backend refuses such files with
// EOPNOTSUPP: KernelBackend); the caller's descriptor stays non-blocking.
func TestSubmitOfEmptyStreamReturns(t *testing.T) {
	for _, kind := range []string{"pipe", "socket"} {
		t.Run(kind, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b aio.Backend) {
				c := newContext(t, b, aio.Config{})
				rd, wr := streamPair(t, kind)
				r := aio.NewRequest()
				buf := make([]byte, 5)
				mustPrepare(t, r.PrepareRead(rd, 0, buf, nil))
				var n int
				var err error
				promptly(t, "Submit of a read on an empty "+kind, func() { n, err = c.Submit(r) })
				if n != 1 || err != nil {
					t.Fatalf("Submit = %d, %v; want 1, nil", n, err)
				}
				if !nonblocking(t, rd) {
					t.Errorf("the %s's descriptor was switched to blocking mode", kind)
				}
				promptly(t, "Wakeup", func() { err = c.Wakeup() })
				if err != nil {
					t.Fatalf("Wakeup = %v", err)
				}
				promptly(t, "Cancel", func() { err = r.Cancel() })
				if err != nil && !errors.Is(err, aio.ErrInProgress) && !errors.Is(err, aio.ErrAlreadyCompleted) {
					t.Fatalf("Cancel = %v", err)
				}
				canceled := err == nil
				promptly(t, "Close", func() { err = c.Close() })
				if !errors.Is(err, aio.ErrBusy) {
					t.Fatalf("Close with a read in flight = %v, want ErrBusy", err)
				}
				if got := c.InFlight(); got != 1 {
					t.Fatalf("InFlight = %d, want 1", got)
				}
				out := make([]*aio.Request, 1)
				ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
				defer cancel()
				if k, err := c.Wait(ctx, 1, out); k != 0 || !errors.Is(err, aio.ErrInterrupted) {
					if k == 1 && out[0] == r {
						if _, rerr := r.Result(); errors.Is(rerr, syscall.EOPNOTSUPP) && b == aio.KernelBackend {
							return // refused without blocking: nothing more to see
						}
					}
					t.Fatalf("Wait after Wakeup = %d, %v; want 0, ErrInterrupted", k, err)
				}
				if _, err := wr.Write([]byte("hello")); err != nil {
					t.Fatal(err)
				}
				got := waitN(t, c, 1)
				if got[0] != r {
					t.Fatal("Wait returned another request")
				}
				k, rerr := r.Result()
				switch {
				case canceled && errors.Is(rerr, aio.ErrCanceled):
				case b == aio.KernelBackend && errors.Is(rerr, syscall.EOPNOTSUPP):
				case rerr != nil:
					t.Fatalf("Result = %d, %v", k, rerr)
				case k != 5 || string(buf) != "hello":
					t.Fatalf("read %d bytes %q, want 5 bytes \"hello\"", k, buf[:k])
				}
			})
		})
	}
}

// TestClaimIsAtomic: two contexts offered the same prepared request at the
// same moment accept it at most once between them, and Wait delivers it
// exactly as often as it was accepted. Before the state and the owner were
// one word, a context could check the state, lose the processor while the
// other context ran the request to completion, and then still claim it.
func TestClaimIsAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		const pairs = 4
		iters := 25000
		if testing.Short() {
			iters = 2000
		}
		f := tempFile(t)
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		ctxs := [2]*aio.Context{
			newContext(t, b, aio.Config{WaitWithoutPending: true}),
			newContext(t, b, aio.Config{WaitWithoutPending: true}),
		}
		var delivered atomic.Int64
		stop, waiters := make(chan struct{}), sync.WaitGroup{}
		for _, c := range ctxs {
			waiters.Add(1)
			go func() {
				defer waiters.Done()
				out := make([]*aio.Request, 16)
				for {
					n, err := c.Wait(context.Background(), 1, out)
					delivered.Add(int64(n))
					select {
					case <-stop:
						return
					default:
					}
					if err != nil && !errors.Is(err, aio.ErrInterrupted) {
						t.Errorf("Wait: %v", err)
						return
					}
				}
			}()
		}
		var accepted, twice atomic.Int64
		var work sync.WaitGroup
		deadline := time.Now().Add(4 * time.Second)
		for p := range pairs {
			work.Add(1)
			go func() {
				defer work.Done()
				r := aio.NewRequest()
				buf := make([]byte, 8)
				for i := 0; i < iters && time.Now().Before(deadline); i++ {
					if err := r.PrepareRead(f, int64(p*8), buf, nil); err != nil {
						t.Errorf("PrepareRead: %v", err)
						return
					}
					var got [2]int
					var race sync.WaitGroup
					for k, c := range ctxs {
						race.Add(1)
						go func() {
							defer race.Done()
							for r.State() == aio.Prepared {
								if n, _ := c.Submit(r); n == 1 {
									got[k] = 1
									return
								}
							}
						}()
					}
					race.Wait()
					accepted.Add(int64(got[0] + got[1]))
					if got[0]+got[1] > 1 {
						twice.Add(1)
					}
					for r.State() != aio.Completed {
						time.Sleep(10 * time.Microsecond)
					}
				}
			}()
		}
		work.Wait()
		for delivered.Load() < accepted.Load() && time.Now().Before(deadline.Add(hangTimeout)) {
			time.Sleep(time.Millisecond)
		}
		close(stop)
		for _, c := range ctxs {
			_ = c.Wakeup()
		}
		waiters.Wait()
		if n := twice.Load(); n > 0 {
			t.Errorf("%d requests were accepted by both contexts for one Prepare", n)
		}
		if a, d := accepted.Load(), delivered.Load(); a != d {
			t.Errorf("accepted %d, delivered %d", a, d)
		}
	})
}

// TestClosedFileIsNeverReached: a request prepared on a file that is then
// closed, its descriptor number taken by another open, is refused by
// Submit with an error matching os.ErrClosed and stays Prepared; the other
// file is not touched.
func TestClosedFileIsNeverReached(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		dir := t.TempDir()
		a, err := os.Create(dir + "/a")
		if err != nil {
			t.Fatal(err)
		}
		fdA := descriptor(t, a)
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareWrite(a, 0, []byte("meant for a"), nil))
		a.Close()
		other := openFile(t, dir+"/b", os.O_RDWR|os.O_CREATE)
		if _, err := other.Write([]byte("b's own data")); err != nil {
			t.Fatal(err)
		}
		if fdB := descriptor(t, other); fdB != fdA {
			t.Logf("descriptor %d not reused (got %d); the check still applies", fdA, fdB)
		}
		n, err := c.Submit(r)
		if n != 0 || !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Submit on a closed file = %d, %v; want 0 and an error matching os.ErrClosed", n, err)
		}
		if s := r.State(); s != aio.Prepared {
			t.Errorf("refused request is %v, want Prepared", s)
		}
		if got := readFile(t, dir+"/b"); string(got) != "b's own data" {
			t.Errorf("the other file holds %q", got)
		}
	})
}

func descriptor(t *testing.T, f *os.File) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(v uintptr) { fd = int(v) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestDroppedContextsAreReclaimed: idle contexts that become unreachable
// give back their descriptors, kernel contexts and goroutines.
func TestDroppedContextsAreReclaimed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		f := tempFile(t)
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		settle := func() {
			for range 5 {
				runtime.GC()
				time.Sleep(5 * time.Millisecond)
			}
		}
		settle()
		fds, gs := countFDs(t), runtime.NumGoroutine()
		func() {
			for range 16 {
				c, err := aio.NewContext(aio.Config{Backend: b})
				if err != nil {
					t.Fatal(err)
				}
				reqs := make([]*aio.Request, 8)
				for i := range reqs {
					reqs[i] = aio.NewRequest()
					mustPrepare(t, reqs[i].PrepareRead(f, int64(i*512), make([]byte, 512), nil))
				}
				if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
					t.Fatal(n, err)
				}
				out := make([]*aio.Request, len(reqs))
				if n, err := c.Wait(context.Background(), len(reqs), out); n != len(reqs) || err != nil {
					t.Fatal(n, err)
				}
			}
		}()
		var nowFDs, nowGs int
		for range 200 {
			settle()
			nowFDs, nowGs = countFDs(t), runtime.NumGoroutine()
			if nowFDs <= fds && nowGs <= gs {
				return
			}
		}
		t.Errorf("after dropping 16 idle contexts: %d descriptors (%d before), %d goroutines (%d before)", nowFDs, fds, nowGs, gs)
	})
}

package aio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/pin"
)

// Behaviour that holds for every backend runs against three: the fake
// kernel in auto mode (each queued job completes at once), the portable
// backend and the default backend of the build (Linux kernel AIO; FreeBSD's
// POSIX AIO, or over the model under -tags fbsdmodel) doing real I/O on a
// temporary file. Tests that need to script the kernel's answers use the
// fake directly.

type smEnv struct {
	name string
	open func(t *testing.T, cfg Config) *Context
}

var smEnvs = []smEnv{
	{"fake", func(t *testing.T, cfg Config) *Context {
		limit := cfg.MaxRequests
		if limit == 0 {
			limit = defaultMaxRequests
		}
		c, f := newFakeContext(t, cfg, 16, limit)
		f.auto = true
		return c
	}},
	{"portable", func(t *testing.T, cfg Config) *Context {
		cfg.Backend = PortableBackend
		c := smRealContext(t, cfg)
		if c.Kernel() != "portable" {
			t.Fatalf("PortableBackend context drives %q", c.Kernel())
		}
		return c
	}},
	{"default", func(t *testing.T, cfg Config) *Context {
		cfg.Backend = DefaultBackend
		return smRealContext(t, cfg)
	}},
	{"kernel", func(t *testing.T, cfg Config) *Context {
		cfg.Backend = KernelBackend
		if modelRefusesFiles() {
			t.Skip("every file is on a non-local mount (FBSDMODEL_NONLOCAL=1): KernelBackend fails every request with EOPNOTSUPP")
		}
		smSkipWithoutKernelAIO(t, cfg)
		return smRealContext(t, cfg)
	}},
}

// smSkipWithoutKernelAIO skips t where NewContext(cfg), a KernelBackend
// configuration, fails with ErrNotSupported: the system has no kernel AIO
// this package drives, or refuses it, and the "default" subtest runs on the
// portable fallback instead.
func smSkipWithoutKernelAIO(t *testing.T, cfg Config) {
	c, err := NewContext(cfg)
	switch {
	case err == nil:
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	case errors.Is(err, ErrNotSupported):
		t.Skipf("%v; the \"default\" subtest runs on the portable fallback", err)
	}
}

func smRealContext(t *testing.T, cfg Config) *Context {
	smCheckPins(t)
	c, err := NewContext(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && err != ErrClosed {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return c
}

func smForEachEnv(t *testing.T, fn func(t *testing.T, e smEnv)) {
	for _, e := range smEnvs {
		t.Run(e.name, func(t *testing.T) { fn(t, e) })
	}
}

// smLongCtx bounds a Wait that is expected to return, so a bug fails the test
// instead of hanging it.
func smLongCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// smUntilWaiting returns once a goroutine is inside c.Wait.
func smUntilWaiting(t testing.TB, c *Context) {
	deadline := time.Now().Add(time.Minute)
	for {
		c.mu.Lock()
		w := c.waiting
		c.mu.Unlock()
		if w {
			return
		}
		if time.Now().After(deadline) {
			panic("no goroutine entered Wait")
		}
		runtime.Gosched()
	}
}

func smPrepared(t testing.TB, file *os.File, n int) []*Request {
	t.Helper()
	reqs := make([]*Request, n)
	for i := range reqs {
		reqs[i] = NewRequest()
		if err := reqs[i].PrepareRead(file, int64(i%64), make([]byte, 8), i); err != nil {
			t.Fatal(err)
		}
	}
	return reqs
}

func smStates(reqs []*Request) map[State]int {
	m := map[State]int{}
	for _, r := range reqs {
		m[r.State()]++
	}
	return m
}

// --- Behaviour common to every backend -------------------------------------

func TestLifecycle(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 4096)
		c := e.open(t, Config{})
		r := NewRequest()
		if r.State() != Idle {
			t.Fatalf("new request is %v", r.State())
		}
		buf := make([]byte, 100)
		if err := r.PrepareRead(file, 1000, buf, "u"); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Submit(r); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		if r.State() != Submitted {
			t.Errorf("state %v after Submit", r.State())
		}
		if _, err := r.Result(); err != ErrInProgress {
			t.Errorf("Result in flight = %v", err)
		}
		out := make([]*Request, 4)
		n, err := c.Wait(smLongCtx(t), 1, out)
		if n != 1 || err != nil || out[0] != r {
			t.Fatalf("Wait = %d, %v", n, err)
		}
		if got, err := r.Result(); got != 100 || err != nil {
			t.Errorf("Result = %d, %v", got, err)
		}
		if e.name == "portable" && string(buf) != string(smPattern(1000, 100)) {
			t.Errorf("read the wrong bytes")
		}
		if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != ErrNoRequests {
			t.Errorf("Wait with nothing in flight = %d, %v; want ErrNoRequests", n, err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

func TestSubmitRefused(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		c := e.open(t, Config{})
		other := e.open(t, Config{})
		completed := smPrepared(t, file, 1)[0]
		c.Submit(completed)
		smWaitN(t, c, 1)
		submitted := smPrepared(t, file, 1)[0]
		if _, err := c.Submit(submitted); err != nil {
			t.Fatal(err)
		}
		elsewhere := smPrepared(t, file, 1)[0]
		if _, err := other.Submit(elsewhere); err != nil {
			t.Fatal(err)
		}
		ok := smPrepared(t, file, 2)
		for _, tc := range []struct {
			name string
			reqs []*Request
			want error
		}{
			{"nil", []*Request{nil}, ErrInvalidState},
			{"idle", []*Request{NewRequest()}, ErrInvalidState},
			{"completed", []*Request{completed}, ErrInvalidState},
			{"submitted", []*Request{submitted}, ErrInProgress},
			{"submitted-elsewhere", []*Request{elsewhere}, ErrInProgress},
			{"duplicate", []*Request{ok[0], ok[1], ok[0]}, ErrInvalidState},
			{"valid-then-nil", []*Request{ok[0], ok[1], nil}, ErrInvalidState},
			{"valid-then-idle", []*Request{ok[0], NewRequest(), ok[1]}, ErrInvalidState},
			{"valid-then-submitted", []*Request{ok[0], submitted}, ErrInProgress},
		} {
			var before []smReqSnap
			for _, r := range tc.reqs {
				if r != nil {
					before = append(before, smSnapshot(r))
				}
			}
			fl := smInflight(c)
			n, err := c.Submit(tc.reqs...)
			if n != 0 || !errors.Is(err, tc.want) {
				t.Errorf("%s: Submit = %d, %v; want 0, %v", tc.name, n, err, tc.want)
			}
			i := 0
			for _, r := range tc.reqs {
				if r != nil {
					smSameSnap(t, tc.name+": a refused Submit", before[i], smSnapshot(r))
					i++
				}
			}
			if got := smInflight(c); got != fl {
				t.Errorf("%s: in flight %d -> %d", tc.name, fl, got)
			}
		}
		// The valid requests of the refused calls were left unclaimed.
		if n, err := other.Submit(ok...); n != 2 || err != nil {
			t.Errorf("Submit of requests from refused calls = %d, %v", n, err)
		}
		smWaitN(t, c, 1)
		smWaitN(t, other, 3)
	})
}

// TestSubmitRace submits one request to two contexts at once, many times:
// exactly one accepts it.
func TestSubmitRace(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		a, b := e.open(t, Config{}), e.open(t, Config{})
		r := NewRequest()
		for range 500 {
			r.PrepareRead(file, 0, make([]byte, 4), nil)
			var na, nb int
			var ea, eb error
			var wg sync.WaitGroup
			wg.Go(func() { na, ea = a.Submit(r) })
			wg.Go(func() { nb, eb = b.Submit(r) })
			wg.Wait()
			if na+nb != 1 {
				t.Fatalf("accepted by %d contexts", na+nb)
			}
			// The loser finds the request in the winner's hands, however
			// close the race: ErrInProgress.
			if lost := cmp.Or(ea, eb); !errors.Is(lost, ErrInProgress) {
				t.Fatalf("the losing Submit = %v, want ErrInProgress", lost)
			}
			if na == 1 {
				smWaitN(t, a, 1)
			} else {
				smWaitN(t, b, 1)
			}
		}
	})
}

func TestMaxRequestsAgain(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		c := e.open(t, Config{MaxRequests: 4})
		if c.MaxRequests() != 4 {
			t.Fatalf("MaxRequests() = %d", c.MaxRequests())
		}
		reqs := smPrepared(t, file, 6)
		n, err := c.Submit(reqs...)
		if n != 4 || !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("Submit = %d, %v; want 4, ErrAgain", n, err)
		}
		for i, r := range reqs {
			want := Submitted
			if i >= 4 {
				want = Prepared
			}
			if r.State() != want {
				t.Errorf("request %d is %v, want %v", i, r.State(), want)
			}
		}
		if n, err := c.Submit(reqs[4]); n != 0 || !errors.Is(err, ErrAgain) {
			t.Errorf("Submit at the bound = %d, %v", n, err)
		}
		if reqs[4].State() != Prepared || reqs[4].ownerCtx() != nil {
			t.Errorf("a request refused with ErrAgain is %v, owned %v", reqs[4].State(), reqs[4].ownerCtx() != nil)
		}
		smWaitN(t, c, 2)
		if n, err := c.Submit(reqs[4:]...); n != 2 || err != nil {
			t.Errorf("resubmit after completions = %d, %v", n, err)
		}
		smWaitN(t, c, 4)
	})
}

func TestWakeupBeforeWait(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{})
		out := make([]*Request, 4)
		// Nothing in flight: a pending Wakeup still wins over ErrNoRequests.
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
		c.Wakeup() // coalesces
		if n, err := c.Wait(smLongCtx(t), 1, out); n != 0 || err != ErrInterrupted {
			t.Errorf("Wait after Wakeup = %d, %v; want ErrInterrupted", n, err)
		}
		if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != ErrNoRequests {
			t.Errorf("second Wait = %d, %v; want ErrNoRequests (the wakeup was reported)", n, err)
		}
		// With a completion ready, the wakeup is still reported, with it.
		file := smFile(t, 64)
		r := smPrepared(t, file, 1)[0]
		c.Submit(r)
		c.Wakeup()
		n, err := c.Wait(smLongCtx(t), 0, out)
		if err != ErrInterrupted {
			t.Errorf("Wait = %d, %v; want ErrInterrupted", n, err)
		}
		if n == 0 {
			smWaitN(t, c, 1)
		}
	})
}

// smWaitInBackground starts Wait(ctx, 1, ...) in a goroutine and returns
// once that goroutine is inside Wait; the channel receives Wait's error.
func smWaitInBackground(t *testing.T, c *Context, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, 1, make([]*Request, 1))
		done <- err
	}()
	smUntilWaiting(t, c)
	return done
}

func TestWakeupDuringWait(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{WaitWithoutPending: true})
		done := smWaitInBackground(t, c, smLongCtx(t))
		if err := c.Close(); err != ErrBusy {
			t.Errorf("Close with a waiter = %v, want ErrBusy", err)
		}
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != ErrInterrupted {
			t.Errorf("Wait = %v, want ErrInterrupted", err)
		}
		if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || err != nil {
			t.Errorf("poll after the reported wakeup = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestWakeupLoop alternates a Wakeup before Wait and one during Wait 10,000
// times: every Wait is interrupted, and no interruption is left over.
func TestWakeupLoop(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{WaitWithoutPending: true})
		out := make([]*Request, 1)
		ctx := smLongCtx(t)
		for i := range 10000 {
			var wg sync.WaitGroup
			if i%2 == 0 {
				if err := c.Wakeup(); err != nil {
					t.Fatal(err)
				}
			} else {
				wg.Go(func() {
					smUntilWaiting(t, c)
					c.Wakeup()
				})
			}
			n, err := c.Wait(ctx, 1, out)
			wg.Wait()
			if n != 0 || err != ErrInterrupted {
				t.Fatalf("round %d: Wait = %d, %v; want ErrInterrupted", i, n, err)
			}
			if i%100 == 0 {
				if n, err := c.Wait(ctx, 0, out); n != 0 || err != nil {
					t.Fatalf("round %d: poll = %d, %v; want no spurious interruption", i, n, err)
				}
			}
		}
		if n, err := c.Wait(ctx, 0, out); n != 0 || err != nil {
			t.Fatalf("final poll = %d, %v", n, err)
		}
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if n, err := c.Wait(short, 1, out); n != 0 || err != context.DeadlineExceeded {
			t.Fatalf("final Wait = %d, %v; want DeadlineExceeded", n, err)
		}
	})
}

func TestWaitDeadlinePartial(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		c := e.open(t, Config{WaitWithoutPending: true})
		reqs := smPrepared(t, file, 3)
		if n, err := c.Submit(reqs...); n != 3 || err != nil {
			t.Fatal(n, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		out := make([]*Request, 5)
		n, err := c.Wait(ctx, 5, out)
		if err != context.DeadlineExceeded {
			t.Fatalf("Wait = %d, %v; want DeadlineExceeded", n, err)
		}
		if n > 3 || e.name == "fake" && n != 3 {
			t.Errorf("Wait returned %d of 3 completed", n)
		}
		for _, r := range out[:n] {
			if r.State() != Completed {
				t.Errorf("returned request is %v", r.State())
			}
		}
		smWaitN(t, c, 3-n)
	})
}

func TestWaitContextCancel(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{WaitWithoutPending: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := smWaitInBackground(t, c, ctx)
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("Wait = %v, want context.Canceled", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("canceling the context did not end Wait")
		}
		// A context already done: Wait returns at once.
		if _, err := c.Wait(ctx, 1, make([]*Request, 1)); err != context.Canceled {
			t.Errorf("Wait with a done context = %v", err)
		}
		if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || err != nil {
			t.Errorf("poll afterwards = %d, %v", n, err)
		}
	})
}

// TestManyRequests pushes 10,000 requests through a context bounded to 512,
// resubmitting after ErrAgain, with Waits of random min and size; each
// request comes back exactly once.
func TestManyRequests(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		const total = 10000
		file := smFile(t, 4096)
		c := e.open(t, Config{MaxRequests: 512})
		rng := rand.New(rand.NewPCG(1, 2))
		reqs := make([]*Request, total)
		bufs := make([][]byte, total)
		for i := range reqs {
			reqs[i] = NewRequest()
			bufs[i] = make([]byte, 1+i%16)
			reqs[i].PrepareRead(file, int64(i%4000), bufs[i], i)
		}
		seen := make([]int, total)
		out := make([]*Request, 200)
		next, done := 0, 0
		ctx := smLongCtx(t)
		for done < total {
			if next < total {
				k := min(total-next, 1+rng.IntN(300))
				n, err := c.Submit(reqs[next : next+k]...)
				if err != nil && !errors.Is(err, ErrAgain) {
					t.Fatalf("Submit: %v", err)
				}
				if err == nil && n != k {
					t.Fatalf("Submit accepted %d of %d without an error", n, k)
				}
				for _, r := range reqs[next : next+n] {
					if r.State() != Submitted {
						t.Fatalf("accepted requests are not a prefix")
					}
				}
				next += n
			}
			fl := smInflight(c)
			if fl == 0 {
				continue
			}
			size := 1 + rng.IntN(len(out))
			m := rng.IntN(min(size, fl) + 1)
			n, err := c.Wait(ctx, m, out[:size])
			if err != nil {
				t.Fatalf("Wait(min %d, %d in flight) = %d, %v", m, fl, n, err)
			}
			if n < m {
				t.Fatalf("Wait(min %d) returned %d", m, n)
			}
			for _, r := range out[:n] {
				i := r.User().(int)
				seen[i]++
				if got, err := r.Result(); err != nil || got != len(bufs[i]) {
					t.Fatalf("request %d: Result = %d, %v", i, got, err)
				}
				if e.name == "portable" && string(bufs[i]) != string(smPattern(int64(i%4000), len(bufs[i]))) {
					t.Fatalf("request %d read the wrong bytes", i)
				}
			}
			done += n
		}
		for i, k := range seen {
			if k != 1 {
				t.Fatalf("request %d delivered %d times", i, k)
			}
		}
	})
}

// TestWaitMinAbove64 waits for more than one kernel call can bring back.
func TestWaitMinAbove64(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		c := e.open(t, Config{MaxRequests: 1024})
		// FreeBSD clamps MaxRequests to vfs.aio.max_aio_queue_per_proc.
		total := min(1000, c.MaxRequests())
		atLeast := total * 7 / 10
		reqs := smPrepared(t, file, total)
		if n, err := c.Submit(reqs...); n != total || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		out := make([]*Request, total)
		n, err := c.Wait(smLongCtx(t), atLeast, out)
		if err != nil || n < atLeast {
			t.Fatalf("Wait(min %d) = %d, %v", atLeast, n, err)
		}
		seen := map[*Request]bool{}
		for _, r := range out[:n] {
			seen[r] = true
		}
		for _, r := range smWaitN(t, c, total-n) {
			if seen[r] {
				t.Fatalf("request delivered twice")
			}
			seen[r] = true
		}
		if len(seen) != total {
			t.Fatalf("%d distinct requests delivered", len(seen))
		}
	})
}

func TestCloseBusyAndClosed(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 64)
		c := e.open(t, Config{MaxRequests: 8})
		reqs := smPrepared(t, file, 3)
		c.Submit(reqs[:2]...)
		for range 3 {
			if err := c.Close(); err != ErrBusy {
				t.Fatalf("Close with requests in flight = %v, want ErrBusy", err)
			}
		}
		// Nothing changed: the context keeps working.
		if c.MaxRequests() != 8 || smInflight(c) != 2 {
			t.Errorf("after a refused Close: max %d, in flight %d", c.MaxRequests(), smInflight(c))
		}
		if n, err := c.Submit(reqs[2]); n != 1 || err != nil {
			t.Errorf("Submit after a refused Close = %d, %v", n, err)
		}
		smWaitN(t, c, 3)
		if err := c.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		reqs[0].PrepareRead(file, 0, make([]byte, 4), "again")
		before := smSnapshot(reqs[0])
		if n, err := c.Submit(reqs[0]); n != 0 || err != ErrClosed {
			t.Errorf("Submit after Close = %d, %v", n, err)
		}
		smSameSnap(t, "Submit on a closed context", before, smSnapshot(reqs[0]))
		if err := reqs[0].Cancel(); err != ErrNotSubmitted {
			t.Errorf("Cancel of the refused request = %v", err)
		}
		if _, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); err != ErrClosed {
			t.Errorf("Wait after Close = %v", err)
		}
		if err := c.Wakeup(); err != ErrClosed {
			t.Errorf("Wakeup after Close = %v", err)
		}
		if err := c.Close(); err != ErrClosed {
			t.Errorf("second Close = %v", err)
		}
		// The request is free to go to another context.
		d := e.open(t, Config{})
		if n, err := d.Submit(reqs[0]); n != 1 || err != nil {
			t.Errorf("Submit elsewhere = %d, %v", n, err)
		}
		smWaitN(t, d, 1)
	})
}

func TestSecondWaiterBusy(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{WaitWithoutPending: true})
		done := smWaitInBackground(t, c, smLongCtx(t))
		for range 3 {
			if _, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); err != ErrBusy {
				t.Errorf("second Wait = %v, want ErrBusy", err)
			}
		}
		c.Wakeup()
		if err := <-done; err != ErrInterrupted {
			t.Errorf("first Wait = %v", err)
		}
	})
}

func TestRequestReuse(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 256)
		c := e.open(t, Config{})
		r := NewRequest()
		buf := make([]byte, 16)
		for i := range 200 {
			off := int64(i % 200)
			var err error
			if i%2 == 0 {
				err = r.PrepareWrite(file, off, smPattern(off, 16), i)
			} else {
				clear(buf)
				err = r.PrepareRead(file, off, buf, i)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Fatalf("round %d: Submit = %d, %v", i, n, err)
			}
			smWaitN(t, c, 1)
			if n, err := r.Result(); n != 16 || err != nil {
				t.Fatalf("round %d: Result = %d, %v", i, n, err)
			}
			if r.User() != i {
				t.Fatalf("round %d: User = %v", i, r.User())
			}
			if e.name == "portable" && i%2 == 1 && string(buf) != string(smPattern(off, 16)) {
				t.Fatalf("round %d: read back the wrong bytes", i)
			}
		}
	})
}

// TestConcurrentSubmitters has eight goroutines submitting (and reusing)
// their own requests while one goroutine waits and hands each completed
// request back to its owner.
func TestConcurrentSubmitters(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		const (
			workers = 8
			perW    = 4
			rounds  = 150
		)
		file := smFile(t, 4096)
		c := e.open(t, Config{WaitWithoutPending: true, MaxRequests: workers * perW})
		type tag struct{ w, i int }
		back := make([]chan *Request, workers)
		for i := range back {
			back[i] = make(chan *Request, perW)
		}
		delivered := make([]int, workers*perW)
		waiterErr := make(chan error, 1)
		go func() {
			out := make([]*Request, 16)
			ctx := smLongCtx(t)
			for got := 0; got < workers*perW*rounds; {
				n, err := c.Wait(ctx, 1, out)
				if err != nil {
					waiterErr <- err
					return
				}
				for _, r := range out[:n] {
					tg := r.User().(*tag)
					delivered[tg.w*perW+tg.i]++
					back[tg.w] <- r
				}
				got += n
			}
			waiterErr <- nil
		}()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				reqs := make([]*Request, perW)
				tags := make([]*tag, perW)
				for i := range reqs {
					reqs[i], tags[i] = NewRequest(), &tag{w: w, i: i}
				}
				buf := make([][]byte, perW)
				for i := range buf {
					buf[i] = make([]byte, 32)
				}
				for round := range rounds {
					for i, r := range reqs {
						off := int64((w*perW+i)*64 + round%8)
						if err := r.PrepareRead(file, off, buf[i], tags[i]); err != nil {
							errs <- err
							return
						}
					}
					// Submit one by one and all together, alternately.
					if round%2 == 0 {
						if n, err := c.Submit(reqs...); n != perW || err != nil {
							errs <- fmt.Errorf("Submit = %d, %v", n, err)
							return
						}
					} else {
						for _, r := range reqs {
							if n, err := c.Submit(r); n != 1 || err != nil {
								errs <- fmt.Errorf("Submit = %d, %v", n, err)
								return
							}
						}
					}
					for range perW {
						r := <-back[w]
						if n, err := r.Result(); n != 32 || err != nil {
							errs <- fmt.Errorf("Result = %d, %v", n, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			c.Wakeup()
		}
		if err := <-waiterErr; err != nil {
			t.Fatalf("waiter: %v", err)
		}
		for i, k := range delivered {
			if k != rounds {
				t.Errorf("request %d delivered %d times, submitted %d", i, k, rounds)
			}
		}
	})
}

// TestCompletedIsOwnedByNobody: once another goroutine sees a request
// Completed, the caller owns it and may prepare and submit it anywhere at
// once. Wait used to publish Completed before releasing the request, so in
// that window a Submit to another context was refused with ErrInvalidState.
func TestCompletedIsOwnedByNobody(t *testing.T) {
	file := smFile(t, 64)
	a, fa := newFakeContext(t, Config{}, 4, 4)
	b, fb := newFakeContext(t, Config{}, 4, 4)
	fa.auto, fb.auto = true, true
	r := NewRequest()
	out := make([]*Request, 1)
	ctx := smLongCtx(t)
	owned, refused := 0, 0
	for i := range 20000 {
		r.PrepareRead(file, 0, nil, nil)
		if n, err := a.Submit(r); n != 1 || err != nil {
			t.Fatal(i, n, err)
		}
		done := make(chan error, 1)
		go func() {
			for r.State() != Completed {
			}
			if r.ownerCtx() != nil {
				done <- ErrInvalidState
				return
			}
			if i%2 == 0 {
				done <- nil
				return
			}
			r.PrepareRead(file, 0, nil, nil)
			_, err := b.Submit(r)
			done <- err
		}()
		if n, err := a.Wait(ctx, 1, out); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		switch err := <-done; {
		case err == ErrInvalidState:
			owned++
		case err != nil:
			refused++
		case i%2 == 1:
			if n, err := b.Wait(ctx, 1, out); n != 1 || err != nil {
				t.Fatal(n, err)
			}
		}
		if r.State() == Submitted {
			b.Wait(ctx, 1, out)
		}
	}
	if owned+refused > 0 {
		t.Errorf("a request seen Completed was still owned %d times; Submit refused it %d times", owned, refused)
	}
}

// TestCancelExactlyOnce cancels every request of a batch: whatever the
// kernel answers, each comes back once, and the answer matches the result.
func TestCancelExactlyOnce(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		file := smFile(t, 4096)
		c := e.open(t, Config{MaxRequests: 512})
		total := min(500, c.MaxRequests())
		reqs := smPrepared(t, file, total)
		if n, err := c.Submit(reqs...); n != total || err != nil {
			t.Fatal(n, err)
		}
		answers := map[*Request]error{}
		for _, r := range reqs {
			err := r.Cancel()
			switch err {
			case nil, ErrInProgress, ErrAlreadyCompleted:
			default:
				t.Fatalf("Cancel = %v", err)
			}
			answers[r] = err
		}
		seen := map[*Request]bool{}
		for _, r := range smWaitN(t, c, total) {
			if seen[r] {
				t.Fatal("delivered twice")
			}
			seen[r] = true
			_, err := r.Result()
			if answers[r] == nil && err != ErrCanceled || answers[r] != nil && err != nil {
				t.Errorf("Cancel answered %v, Result %v", answers[r], err)
			}
			if err := r.Cancel(); err != ErrAlreadyCompleted {
				t.Errorf("Cancel after completion = %v", err)
			}
		}
		if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || err != ErrNoRequests {
			t.Errorf("Wait afterwards = %d, %v", n, err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

func TestWaitArguments(t *testing.T) {
	smForEachEnv(t, func(t *testing.T, e smEnv) {
		c := e.open(t, Config{})
		out := make([]*Request, 2)
		for _, m := range []int{-1, 3} {
			if _, err := c.Wait(smLongCtx(t), m, out); !errors.Is(err, os.ErrInvalid) {
				t.Errorf("Wait(min %d, len 2) = %v", m, err)
			}
		}
		//lint:ignore SA1012 a nil context is documented to mean Background
		if _, err := c.Wait(nil, 0, out); err != ErrNoRequests {
			t.Errorf("Wait(nil ctx) = %v", err)
		}
		if n, err := c.Submit(); n != 0 || err != nil {
			t.Errorf("empty Submit = %d, %v", n, err)
		}
		// With requests in flight and no room in out, a poll returns at once.
		r := smPrepared(t, smFile(t, 64), 1)[0]
		c.Submit(r)
		if n, err := c.Wait(smLongCtx(t), 0, out[:0]); n != 0 || err != nil {
			t.Errorf("Wait(min 0, no room) = %d, %v", n, err)
		}
		if r.State() != Submitted {
			t.Errorf("request is %v", r.State())
		}
		smWaitN(t, c, 1)
	})
}

// --- The portable backend on its own ---------------------------------------

func TestPortableOperations(t *testing.T) {
	file := smFile(t, 0)
	c := smEnvs[1].open(t, Config{})
	w, rd, fl, ds := NewRequest(), NewRequest(), NewRequest(), NewRequest()
	data := smPattern(0, 3000)
	if err := w.PrepareWritev(file, 0, [][]byte{data[:1000], nil, data[1000:]}, nil); err != nil {
		t.Fatal(err)
	}
	c.Submit(w)
	smWaitN(t, c, 1)
	if n, err := w.Result(); n != 3000 || err != nil {
		t.Fatalf("writev = %d, %v", n, err)
	}
	fl.PrepareFlush(file, nil)
	ds.PrepareDataSync(file, nil)
	a, b := make([]byte, 500), make([]byte, 4000)
	rd.PrepareReadv(file, 100, [][]byte{a, b}, nil)
	c.Submit(fl, ds, rd)
	smWaitN(t, c, 3)
	for _, r := range []*Request{fl, ds} {
		if n, err := r.Result(); n != 0 || err != nil {
			t.Errorf("sync = %d, %v", n, err)
		}
	}
	if n, err := rd.Result(); n != 2900 || err != nil {
		t.Errorf("readv to EOF = %d, %v; want 2900, nil", n, err)
	}
	if string(a) != string(data[100:600]) || string(b[:2400]) != string(data[600:]) {
		t.Errorf("readv read the wrong bytes")
	}
}

// TestPortableKernelErrors: the access mode is judged when the request
// runs, and the errno comes back through Result.
func TestPortableKernelErrors(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		t.Skip("the access-mode errno is EBADF on Unix only")
	}
	file := smFile(t, 64)
	wo, err := os.OpenFile(file.Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	ro, err := os.Open(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c := smEnvs[1].open(t, Config{})
	r1, r2 := NewRequest(), NewRequest()
	r1.PrepareRead(wo, 0, make([]byte, 8), nil)
	r2.PrepareWrite(ro, 0, make([]byte, 8), nil)
	if n, err := c.Submit(r1, r2); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	smWaitN(t, c, 2)
	for _, r := range []*Request{r1, r2} {
		n, err := r.Result()
		var pe *os.PathError
		if n != 0 || !errors.Is(err, syscall.EBADF) || !errors.As(err, &pe) || pe.Path != file.Name() {
			t.Errorf("Result = %d, %v; want EBADF naming the file", n, err)
		}
	}
}

func TestPortableLimit(t *testing.T) {
	smCheckPins(t)
	if _, err := NewContext(Config{MaxRequests: -1, Backend: PortableBackend}); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("negative MaxRequests: %v", err)
	}
	if _, err := NewContext(Config{Backend: Backend(7)}); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("unknown backend: %v", err)
	}
	for _, tc := range []struct{ ask, want int }{{0, defaultMaxRequests}, {3, 3}, {1 << 20, 1 << 16}} {
		c, err := NewContext(Config{MaxRequests: tc.ask, Backend: PortableBackend})
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxRequests() != tc.want {
			t.Errorf("MaxRequests(%d) = %d, want %d", tc.ask, c.MaxRequests(), tc.want)
		}
		c.Close()
	}
}

// TestPortableCancel runs the portable backend without workers until the
// cancels are in, so that each answer is deterministic: a queued job is
// canceled and still completes (with ErrCanceled), a finished one is
// already done.
func TestPortableCancel(t *testing.T) {
	smCheckPins(t)
	file := smFile(t, 4096)
	const limit = 8
	b := newGoroutineEngine(limit, 1)
	b.maxWorkers = 0 // no worker starts until the cancels are in
	c := newContext(Config{}, b, limit)
	reqs := smPrepared(t, file, 4)
	if n, err := c.Submit(reqs...); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	for _, r := range reqs[:2] {
		if err := r.Cancel(); err != nil {
			t.Fatalf("Cancel of a queued job = %v", err)
		}
	}
	b.mu.Lock()
	b.maxWorkers, b.workers = 1, 1
	b.mu.Unlock()
	b.quit.Add(1)
	go b.work()
	for {
		b.dmu.Lock()
		k := len(b.done)
		b.dmu.Unlock()
		if k == 4 {
			break
		}
		runtime.Gosched()
	}
	if err := reqs[2].Cancel(); err != ErrAlreadyCompleted {
		t.Errorf("Cancel of a finished job = %v", err)
	}
	smWaitN(t, c, 4)
	for i, r := range reqs {
		n, err := r.Result()
		if i < 2 && (n != 0 || err != ErrCanceled) || i >= 2 && (n != 8 || err != nil) {
			t.Errorf("request %d: Result = %d, %v", i, n, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// --- The state machine over the scripted kernel ----------------------------

func TestSubmitSplitsBatches(t *testing.T) {
	for _, tc := range []struct {
		batch, n int
		want     []int
	}{
		{3, 10, []int{3, 3, 3, 1}},
		{16, 16, []int{16}},
		{16, 17, []int{16, 1}},
		{1, 4, []int{1, 1, 1, 1}},
		{64, 200, []int{64, 64, 64, 8}},
	} {
		t.Run(fmt.Sprint(tc.batch, "/", tc.n), func(t *testing.T) {
			file := smFile(t, 64)
			c, f := newFakeContext(t, Config{}, tc.batch, 256)
			f.logging = true
			reqs := smPrepared(t, file, tc.n)
			if n, err := c.Submit(reqs...); n != tc.n || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			if fmt.Sprint(f.batches) != fmt.Sprint(tc.want) {
				t.Errorf("batches %v, want %v", f.batches, tc.want)
			}
			for i, r := range f.seen {
				if r != reqs[i] {
					t.Fatalf("the backend saw the requests out of order")
				}
			}
			f.completeAll()
			smWaitN(t, c, tc.n)
		})
	}
}

// TestSubmitAgainMidBatch: the kernel runs out of room in the middle of a
// batch; that request and everything after it stay Prepared.
func TestSubmitAgainMidBatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		batch    int
		limit    int
		capacity int
		script   []syscall.Errno
		n        int
		accepted int
		offered  int // requests the backend saw
	}{
		{"kernel-full-in-2nd-chunk", 4, 64, 6, nil, 10, 6, 8},
		{"kernel-full-at-chunk-edge", 4, 64, 8, nil, 10, 8, 10},
		{"kernel-full-at-once", 4, 64, 0, []syscall.Errno{syscall.EAGAIN, syscall.EAGAIN, syscall.EAGAIN, syscall.EAGAIN}, 10, 0, 4},
		{"bound-mid-chunk", 4, 6, 0, nil, 10, 6, 6},
		{"again-then-queued-in-same-chunk", 8, 64, 0, []syscall.Errno{0, 0, syscall.EAGAIN, 0, 0, 0, 0, 0}, 12, 7, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := smFile(t, 64)
			c, f := newFakeContext(t, Config{}, tc.batch, tc.limit)
			f.logging = true
			f.capacity = tc.capacity
			f.script = tc.script
			reqs := smPrepared(t, file, tc.n)
			n, err := c.Submit(reqs...)
			if n != tc.accepted {
				t.Errorf("accepted %d, want %d", n, tc.accepted)
			}
			if !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
				t.Errorf("err = %v, want ErrAgain", err)
			}
			if len(f.seen) != tc.offered {
				t.Errorf("backend saw %d requests, want %d", len(f.seen), tc.offered)
			}
			st := smStates(reqs)
			if st[Submitted] != n || st[Prepared] != tc.n-n {
				t.Errorf("states %v after accepting %d", st, n)
			}
			if got := smInflight(c); got != n {
				t.Errorf("in flight %d, want %d", got, n)
			}
			var again []*Request
			for _, r := range reqs {
				if r.State() == Prepared {
					if r.ownerCtx() != nil {
						t.Errorf("a refused request is still owned")
					}
					if _, err := r.Result(); err != ErrNotSubmitted {
						t.Errorf("Result of a refused request = %v", err)
					}
					again = append(again, r)
				}
			}
			if want := n * 2; pin.Live() != int64(want) {
				t.Errorf("%d pins live for %d queued requests, want %d", pin.Live(), n, want)
			}
			f.completeAll()
			smWaitN(t, c, n)
			f.capacity, f.script = 0, nil
			if k, err := c.Submit(again...); k != len(again) || err != nil {
				t.Errorf("resubmit = %d, %v", k, err)
			}
			f.completeAll()
			smWaitN(t, c, len(again))
		})
	}
}

// TestSubmitRejected: the kernel refuses a request at submission; Submit
// accepts it (it is in flight) and Wait returns it once, with the errno,
// without asking the backend to finish it.
func TestSubmitRejected(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EBADF, syscall.EINVAL, syscall.EOPNOTSUPP, syscall.EFAULT, syscall.EIO} {
		t.Run(errno.Error(), func(t *testing.T) {
			file := smFile(t, 64)
			c, f := newFakeContext(t, Config{}, 4, 16)
			f.script = []syscall.Errno{0, errno, 0}
			reqs := smPrepared(t, file, 3)
			if n, err := c.Submit(reqs...); n != 3 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			if reqs[1].State() != Submitted {
				t.Errorf("rejected request is %v, want Submitted until Wait", reqs[1].State())
			}
			if pin.Live() != 4 {
				t.Errorf("%d pins live, want 4 (the rejected request's released)", pin.Live())
			}
			if err := c.Close(); err != ErrBusy {
				t.Errorf("Close = %v", err)
			}
			out := make([]*Request, 3)
			n, err := c.Wait(smLongCtx(t), 0, out)
			if n != 1 || err != nil || out[0] != reqs[1] {
				t.Fatalf("poll = %d, %v; want the rejected request", n, err)
			}
			got, rerr := reqs[1].Result()
			var pe *os.PathError
			if got != 0 || !errors.Is(rerr, errno) || !errors.As(rerr, &pe) || pe.Path != file.Name() {
				t.Errorf("Result = %d, %v; want %v naming the file", got, rerr, errno)
			}
			f.completeOK(reqs[0], reqs[2])
			smWaitN(t, c, 2)
			if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != ErrNoRequests {
				t.Errorf("Wait after all = %d, %v", n, err)
			}
			if q, fin, rej, _ := f.counts(); q != 2 || fin != 2 || rej != 1 {
				t.Errorf("queued %d finished %d rejected %d", q, fin, rej)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
		})
	}
}

// TestCompletionErrors: a job that fails in the kernel reports its errno.
func TestCompletionErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EIO, syscall.EBADF, syscall.ENOSPC, syscall.EFAULT, syscall.EINVAL} {
		t.Run(errno.Error(), func(t *testing.T) {
			file := smFile(t, 64)
			c, f := newFakeContext(t, Config{}, 4, 16)
			r := smPrepared(t, file, 1)[0]
			c.Submit(r)
			f.complete(r, 0, errno)
			smWaitN(t, c, 1)
			if n, err := r.Result(); n != 0 || !errors.Is(err, errno) {
				t.Errorf("Result = %d, %v; want %v", n, err, errno)
			}
		})
	}
}

// TestStaleEventsIgnored feeds the state machine events that do not belong
// to any current submission.
func TestStaleEventsIgnored(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 4)
	r := smPrepared(t, file, 1)[0]
	c.Submit(r)
	old := f.current(r)
	f.completeOK(r)
	f.completeOK(r) // a duplicate, in the same harvest
	out := make([]*Request, 4)
	if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != ErrNoRequests {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	// The same request, submitted again, gets the same slot and a new
	// generation.
	r.PrepareRead(file, 0, make([]byte, 8), nil)
	c.Submit(r)
	cur := f.current(r)
	if cur.slot != old.slot || cur.gen == old.gen {
		t.Fatalf("slot %d gen %d after slot %d gen %d", cur.slot, cur.gen, old.slot, old.gen)
	}
	forged := []event{
		old, // a stale duplicate of the previous submission
		{slot: cur.slot, gen: cur.gen - 1, ident: cur.ident}, // wrong generation
		{slot: cur.slot, gen: cur.gen + 1, ident: cur.ident}, // a generation from nowhere
		{slot: cur.slot, gen: cur.gen, ident: cur.ident + 1}, // not this job (wrong ident)
		{slot: 3, gen: 0},          // a free slot
		{slot: 4, gen: cur.gen},    // out of range
		{slot: ^uint32(0), gen: 0}, // far out of range
	}
	for _, ev := range forged {
		f.post(ev)
	}
	for range 3 {
		if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != nil {
			t.Fatalf("Wait over forged events = %d, %v", n, err)
		}
	}
	if r.State() != Submitted || f.pending() != 0 {
		t.Fatalf("state %v, %d events left", r.State(), f.pending())
	}
	f.complete(r, 5, 0)
	if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if n, err := r.Result(); n != 5 || err != nil {
		t.Errorf("Result = %d, %v", n, err)
	}
}

// TestCancelLateCompletion: the kernel cancels, then the job's completion
// arrives (and arrives again): the request is returned and counted once.
func TestCancelLateCompletion(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	reqs := smPrepared(t, file, 3)
	c.Submit(reqs...)
	for _, r := range reqs {
		if err := r.Cancel(); err != nil {
			t.Fatalf("Cancel = %v", err)
		}
	}
	if got := smInflight(c); got != 3 {
		t.Fatalf("in flight %d after Cancel, want 3", got)
	}
	if err := c.Close(); err != ErrBusy {
		t.Fatalf("Close before the completions = %v", err)
	}
	// reqs[0]: the ECANCELED completion. reqs[1]: the job finished anyway
	// before the cancel took effect, so the kernel's result is success.
	// reqs[2]: ECANCELED, reported twice.
	f.complete(reqs[0], 0, syscall.ECANCELED)
	f.complete(reqs[1], 8, 0)
	f.complete(reqs[2], 0, syscall.ECANCELED)
	f.complete(reqs[2], 0, syscall.ECANCELED)
	got := smWaitN(t, c, 3)
	if len(got) != 3 {
		t.Fatal(len(got))
	}
	for i, want := range []error{ErrCanceled, nil, ErrCanceled} {
		if _, err := reqs[i].Result(); err != want {
			t.Errorf("request %d: Result %v, want %v", i, err, want)
		}
	}
	f.post(event{slot: reqs[0].slot, gen: reqs[0].gen, errno: syscall.ECANCELED})
	if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 3)); n != 0 || err != ErrNoRequests {
		t.Errorf("Wait afterwards = %d, %v", n, err)
	}
	if got := smInflight(c); got != 0 {
		t.Errorf("in flight %d", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestWaitRetriesEINTR: the backend's EINTR is retried, never returned.
func TestWaitRetriesEINTR(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{WaitWithoutPending: true}, 4, 8)
	r := smPrepared(t, file, 1)[0]
	c.Submit(r)
	f.completeOK(r)
	f.setEINTR(5)
	out := make([]*Request, 1)
	if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if f.waitCalls != 6 {
		t.Errorf("%d wait calls, want 6", f.waitCalls)
	}
	// A poll is retried too.
	f.setEINTR(3)
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != nil {
		t.Errorf("poll = %d, %v", n, err)
	}
	// And a wait with a deadline ends with the deadline.
	f.setEINTR(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n, err := c.Wait(ctx, 1, out); n != 0 || err != context.DeadlineExceeded {
		t.Errorf("Wait = %d, %v; want DeadlineExceeded", n, err)
	}
	f.setEINTR(0)
}

// TestWaitBackendError: any other error of the backend ends Wait with it,
// keeping its errno, and with what was collected before.
func TestWaitBackendError(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	reqs := smPrepared(t, file, 2)
	c.Submit(reqs...)
	f.completeOK(reqs[0])
	f.setOnWait(func() {
		f.mu.Lock()
		f.failNext = syscall.EBADF
		f.mu.Unlock()
	})
	out := make([]*Request, 2)
	n, err := c.Wait(smLongCtx(t), 2, out)
	if n != 1 || out[0] != reqs[0] || !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Wait = %d, %v; want 1 and EBADF", n, err)
	}
	f.setOnWait(nil)
	f.completeOK(reqs[1])
	smWaitN(t, c, 1)
}

// TestWaitDeliversReadyInParts: requests rejected at submission are delivered
// without asking the kernel, even when out is smaller than what is ready.
func TestWaitDeliversReadyInParts(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 8, 8)
	f.outcome = func(*Request) syscall.Errno { return syscall.EBADF }
	reqs := smPrepared(t, file, 5)
	if n, err := c.Submit(reqs...); n != 5 || err != nil {
		t.Fatal(n, err)
	}
	seen := map[*Request]bool{}
	out := make([]*Request, 2)
	for len(seen) < 5 {
		n, err := c.Wait(smLongCtx(t), 1, out)
		if err != nil || n == 0 {
			t.Fatalf("Wait = %d, %v", n, err)
		}
		for _, r := range out[:n] {
			if seen[r] {
				t.Fatal("delivered twice")
			}
			seen[r] = true
		}
	}
	if f.waitCalls != 0 {
		t.Errorf("%d backend waits to deliver rejected requests", f.waitCalls)
	}
	// A poll that delivers the last request in flight returns nil, not
	// ErrNoRequests.
	reqs[0].PrepareRead(file, 0, nil, nil)
	if n, err := c.Submit(reqs[0]); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 1 || err != nil {
		t.Errorf("poll = %d, %v; want 1, nil", n, err)
	}
}

// TestWaitFewerThanMin: with nothing more in flight, Wait does not block
// for a min it can never reach.
func TestWaitFewerThanMin(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 8, 8)
	reqs := smPrepared(t, file, 2)
	c.Submit(reqs...)
	f.completeAll()
	out := make([]*Request, 4)
	n, err := c.Wait(smLongCtx(t), 4, out)
	if n != 2 || err != ErrNoRequests {
		t.Errorf("Wait(min 4) with 2 in flight = %d, %v; want 2, ErrNoRequests", n, err)
	}
}

// --- The IPRT original's bugs (freebsd-aio-semantics.md, section I) -------

// TestBug1KeventOverrun: with more than 64 requests waited for and a small
// min, the original asked kevent for len(out) events into a 64-entry array.
// The backend must never be asked for more than its buffer holds (64), nor
// for more than out has room left for.
func TestBug1KeventOverrun(t *testing.T) {
	for _, tc := range []struct{ inflight, out, min int }{
		{1000, 1000, 10},
		{1000, 1000, 500},
		{1000, 130, 130},
		{200, 100, 1},
		{65, 65, 0},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			file := smFile(t, 64)
			c, f := newFakeContext(t, Config{}, 64, 1024)
			reqs := smPrepared(t, file, tc.inflight)
			if n, err := c.Submit(reqs...); n != tc.inflight || err != nil {
				t.Fatal(n, err)
			}
			f.completeAll()
			f.logging = true
			out := make([]*Request, tc.out)
			n, err := c.Wait(smLongCtx(t), tc.min, out)
			if err != nil || n < tc.min || n > tc.out {
				t.Fatalf("Wait = %d, %v", n, err)
			}
			got := 0
			for i, asked := range f.waitLens {
				if asked > 64 || asked > tc.out-got {
					t.Errorf("wait %d asked for %d events with %d of %d filled", i, asked, got, tc.out)
				}
				got += f.waitGot[i]
			}
			if got != n {
				t.Errorf("backend returned %d events, Wait %d requests", got, n)
			}
			f.logging = false
			smWaitN(t, c, tc.inflight-n)
		})
	}
}

// TestBug2ReturnErrno: aio_return reports a failed job as -1 with errno;
// the original converted the -1. Result must carry the errno and 0 bytes.
func TestBug2ReturnErrno(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	f.rawReturn = true
	reqs := smPrepared(t, file, 4)
	c.Submit(reqs...)
	f.complete(reqs[0], 0, syscall.EIO)
	f.complete(reqs[1], 0, syscall.ECANCELED)
	f.complete(reqs[2], 0, syscall.EFBIG)
	f.complete(reqs[3], 3, 0)
	smWaitN(t, c, 4)
	for i, want := range []syscall.Errno{syscall.EIO, syscall.ECANCELED, syscall.EFBIG} {
		n, err := reqs[i].Result()
		if n != 0 || !errors.Is(err, want) || errors.Is(err, syscall.Errno(1)) {
			t.Errorf("request %d: Result = %d, %v; want 0 and %v", i, n, err, want)
		}
	}
	if n, err := reqs[3].Result(); n != 3 || err != nil {
		t.Errorf("Result = %d, %v", n, err)
	}
}

// TestBug3CancelCountedTwice: the original counted a canceled request as
// done at Cancel and again when its completion event arrived.
func TestBug3CancelCountedTwice(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 2)
	reqs := smPrepared(t, file, 2)
	c.Submit(reqs...)
	if err := reqs[0].Cancel(); err != nil {
		t.Fatal(err)
	}
	// Still in flight: the bound still counts it, Close refuses.
	if n, err := c.Submit(smPrepared(t, file, 1)...); n != 0 || !errors.Is(err, ErrAgain) {
		t.Errorf("Submit at the bound after Cancel = %d, %v", n, err)
	}
	if err := c.Close(); err != ErrBusy {
		t.Errorf("Close = %v", err)
	}
	f.deliverCanceled()
	out := make([]*Request, 2)
	if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || out[0] != reqs[0] || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if _, err := reqs[0].Result(); err != ErrCanceled {
		t.Errorf("Result = %v", err)
	}
	if got := smInflight(c); got != 1 {
		t.Errorf("in flight %d, want 1", got)
	}
	// Reuse the canceled request at once: the stale ECANCELED event that
	// a level-triggered kernel might repeat must not complete the new job.
	reqs[0].PrepareRead(file, 0, make([]byte, 8), nil)
	if n, err := c.Submit(reqs[0]); n != 1 || err != nil {
		t.Fatalf("resubmit = %d, %v", n, err)
	}
	f.post(event{slot: reqs[0].slot, gen: reqs[0].gen - 1, errno: syscall.ECANCELED})
	f.completeOK(reqs[1])
	if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || out[0] != reqs[1] || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != nil {
		t.Fatalf("poll = %d, %v", n, err)
	}
	f.completeOK(reqs[0])
	smWaitN(t, c, 1)
	if n, err := reqs[0].Result(); n != 8 || err != nil {
		t.Errorf("Result of the reused request = %d, %v", n, err)
	}
	if got := smInflight(c); got != 0 {
		t.Errorf("in flight %d", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestBug4FlushAgain: the original compared aio_fsync's return value (-1)
// with EAGAIN, so a flush refused for lack of resources ended Completed
// with an error instead of staying Prepared.
func TestBug4FlushAgain(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 8, 8)
	w1, w2, fl, ds := NewRequest(), NewRequest(), NewRequest(), NewRequest()
	w1.PrepareWrite(file, 0, []byte("ab"), nil)
	w2.PrepareWrite(file, 2, []byte("cd"), nil)
	fl.PrepareFlush(file, "flush")
	ds.PrepareDataSync(file, "dsync")
	f.script = []syscall.Errno{syscall.EAGAIN}
	if n, err := c.Submit(fl); n != 0 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit(flush) = %d, %v; want 0, ErrAgain", n, err)
	}
	if fl.State() != Prepared || fl.User() != "flush" {
		t.Errorf("flush is %v", fl.State())
	}
	if _, err := fl.Result(); err != ErrNotSubmitted {
		t.Errorf("Result = %v", err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || err != ErrNoRequests {
		t.Errorf("Wait = %d, %v; nothing may be in flight", n, err)
	}
	// A trailing flush refused after the writes were queued.
	f.script = []syscall.Errno{0, 0, syscall.EAGAIN, syscall.EAGAIN}
	if n, err := c.Submit(w1, w2, fl, ds); n != 2 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit = %d, %v; want 2, ErrAgain", n, err)
	}
	if fl.State() != Prepared || ds.State() != Prepared {
		t.Errorf("syncs are %v, %v", fl.State(), ds.State())
	}
	f.completeAll()
	smWaitN(t, c, 2)
	if n, err := c.Submit(fl, ds); n != 2 || err != nil {
		t.Fatalf("resubmit = %d, %v", n, err)
	}
	f.complete(fl, 0, 0)
	f.complete(ds, 0, 0)
	smWaitN(t, c, 2)
	if n, err := fl.Result(); n != 0 || err != nil {
		t.Errorf("flush Result = %d, %v", n, err)
	}
}

// TestBug5PartialBatch: a batch in which the kernel queued some requests,
// rejected some and had no room for one. Each request gets its own
// outcome, the queued ones are counted, the rejected ones come back once
// with their errno and are never finished.
func TestBug5PartialBatch(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 8, 16)
	f.script = []syscall.Errno{0, syscall.EBADF, syscall.EOPNOTSUPP, 0, syscall.EAGAIN, 0, 0, 0}
	reqs := smPrepared(t, file, 10)
	n, err := c.Submit(reqs...)
	if n != 7 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit = %d, %v; want 7, ErrAgain", n, err)
	}
	want := []State{Submitted, Submitted, Submitted, Submitted, Prepared, Submitted, Submitted, Submitted, Prepared, Prepared}
	for i, r := range reqs {
		if r.State() != want[i] {
			t.Errorf("request %d is %v, want %v", i, r.State(), want[i])
		}
	}
	if got := smInflight(c); got != 7 {
		t.Errorf("in flight %d, want 7", got)
	}
	f.completeAll()
	got := smWaitN(t, c, 7)
	if len(got) != 7 {
		t.Fatal(len(got))
	}
	for i, want := range map[int]syscall.Errno{1: syscall.EBADF, 2: syscall.EOPNOTSUPP} {
		if _, err := reqs[i].Result(); !errors.Is(err, want) {
			t.Errorf("request %d: %v, want %v", i, err, want)
		}
	}
	if q, fin, rej, ag := f.counts(); q != 5 || fin != 5 || rej != 2 || ag != 1 {
		t.Errorf("queued %d finished %d rejected %d again %d", q, fin, rej, ag)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestBug6LostWakeup: a Wakeup that lands after Wait decided to block but
// before the backend sleeps must still end the Wait (the original used a
// signal and lost it).
func TestBug6LostWakeup(t *testing.T) {
	c, f := newFakeContext(t, Config{WaitWithoutPending: true}, 4, 8)
	for range 100 {
		var once sync.Once
		f.setOnWait(func() { once.Do(func() { c.Wakeup() }) })
		n, err := c.Wait(smLongCtx(t), 1, make([]*Request, 1))
		if n != 0 || err != ErrInterrupted {
			t.Fatalf("Wait = %d, %v; want ErrInterrupted", n, err)
		}
		f.setOnWait(nil)
		if n, err := c.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || err != nil {
			t.Fatalf("poll = %d, %v", n, err)
		}
	}
	// No waiter at all: the next Wait is interrupted, once.
	c.Wakeup()
	if _, err := c.Wait(smLongCtx(t), 1, make([]*Request, 1)); err != ErrInterrupted {
		t.Fatalf("Wait = %v", err)
	}
}

// TestBug7SignalsDoNotInterrupt: EINTR from the kernel is neither a
// wakeup nor an error, and does not leave a wakeup behind.
func TestBug7SignalsDoNotInterrupt(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{WaitWithoutPending: true}, 4, 8)
	f.setEINTR(3)
	var once sync.Once
	f.setOnWait(func() { once.Do(func() { c.Wakeup() }) })
	if _, err := c.Wait(smLongCtx(t), 1, make([]*Request, 1)); err != ErrInterrupted {
		t.Fatalf("Wait = %v", err)
	}
	f.setOnWait(nil)
	f.setEINTR(3)
	r := smPrepared(t, file, 1)[0]
	c.Submit(r)
	f.completeOK(r)
	if n, err := c.Wait(smLongCtx(t), 1, make([]*Request, 1)); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v; want the completion and no stale interruption", n, err)
	}
	// The next Wakeup is not lost to a flag left set.
	c.Wakeup()
	if _, err := c.Wait(smLongCtx(t), 1, make([]*Request, 1)); err != ErrInterrupted {
		t.Fatalf("Wait = %v", err)
	}
}

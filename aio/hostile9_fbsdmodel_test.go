//go:build linux && fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
	"github.com/fileaio/fileaio/sys"
)

// Hostile use of the Context/Request API over the FreeBSD model: files
// closed under queued requests and their numbers reused at once, the
// context's own kqueue closed by its user, two contexts on one file,
// Cancel storms, batches that hit the queue limit among refusals, and
// Wakeup and deadlines against bursts of completions.

// h9Fd is f's descriptor number, read without changing its mode.
func h9Fd(t *testing.T, f *os.File) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// h9Contexts are the contexts a test runs on: the kernel engine alone, and
// DefaultBackend's two engines.
func h9Contexts(t *testing.T, run func(t *testing.T, c *Context)) {
	t.Run("kernel", func(t *testing.T) {
		kqModel(t)
		run(t, kqContext(t, Config{}))
	})
	t.Run("default", func(t *testing.T) {
		kqModel(t)
		c, err := NewContext(Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Close(); err != nil && err != ErrClosed {
				t.Errorf("Close: %v", err)
			}
		})
		run(t, c)
	})
}

// h9Once checks that every request of reqs came back exactly once in got.
func h9Once(t *testing.T, reqs, got []*Request) {
	t.Helper()
	seen := map[*Request]int{}
	for _, r := range got {
		seen[r]++
	}
	for i, r := range reqs {
		if seen[r] != 1 {
			t.Errorf("request %d came back %d times", i, seen[r])
		}
	}
	if len(got) != len(reqs) {
		t.Errorf("%d requests came back, want %d", len(got), len(reqs))
	}
}

// TestH9ClosedFileNumberReused: the file of queued requests is closed and
// its number taken at once by another regular file, a pipe, or a second
// kqueue, before the requests run; half are then canceled (aio_cancel
// names the number, which matches the jobs by the number in their aiocb).
// No byte lands in the file that took the number, each request comes back
// once, with its data or ErrCanceled, writes not canceled are in the
// closed file, and the kernel keeps nothing.
func TestH9ClosedFileNumberReused(t *testing.T) {
	for _, stage := range []string{"queued", "running"} {
		for _, by := range []string{"file", "pipe", "kqueue"} {
			t.Run(stage+"/"+by, func(t *testing.T) {
				h9Contexts(t, func(t *testing.T, c *Context) {
					h9ClosedFileNumberReused(t, c, by, stage == "running")
				})
			})
		}
	}
}

func h9ClosedFileNumberReused(t *testing.T, c *Context, by string, running bool) {
	k := kqModel(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "closed")
	if err := os.WriteFile(path, kqPattern(0, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := h9Fd(t, f)
	const n = 16
	reqs := make([]*Request, n)
	bufs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = NewRequest()
		if i%2 == 0 {
			bufs[i] = bytes.Repeat([]byte{byte('A' + i)}, 64)
			err = reqs[i].PrepareWrite(f, int64(4096+64*i), bufs[i], i)
		} else {
			bufs[i] = make([]byte, 64)
			err = reqs[i].PrepareRead(f, int64(64*i), bufs[i], i)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	hold, release := k.Hold, k.Release
	if running { // the workers take the jobs and keep them running
		hold, release = k.Stall, k.Unstall
	}
	hold()
	held := true
	defer func() {
		if held {
			release()
		}
	}()
	if got, err := c.Submit(reqs...); got != n || err != nil {
		t.Fatalf("Submit = %d, %v", got, err)
	}
	if running && !modelRefusesFiles() {
		// The model's workers (Config.Workers, 4 by default) take as
		// many jobs as they are; the rest stay queued.
		want := min(n, fbsdmodel.Default().Config().Workers)
		for deadline := time.Now().Add(time.Minute); k.Running() < want; time.Sleep(100 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d jobs running after a minute, want %d", k.Running(), want)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var other *os.File
	var check func()
	switch by {
	case "file":
		op := filepath.Join(dir, "other")
		if err := os.WriteFile(op, make([]byte, 8192), 0o600); err != nil {
			t.Fatal(err)
		}
		if other, err = os.OpenFile(op, os.O_RDWR, 0); err != nil {
			t.Fatal(err)
		}
		check = func() {
			b, err := os.ReadFile(op)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, make([]byte, 8192)) {
				t.Errorf("bytes landed in the file that took the number %d", old)
			}
		}
	case "pipe":
		var w *os.File
		if other, w, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		check = func() {
			w.Close()
			b := make([]byte, 16)
			if m, _ := other.Read(b); m != 0 {
				t.Errorf("%d bytes went into the pipe that took the number %d", m, old)
			}
		}
	case "kqueue":
		kq, err := sys.Kqueue()
		if err != nil {
			t.Fatal(err)
		}
		other = os.NewFile(uintptr(kq), "kqueue")
		check = func() {
			evs := make([]sys.Kevent_t, 4)
			m, err := sys.Kevent(kq, nil, evs, &sys.Timespec{})
			if m != 0 || err != nil {
				t.Errorf("the kqueue that took the number reports %d events, %v", m, err)
			}
		}
	}
	defer other.Close()
	if got := h9Fd(t, other); got != old {
		t.Skipf("the %s got descriptor %d, not the closed file's %d", by, got, old)
	}
	canceled := map[*Request]bool{}
	for i := 0; i < n; i += 4 {
		switch err := reqs[i].Cancel(); {
		case err == nil:
			canceled[reqs[i]] = true
		case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted), errors.Is(err, syscall.EBADF):
		default:
			t.Errorf("Cancel of request %d after its number was reused: %v", i, err)
		}
	}
	release()
	held = false
	got := drain(t, c, n)
	h9Once(t, reqs, got)
	on, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		m, err := r.Result()
		switch {
		case canceled[r]:
			if !errors.Is(err, ErrCanceled) {
				t.Errorf("request %d: Cancel said canceled, Result = %d, %v", i, m, err)
			}
		case errors.Is(err, ErrCanceled):
			t.Errorf("request %d canceled though Cancel did not say so", i)
		case errors.Is(err, syscall.EBADF) && r.engine == engineGoroutine:
			// The goroutine engine had not started it: the file was closed.
		case err != nil || m != 64:
			t.Errorf("request %d: Result = %d, %v; want 64, nil", i, m, err)
		case i%2 == 0:
			if !bytes.Equal(on[4096+64*i:4096+64*(i+1)], bufs[i]) {
				t.Errorf("write %d is not in the closed file", i)
			}
		default:
			if !bytes.Equal(bufs[i], kqPattern(int64(64*i), 64)) {
				t.Errorf("read %d got the wrong bytes", i)
			}
		}
	}
	check()
	if o := k.Outstanding(); o != 0 {
		t.Errorf("the kernel keeps %d jobs", o)
	}
}

// TestH9TwoContextsOneFile: two contexts submit on one file at once; one
// closes (after its own drain) while the other's requests on the same
// descriptor are held in the kernel; those still complete, once each.
func TestH9TwoContextsOneFile(t *testing.T) {
	k := kqModel(t)
	a := kqContext(t, Config{})
	b := kqContext(t, Config{})
	f := kqFile(t, 1<<16)
	const n = 40
	ra, rb := kqPrepared(t, f, n), kqPrepared(t, f, n)
	var wg sync.WaitGroup
	for _, p := range []struct {
		c    *Context
		reqs []*Request
	}{{a, ra}, {b, rb}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i += 5 {
				if m, err := p.c.Submit(p.reqs[i : i+5]...); m != 5 || err != nil {
					t.Errorf("Submit = %d, %v", m, err)
				}
			}
		}()
	}
	wg.Wait()
	h9Once(t, ra, drain(t, a, n))
	h9Once(t, rb, drain(t, b, n))
	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	rb2 := kqPrepared(t, f, n)
	if m, err := b.Submit(rb2...); m != n || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close of the idle context: %v", err)
	}
	k.Release()
	held = false
	h9Once(t, rb2, drain(t, b, n))
	for i, r := range rb2 {
		if m, err := r.Result(); m != 8 || err != nil {
			t.Errorf("request %d: %d, %v", i, m, err)
		}
	}
}

// TestH9CancelStorm: many goroutines Cancel the same and different
// requests while they complete and while the waiting goroutine submits
// each again as soon as Wait returns it. Cancel reports only its
// documented outcomes, every submission comes back once, a request Cancel
// said it canceled comes back ErrCanceled, and nothing is left.
func TestH9CancelStorm(t *testing.T) {
	h9Contexts(t, func(t *testing.T, c *Context) {
		k := kqModel(t)
		f := kqFile(t, 4096)
		const n, rounds = 24, 60
		reqs := kqPrepared(t, f, n)
		var stop atomic.Bool
		// A Cancel that succeeds is counted against the submission it hit:
		// sub[i] is request i's submission number, set before each Submit,
		// and a success between two equal readings of it is that
		// submission's (an earlier one has come back before sub changes).
		var sub [n]atomic.Int32
		var cmu sync.Mutex
		canceledAt := map[[2]int32]int{}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; !stop.Load(); i = (i + 1 + g) % n {
					before := sub[i].Load()
					switch err := reqs[i].Cancel(); {
					case err == nil:
						if after := sub[i].Load(); after == before {
							cmu.Lock()
							canceledAt[[2]int32{int32(i), after}]++
							cmu.Unlock()
						}
					case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted), errors.Is(err, ErrNotSubmitted):
					default:
						t.Errorf("Cancel: %v", err)
						return
					}
				}
			}()
		}
		// The kernel stops taking jobs now and then, so that queued ones
		// are there to cancel.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				k.Hold()
				time.Sleep(300 * time.Microsecond)
				k.Release()
				time.Sleep(300 * time.Microsecond)
			}
		}()
		defer func() { stop.Store(true); wg.Wait() }()
		if m, err := c.Submit(reqs...); m != n || err != nil {
			t.Fatalf("Submit = %d, %v", m, err)
		}
		out := make([]*Request, n)
		submissions := map[*Request]int{}
		for _, r := range reqs {
			submissions[r] = 1
		}
		returned := map[*Request]int{}
		canceledResults := 0
		results := map[[2]int32]error{}
		left := n * rounds
		inflight := n
		for inflight > 0 {
			m, err := c.Wait(kqLongCtx(t), 1, out)
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			for _, r := range out[:m] {
				returned[r]++
				if returned[r] > submissions[r] {
					t.Fatalf("request %d came back more often than submitted", r.User())
				}
				i := r.User().(int)
				_, rerr := r.Result()
				if errors.Is(rerr, ErrCanceled) {
					canceledResults++
				}
				results[[2]int32{int32(i), sub[i].Load()}] = rerr
				inflight--
				left--
				if left >= n {
					sub[i].Add(1)
					if err := r.PrepareRead(f, int64(i%64), make([]byte, 8), i); err != nil {
						t.Fatal(err)
					}
					if s, err := c.Submit(r); s != 1 || err != nil {
						t.Fatalf("resubmit = %d, %v", s, err)
					}
					submissions[r]++
					inflight++
				}
			}
		}
		stop.Store(true)
		wg.Wait()
		for key, times := range canceledAt {
			if rerr := results[key]; times != 1 || !errors.Is(rerr, ErrCanceled) {
				t.Errorf("request %d, submission %d: Cancel succeeded %d times, Result %v", key[0], key[1], times, rerr)
			}
		}
		if canceledResults == 0 && c.Stats().Kernel > 0 {
			t.Errorf("no request of %d came back canceled: the storm canceled nothing", n*rounds)
		}
		t.Logf("%d of %d requests came back canceled", canceledResults, n*rounds)
		for r, s := range submissions {
			if returned[r] != s {
				t.Errorf("request %d: submitted %d times, came back %d", r.User(), s, returned[r])
			}
		}
		if o := k.Outstanding(); o != 0 {
			t.Errorf("the kernel keeps %d jobs", o)
		}
	})
}

// TestH9QueueLimitAmongRefusals: DefaultBackend's batch mixes goroutine
// requests (a pipe), kernel requests, requests the kernel refuses
// (EOPNOTSUPP: a non-local file, handed to goroutines), and bad
// descriptors (EBADF: a read on a write-only file), and hits
// max_aio_queue_per_proc part way. Every request is Submitted, or Prepared
// with the error matching ErrAgain, or fails with its own error; those
// Submit accepted come back once, and Submit's count says how many.
func TestH9QueueLimitAmongRefusals(t *testing.T) {
	k := kqModel(t)
	if k.Config().NonLocal {
		t.Skip("every file is non-local: the kernel queues nothing, so its limit is never reached")
	}
	limit, err := sys.SysctlUint32("vfs.aio.max_aio_queue_per_proc")
	if err != nil {
		t.Fatal(err)
	}
	const room = 6
	filler := kqContext(t, Config{})
	c, err := NewContext(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := kqFile(t, 4096)
	remote := kqFile(t, 4096)
	if err := k.SetNonLocal(h9Fd(t, remote), true); err != nil {
		t.Fatal(err)
	}
	defer k.SetNonLocal(h9Fd(t, remote), false)
	var rst fileClass
	rc, _ := remote.SyscallConn()
	_ = rc.Control(func(fd uintptr) { rst = classify(fd) })
	defer refusedFiles.remove(refusedKey(rst))
	wo, err := os.OpenFile(filepath.Join(t.TempDir(), "wo"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	fill := kqPrepared(t, f, int(limit)-room)
	if m, err := filler.Submit(fill...); m != len(fill) || err != nil {
		t.Fatalf("filler Submit = %d, %v", m, err)
	}
	kinds := []string{"kernel", "pipe", "remote", "ebadf", "kernel", "remote", "ebadf", "kernel", "pipe",
		"kernel", "kernel", "ebadf", "remote", "kernel", "pipe", "kernel", "ebadf", "kernel"}
	reqs := make([]*Request, len(kinds))
	for i, kind := range kinds {
		r := NewRequest()
		reqs[i] = r
		switch kind {
		case "kernel":
			err = r.PrepareRead(f, int64(i), make([]byte, 8), i)
		case "pipe":
			err = r.PrepareWrite(pw, 0, []byte{byte(i)}, i)
		case "remote":
			err = r.PrepareRead(remote, int64(i), make([]byte, 8), i)
		case "ebadf":
			err = r.PrepareRead(wo, 0, make([]byte, 8), i)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	accepted, err := c.Submit(reqs...)
	if !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit past the queue limit = %d, %v; want ErrAgain", accepted, err)
	}
	var sub []*Request
	for i, r := range reqs {
		switch s := r.State(); s {
		case Submitted:
			sub = append(sub, r)
		case Prepared:
		default:
			t.Errorf("request %d (%s) is %v after Submit", i, kinds[i], s)
		}
	}
	if len(sub) != accepted {
		t.Fatalf("Submit said %d accepted, %d are Submitted", accepted, len(sub))
	}
	k.Release()
	held = false
	drain(t, filler, len(fill))
	got := drain(t, c, accepted)
	h9Once(t, sub, got)
	for _, r := range sub {
		i := r.User().(int)
		m, err := r.Result()
		switch kinds[i] {
		case "ebadf":
			if !errors.Is(err, syscall.EBADF) {
				t.Errorf("request %d (ebadf): %d, %v", i, m, err)
			}
		case "pipe":
			if m != 1 || err != nil {
				t.Errorf("request %d (pipe): %d, %v", i, m, err)
			}
		default:
			if m != 8 || err != nil {
				t.Errorf("request %d (%s): %d, %v", i, kinds[i], m, err)
			}
		}
	}
	// What stayed Prepared goes in now.
	var rest []*Request
	for _, r := range reqs {
		if r.State() == Prepared {
			rest = append(rest, r)
		}
	}
	if m, err := c.Submit(rest...); m != len(rest) || err != nil {
		t.Fatalf("resubmit of %d = %d, %v", len(rest), m, err)
	}
	h9Once(t, rest, drain(t, c, len(rest)))
	go func() { _, _ = pr.Read(make([]byte, 64)) }()
	if o := k.Outstanding(); o != 0 {
		t.Errorf("the kernel keeps %d jobs", o)
	}
}

// TestH9WakeupAndDeadlinesUnderBursts: while the kernel engine's kevent
// is blocked on held kernel requests, goroutine requests (a pipe) complete
// in bursts, Wakeup comes from another goroutine, and each Wait has a
// short deadline; Close races all of it and is ErrBusy until the drain.
// Each Wait returns (no hang), with only its documented errors; every
// request comes back once.
func TestH9WakeupAndDeadlinesUnderBursts(t *testing.T) {
	k := kqModel(t)
	if k.Config().NonLocal {
		t.Log("every file is non-local: the regular file's requests go to goroutines too")
	}
	c, err := NewContext(Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := kqFile(t, 4096)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	kreqs := kqPrepared(t, f, 8)
	if m, err := c.Submit(kreqs...); m != len(kreqs) || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	// A read of an empty pipe keeps something in flight whatever the
	// mounts, until the end.
	qr, qw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	defer qw.Close()
	anchor := NewRequest()
	if err := anchor.PrepareRead(qr, 0, make([]byte, 1), "anchor"); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Submit(anchor); m != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	all := append([]*Request{anchor}, kreqs...)
	const bursts, per = 20, 6
	var stop atomic.Bool
	var side sync.WaitGroup
	side.Add(3)
	go func() { // bursts of pipe writes
		defer side.Done()
		buf := make([]byte, 4096)
		for !stop.Load() {
			_, _ = pr.Read(buf)
		}
	}()
	go func() {
		defer side.Done()
		for !stop.Load() {
			_ = c.Wakeup()
			time.Sleep(200 * time.Microsecond)
		}
	}()
	go func() {
		defer side.Done()
		for !stop.Load() {
			if err := c.Close(); err != nil && !errors.Is(err, ErrBusy) {
				t.Errorf("Close with requests in flight: %v", err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	returned := map[*Request]int{}
	out := make([]*Request, 64)
	for b := range bursts {
		burst := make([]*Request, per)
		for i := range burst {
			burst[i] = NewRequest()
			if err := burst[i].PrepareWrite(pw, 0, []byte("x"), b*per+i); err != nil {
				t.Fatal(err)
			}
		}
		if m, err := c.Submit(burst...); m != per || err != nil {
			t.Fatalf("burst %d: Submit = %d, %v", b, m, err)
		}
		all = append(all, burst...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		m, err := c.Wait(ctx, per, out)
		cancel()
		for _, r := range out[:m] {
			returned[r]++
		}
		switch {
		case err == nil, errors.Is(err, ErrInterrupted), errors.Is(err, context.DeadlineExceeded):
		default:
			t.Fatalf("burst %d: Wait = %d, %v", b, m, err)
		}
	}
	k.Release()
	held = false
	if _, err := qw.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	for c.InFlight() > 0 {
		m, err := c.Wait(kqLongCtx(t), 1, out)
		for _, r := range out[:m] {
			returned[r]++
		}
		if err != nil && !errors.Is(err, ErrInterrupted) {
			t.Fatalf("drain: Wait = %d, %v", m, err)
		}
	}
	stop.Store(true)
	pw.Close()
	side.Wait()
	for i, r := range all {
		if returned[r] != 1 {
			t.Errorf("request %d came back %d times", i, returned[r])
		}
	}
	if err := c.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("Close after the drain: %v", err)
	}
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

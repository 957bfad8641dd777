// Package tests holds integration tests of package aio against the kernel of
// the machine that runs them, with real files. Every test runs once per
// backend the OS has (aio.DefaultBackend and aio.PortableBackend), through
// the public API only, so the same tests cover the Linux kernel AIO backend,
// the FreeBSD POSIX AIO backend (natively, or over the kernel model with
// -tags fbsdmodel) and the portable goroutine backend.
package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
	"github.com/fileaio/fileaio/internal/pin"
)

// backends are the backends every test runs over: DefaultBackend (the
// kernel's AIO for the files it serves asynchronously, goroutines for the
// rest), PortableBackend, and KernelBackend where the system has kernel
// AIO this package drives.
var backends = availableBackends()

func availableBackends() []aio.Backend {
	bs := []aio.Backend{aio.DefaultBackend, aio.PortableBackend}
	if !kernelServesFiles() {
		return bs // KernelBackend would fail every request on the tests' files
	}
	c, err := aio.NewContext(aio.Config{Backend: aio.KernelBackend, MaxRequests: 1})
	switch {
	case err == nil:
		c.Close()
		bs = append(bs, aio.KernelBackend)
	case !errors.Is(err, aio.ErrNotSupported):
		panic(fmt.Sprintf("probing KernelBackend: %v", err))
	}
	return bs
}

// hangTimeout bounds every wait for I/O that must complete. It is not a
// performance assertion: it only turns a hang into a failure.
const hangTimeout = 2 * time.Minute

func TestMain(m *testing.M) {
	// Warm up what the runtime opens once per process (the poller's
	// descriptors), so that the per-test descriptor count compares like
	// with like.
	if f, err := os.CreateTemp("", "aio-warmup-*"); err == nil {
		name := f.Name()
		f.Close()
		os.Remove(name)
	}
	os.Exit(m.Run())
}

// forEachBackend runs fn as a subtest per backend. After fn and every
// cleanup it registered (contexts closed, files closed) it checks that no
// pin is left (internal/pin.Live() == 0), that no file descriptor leaked,
// and, under -tags fbsdmodel, that the kernel model saw no broken rule.
func forEachBackend(t *testing.T, fn func(t *testing.T, b aio.Backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			before := countFDs(t)
			t.Cleanup(func() {
				if t.Failed() {
					return // the state left by a failure proves nothing more
				}
				checkPinsZero(t)
				if after := countFDs(t); before >= 0 && after != before {
					t.Errorf("file descriptors: %d before the test, %d after it with every context and file closed", before, after)
				}
				checkKernelModel(t)
			})
			fn(t, b)
		})
	}
}

// checkPinsZero fails t if any pin is still held.
func checkPinsZero(t *testing.T) {
	t.Helper()
	if n := pin.Live(); n != 0 {
		t.Errorf("internal/pin.Live() = %d with nothing in flight, want 0", n)
	}
}

// countFDs counts the process's open descriptors (/proc/self/fd on Linux,
// /dev/fd on FreeBSD), or returns -1 where it cannot.
func countFDs(t *testing.T) int {
	t.Helper()
	dir := ""
	switch runtime.GOOS {
	case "linux":
		dir = "/proc/self/fd"
	case "freebsd":
		dir = "/dev/fd"
	default:
		return -1
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Logf("cannot count descriptors in %s: %v", dir, err)
		return -1
	}
	return len(ents)
}

// newContext creates a context for backend b and closes it when the test
// ends. If the test left requests in flight (it failed), the cleanup drains
// them first so that Close can succeed.
func newContext(t *testing.T, b aio.Backend, cfg aio.Config) *aio.Context {
	t.Helper()
	cfg.Backend = b
	c, err := aio.NewContext(cfg)
	if err != nil {
		t.Fatalf("NewContext(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { closeContext(t, c) })
	watchdog(t, c)
	checkKernelError(t, b, c)
	return c
}

// checkKernelError fails t unless c says why it runs on goroutines alone
// exactly when it asked for DefaultBackend and got no kernel AIO (a kernel
// without AIO or one that refuses it: qemu-user, gVisor, seccomp,
// CONFIG_AIO=n).
func checkKernelError(t *testing.T, b aio.Backend, c *aio.Context) {
	t.Helper()
	err := c.KernelError()
	switch {
	case b == aio.DefaultBackend && c.Kernel() == "portable":
		if !errors.Is(err, aio.ErrNotSupported) {
			t.Fatalf("DefaultBackend context on goroutines: KernelError() = %v, want an error matching ErrNotSupported", err)
		}
		t.Logf("DefaultBackend fell back to the portable backend: %v", err)
	case err != nil:
		t.Fatalf("%v backend context driving %q: KernelError() = %v, want nil", b, c.Kernel(), err)
	}
}

// watchdog turns a hang into a failure: if the test still runs after
// hangTimeout, it fails the test and keeps waking c, so that a Wait without
// a deadline (which many tests use on purpose) returns. Its cleanup runs
// before the context's.
func watchdog(t *testing.T, c *aio.Context) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-stop:
			return
		case <-time.After(hangTimeout):
		}
		t.Errorf("still running after %v: waking the context's Waits so that the test fails instead of hanging", hangTimeout)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = c.Wakeup()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

func closeContext(t *testing.T, c *aio.Context) {
	t.Helper()
	err := c.Close()
	if errors.Is(err, aio.ErrBusy) {
		drain(t, c)
		err = c.Close()
	}
	if err != nil && !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

// drain collects whatever is still in flight on c.
func drain(t *testing.T, c *aio.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	out := make([]*aio.Request, 64)
	for {
		_, err := c.Wait(ctx, 1, out)
		switch {
		case err == nil, errors.Is(err, aio.ErrInterrupted):
			continue
		case errors.Is(err, aio.ErrBusy) && ctx.Err() == nil: // a goroutine of the failed test still waits
			_ = c.Wakeup()
			time.Sleep(time.Millisecond)
			continue
		case errors.Is(err, aio.ErrNoRequests), errors.Is(err, aio.ErrClosed):
			return
		default:
			t.Errorf("draining the context: %v", err)
			return
		}
	}
}

// tempFile creates an empty read-write file in the test's temporary
// directory, closed when the test ends.
func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "aio-*.dat")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// openFile opens name with flag, closed when the test ends.
func openFile(t *testing.T, name string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(name, flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// newRand returns a generator seeded from the test's name and logs the
// seed, so a failing run can be repeated.
func newRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, uint64(len(t.Name()))))
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	fillRand(rng, b)
	return b
}

func fillRand(rng *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// mustPrepare fails the test if a Prepare call failed.
func mustPrepare(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
}

// submitAll submits reqs, which must all be accepted in one call.
func submitAll(t *testing.T, c *aio.Context, reqs ...*aio.Request) {
	t.Helper()
	n, err := c.Submit(reqs...)
	if err != nil || n != len(reqs) {
		t.Fatalf("Submit(%d requests) = %d, %v; want %d, nil", len(reqs), n, err, len(reqs))
	}
	for i, r := range reqs {
		if s := r.State(); s != aio.Submitted {
			t.Fatalf("request %d is %v after Submit accepted it, want Submitted", i, s)
		}
	}
}

// waitN waits for exactly n completions in one Wait call with min n, and
// checks the contract: n results, no error, each request Completed.
func waitN(t *testing.T, c *aio.Context, n int) []*aio.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	out := make([]*aio.Request, n)
	got, err := c.Wait(ctx, n, out)
	if err != nil || got != n {
		t.Fatalf("Wait(min %d) = %d, %v; want %d, nil", n, got, err, n)
	}
	for i, r := range out {
		if r == nil {
			t.Fatalf("Wait filled out[%d] with nil", i)
		}
		if s := r.State(); s != aio.Completed {
			t.Fatalf("request returned by Wait is %v, want Completed", s)
		}
	}
	return out
}

// run submits reqs (all Prepared) and waits for all of them.
func run(t *testing.T, c *aio.Context, reqs ...*aio.Request) []*aio.Request {
	t.Helper()
	submitAll(t, c, reqs...)
	return waitN(t, c, len(reqs))
}

// runAll submits reqs, resubmitting those refused with ErrAgain as earlier
// ones complete, and returns every request in completion order. It checks
// that Submit's count matches the requests it moved to Submitted, that the
// refused ones stay Prepared, that nothing is in flight beyond
// c.MaxRequests(), and that each request is delivered exactly once.
func runAll(t *testing.T, c *aio.Context, reqs []*aio.Request) []*aio.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	seen := make(map[*aio.Request]int, len(reqs))
	pending := append([]*aio.Request(nil), reqs...)
	done := make([]*aio.Request, 0, len(reqs))
	out := make([]*aio.Request, 64)
	inflight := 0
	for len(pending) > 0 || inflight > 0 {
		if len(pending) > 0 {
			n, err := c.Submit(pending...)
			if err != nil && !errors.Is(err, aio.ErrAgain) {
				t.Fatalf("Submit: %v", err)
			}
			if err == nil && n != len(pending) {
				t.Fatalf("Submit(%d) = %d, nil: a partial submission must say ErrAgain", len(pending), n)
			}
			rest := pending[:0]
			submitted := 0
			for _, r := range pending {
				switch s := r.State(); s {
				case aio.Submitted:
					submitted++
				case aio.Prepared:
					rest = append(rest, r)
				default:
					t.Fatalf("request is %v after Submit, want Submitted or Prepared", s)
				}
			}
			if submitted != n {
				t.Fatalf("Submit returned %d but moved %d requests to Submitted", n, submitted)
			}
			pending = rest
			inflight += n
			if inflight > c.MaxRequests() {
				t.Fatalf("%d requests in flight, above MaxRequests() = %d", inflight, c.MaxRequests())
			}
			if n == 0 && inflight == 0 {
				t.Fatalf("Submit refused everything (%v) with nothing in flight: no progress possible", err)
			}
		}
		if inflight == 0 {
			continue
		}
		k, err := c.Wait(ctx, 1, out)
		if err != nil {
			t.Fatalf("Wait: %v (after %d of %d)", err, len(done), len(reqs))
		}
		for _, r := range out[:k] {
			seen[r]++
			if seen[r] > 1 {
				t.Fatalf("request with user %v delivered twice", r.User())
			}
			done = append(done, r)
		}
		inflight -= k
	}
	if len(done) != len(reqs) {
		t.Fatalf("%d of %d requests delivered", len(done), len(reqs))
	}
	return done
}

// expectResult checks a completed request's result.
func expectResult(t *testing.T, r *aio.Request, wantN int) {
	t.Helper()
	n, err := r.Result()
	if err != nil || n != wantN {
		t.Fatalf("request %v: Result() = %d, %v; want %d, nil", r.User(), n, err, wantN)
	}
}

// readFile reads the whole file at name.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compare fails with the first differing offset.
func compare(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: first difference at byte %d: %#02x, want %#02x", what, i, got[i], want[i])
		}
	}
}

// fileSize returns the size of f.
func fileSize(t *testing.T, f *os.File) int64 {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// scratchDirs are where a test that needs a particular file system may try
// to create its files: the system's temporary directory, then the current
// directory (which is often not a tmpfs when /tmp is).
func scratchDirs(t *testing.T) []string {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d, err := os.MkdirTemp(".", "aio-scratch-"); err == nil {
		abs, _ := filepath.Abs(d)
		t.Cleanup(func() { os.RemoveAll(abs) })
		dirs = append(dirs, abs)
	}
	return dirs
}

// user is a label for log messages.
func user(format string, args ...any) string { return fmt.Sprintf(format, args...) }

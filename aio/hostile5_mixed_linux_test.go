//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/fileaio/fileaio/internal/pin"
	"golang.org/x/sys/unix"
)

// Attacks on DefaultBackend where one Context serves requests with both of
// its engines at once: kernel AIO for files opened with O_DIRECT, the
// goroutine engine for buffered files and pipes. Close, Cancel, Wakeup,
// Wait's deadlines and MaxRequests are checked against their contracts
// while completions of both engines arrive.

const h5Block = 4096

// h5Hang bounds every wait of these tests: a hang detector, not a timing
// assertion.
const h5Hang = 20 * time.Second

// h5Context is a DefaultBackend context that drives kernel AIO beside its
// goroutine engine, or skips t where the kernel offers no AIO (there is
// nothing to mix then). A Close the test left undone is done at its end.
func h5Context(t *testing.T, cfg Config) (*Context, *mixedBackend) {
	t.Helper()
	cfg.Backend = DefaultBackend
	var c *Context
	linuxRetryAgain(t, func() (err error) {
		c, err = NewContext(cfg)
		return err
	})
	mb, ok := c.be.(*mixedBackend)
	if !ok {
		c.Close()
		t.Skipf("DefaultBackend here is %T (Kernel %q, KernelError %v): no kernel AIO to mix with goroutines", c.be, c.Kernel(), c.KernelError())
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close at the end of the test: %v", err)
		}
	})
	return c, mb
}

// h5Dir is a directory on a filesystem with a device behind it:
// os.TempDir(), or /var/tmp where that is tmpfs.
func h5Dir(t *testing.T) string {
	t.Helper()
	base := os.TempDir()
	var st unix.Statfs_t
	if unix.Statfs(base, &st) == nil && st.Type == unix.TMPFS_MAGIC {
		base = "/var/tmp"
	}
	dir, err := os.MkdirTemp(base, "aio-h5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// h5Files are two files of the same contents (want, h3Byte's pattern):
// one open with O_DIRECT, whose requests go to the kernel, and one
// buffered, whose requests go to goroutines.
type h5Files struct {
	direct, buffered *os.File
	want             []byte
}

// h5Data makes h5Files of blocks blocks, or skips t where the filesystem
// refuses O_DIRECT.
func h5Data(t *testing.T, blocks int) h5Files {
	t.Helper()
	dir := h5Dir(t)
	want := make([]byte, blocks*h5Block)
	for i := range want {
		want[i] = h3Byte(int64(i))
	}
	open := func(name string, flag int) *os.File {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|flag, 0)
		if flag != 0 && errors.Is(err, syscall.EINVAL) {
			t.Skipf("the filesystem of %s refuses O_DIRECT", dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if flag != 0 {
			// os.WriteFile left the file's pages in the page cache, dirty,
			// which would keep DefaultBackend's O_DIRECT writes from the
			// kernel (it refuses, with RWF_NOWAIT, to wait to write them
			// back and drop them): write them back and drop them now.
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	return h5Files{direct: open("direct", syscall.O_DIRECT), buffered: open("buffered", 0), want: want}
}

// h5Kind is what a request reads or writes, which decides its engine.
type h5Kind uint8

const (
	h5Direct   h5Kind = iota // an O_DIRECT file: kernel AIO
	h5Buffered               // a buffered file: goroutines
	h5Pipe                   // a pipe: goroutines
)

func (k h5Kind) String() string { return [...]string{"direct", "buffered", "pipe"}[k] }

// engine is the engine DefaultBackend must route a request of kind k to.
func (k h5Kind) engine() engineID {
	if k == h5Direct {
		return engineKernel
	}
	return engineGoroutine
}

// h5Sentinel fills a read's buffer before Submit, to tell whether a
// canceled read wrote it.
const h5Sentinel = 0xee

// h5Job is the user value of a request: what it must give.
type h5Job struct {
	kind  h5Kind
	write bool
	off   int64
	size  int      // the bytes it transfers when it completes
	buf   []byte   // its buffer, or what it reads into: buf or bufs
	bufs  [][]byte // its buffers, for a vectored request
	want  []byte   // what a completed read holds in buf; nil: not checked
	seen  int      // times Wait returned it, counted by the waiting goroutine

	cancelErr atomic.Pointer[error] // what Cancel answered, if it was called
}

// h5PrepareRead prepares r to read len(buf) bytes at off of f, a file of
// kind k, expecting want (nil: anything).
func h5PrepareRead(t *testing.T, r *Request, k h5Kind, f *os.File, off int64, buf, want []byte) *h5Job {
	t.Helper()
	for i := range buf {
		buf[i] = h5Sentinel
	}
	j := &h5Job{kind: k, off: off, size: len(buf), buf: buf, want: want}
	if err := r.PrepareRead(f, off, buf, j); err != nil {
		t.Fatalf("PrepareRead(%s) on a %v request: %v", k, r.State(), err)
	}
	return j
}

// h5FileRead prepares r to read block blk of fs's file of kind k.
func h5FileRead(t *testing.T, r *Request, fs h5Files, k h5Kind, blk int) *h5Job {
	t.Helper()
	f := fs.buffered
	if k == h5Direct {
		f = fs.direct
	}
	off := int64(blk * h5Block)
	return h5PrepareRead(t, r, k, f, off, AlignedBuffer(h5Block), fs.want[off:off+h5Block])
}

// h5Check checks r, just returned by Wait: it came back once, was served by
// the engine its file calls for, and holds its full result or, only if
// Cancel said it was canceled, ErrCanceled with its buffer untouched.
func h5Check(t *testing.T, r *Request) {
	t.Helper()
	j, ok := r.User().(*h5Job)
	if !ok {
		t.Fatalf("Wait returned a request whose user value is %T", r.User())
	}
	if j.seen++; j.seen > 1 {
		t.Fatalf("%v request at %d returned by Wait %d times", j.kind, j.off, j.seen)
	}
	if r.State() != Completed {
		t.Fatalf("%v request returned by Wait is %v", j.kind, r.State())
	}
	if r.engine != j.kind.engine() {
		t.Errorf("%v request served by engine %d, want %d", j.kind, r.engine, j.kind.engine())
	}
	n, err := r.Result()
	var cerr error
	if p := j.cancelErr.Load(); p != nil {
		cerr = *p
	}
	canceled := cerr == nil && j.cancelErr.Load() != nil
	switch {
	case canceled:
		if n != 0 || !errors.Is(err, ErrCanceled) || !errors.Is(err, syscall.ECANCELED) {
			t.Fatalf("%v request at %d: Cancel returned nil, Result = %d, %v; want 0, ErrCanceled", j.kind, j.off, n, err)
		}
		for _, b := range append([][]byte{j.buf}, j.bufs...) {
			if i := h5Written(b); !j.write && i >= 0 {
				t.Fatalf("%v read at %d canceled, yet its buffer was written at byte %d of %d", j.kind, j.off, i, len(b))
			}
		}
	case err != nil || n != j.size:
		t.Fatalf("%v request at %d (Cancel: %v): Result = %d, %v; want %d, nil", j.kind, j.off, cerr, n, err, j.size)
	case !j.write && j.want != nil && !bytes.Equal(j.buf, j.want):
		t.Fatalf("%v read at %d: wrong bytes", j.kind, j.off)
	}
}

// h5Written returns the index of the first byte of b that is not
// h5Sentinel, or -1.
func h5Written(b []byte) int {
	for i, c := range b {
		if c != h5Sentinel {
			return i
		}
	}
	return -1
}

// h5Collect waits until n requests came back, checking each with h5Check.
// Every Wait error fails t.
func h5Collect(t *testing.T, c *Context, n int) {
	t.Helper()
	for _, r := range h5Gather(t, c, n) {
		h5Check(t, r)
	}
}

// h5Gather waits until n requests came back and returns them. Every Wait
// error fails t.
func h5Gather(t *testing.T, c *Context, n int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
	defer cancel()
	out := make([]*Request, n)
	for got := 0; got < n; {
		k, err := c.Wait(ctx, 1, out[got:])
		got += k
		if err != nil {
			t.Fatalf("Wait after %d of %d completions: %v", got, n, err)
		}
	}
	return out
}

// h5Submit submits reqs, failing t unless all are accepted.
func h5Submit(t *testing.T, c *Context, reqs ...*Request) {
	t.Helper()
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit(%d requests) = %d, %v", len(reqs), n, err)
	}
}

// h5Requests makes n Idle requests.
func h5Requests(n int) []*Request {
	rs := make([]*Request, n)
	for i := range rs {
		rs[i] = NewRequest()
	}
	return rs
}

// h5Rings counts the kernel AIO contexts of the process: each maps its
// completion ring, which /proc/self/maps names "[aio]", until io_destroy.
func h5Rings(t *testing.T) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("/proc/self/maps: %v", err)
	}
	return strings.Count(string(maps), "/[aio]")
}

// h5AioNr reads fs.aio-nr, the requests of all kernel AIO contexts of the
// machine, for the log (other processes change it too).
func h5AioNr() string {
	b, err := os.ReadFile("/proc/sys/fs/aio-nr")
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}

// h5UntilWaiting returns once a goroutine is inside c.Wait.
func h5UntilWaiting(t *testing.T, c *Context) {
	t.Helper()
	deadline := time.Now().Add(h5Hang)
	for {
		c.mu.Lock()
		w := c.waiting
		c.mu.Unlock()
		if w {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no goroutine entered Wait")
		}
		runtime.Gosched()
	}
}

// h5Idle checks the mixed backend's own account once nothing is in flight:
// no kernel request counted, the waiter asleep nowhere.
func h5Idle(t *testing.T, c *Context, mb *mixedBackend) {
	t.Helper()
	if n := c.InFlight(); n != 0 {
		t.Fatalf("InFlight = %d after every request came back", n)
	}
	if k := mb.kin.Load(); k != 0 {
		t.Fatalf("the mixed backend counts %d kernel requests in flight after every request came back", k)
	}
	if s := mb.sleep.Load(); s != sleepNone {
		t.Fatalf("the mixed backend's waiter sleeps in %d with no Wait running", s)
	}
}

// h5CheckStats checks that Stats counts exactly kernel and goroutines
// requests.
func h5CheckStats(t *testing.T, c *Context, kernel, goroutines uint64) {
	t.Helper()
	if s := c.Stats(); s.Kernel != kernel || s.Goroutines != goroutines {
		t.Fatalf("Stats() = %+v, want Kernel %d, Goroutines %d", s, kernel, goroutines)
	}
}

// TestH5CloseWhileBothEnginesBusy: O_DIRECT and buffered reads complete
// while reads of two empty pipes (one in Go's poller, one in blocking mode)
// stay in flight, and four goroutines call Close all along: every Close is
// refused with ErrBusy and changes nothing, and so is one while a Wait is
// blocked, which Wakeup then ends. Once the pipes are written and every
// request is back, Close succeeds and leaves no goroutine, descriptor or
// kernel AIO context behind; the closed context refuses everything with
// ErrClosed.
func TestH5CloseWhileBothEnginesBusy(t *testing.T) {
	const perEngine = 24
	fs := h5Data(t, perEngine)
	pr, pw := h3Pipe(t, false)
	bpr, bpw := h3Pipe(t, true)
	runtime.GC()
	fds0, rings0, goroutines0, nr0 := h3Fds(t), h5Rings(t), runtime.NumGoroutine(), h5AioNr()

	c, mb := h5Context(t, Config{MaxRequests: 64})
	if got := h5Rings(t); got != rings0+1 {
		t.Fatalf("%d kernel AIO rings mapped with the context open, %d before: the count does not see the context", got, rings0)
	}
	reqs := h5Requests(2 + 2*perEngine)
	pipeJobs := []*h5Job{
		h5PrepareRead(t, reqs[0], h5Pipe, pr, 0, make([]byte, 4), []byte("ping")),
		h5PrepareRead(t, reqs[perEngine], h5Pipe, bpr, 0, make([]byte, 4), []byte("pong")),
	}
	files := make([]*Request, 0, 2*perEngine)
	for i, r := range reqs {
		if i == 0 || i == perEngine {
			continue
		}
		files = append(files, r)
	}
	for i, r := range files {
		h5FileRead(t, r, fs, h5Kind(i%2), i/2)
	}
	h5Submit(t, c, reqs...)

	var closers sync.WaitGroup
	var stop atomic.Bool
	var refused atomic.Int64
	for range 4 {
		closers.Go(func() {
			for !stop.Load() {
				if err := c.Close(); !errors.Is(err, ErrBusy) {
					t.Errorf("Close with reads of empty pipes in flight = %v, want ErrBusy", err)
					return
				}
				refused.Add(1)
				runtime.Gosched()
			}
		})
	}
	h5Collect(t, c, len(files))
	stop.Store(true)
	closers.Wait()
	t.Logf("%d Closes refused while the reads came back", refused.Load())
	if t.Failed() {
		t.FailNow()
	}
	if n := c.InFlight(); n != 2 {
		t.Fatalf("InFlight = %d with the two pipe reads left, want 2", n)
	}

	// A Wait for more than can come back, blocked: Close is refused, and
	// Wakeup ends the Wait.
	out := make([]*Request, 4)
	type waitResult struct {
		n   int
		err error
	}
	waited := make(chan waitResult, 1)
	go func() {
		n, err := c.Wait(context.Background(), 3, out)
		waited <- waitResult{n, err}
	}()
	h5UntilWaiting(t, c)
	if err := c.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close with a goroutine inside Wait = %v, want ErrBusy", err)
	}
	if err := c.Wakeup(); err != nil {
		t.Fatalf("Wakeup: %v", err)
	}
	select {
	case w := <-waited:
		if w.n != 0 || !errors.Is(w.err, ErrInterrupted) {
			t.Fatalf("Wait ended by Wakeup = %d, %v; want 0, ErrInterrupted", w.n, w.err)
		}
	case <-time.After(h5Hang):
		t.Fatal("Wait still blocked after Wakeup")
	}

	if _, err := pw.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := bpw.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	h5Collect(t, c, 2)
	for _, j := range pipeJobs {
		if j.seen != 1 {
			t.Fatalf("pipe read returned %d times", j.seen)
		}
	}
	h5Idle(t, c, mb)
	h5CheckStats(t, c, perEngine, perEngine+2)

	nrOpen := h5AioNr()
	if err := c.Close(); err != nil {
		t.Fatalf("Close after every request came back: %v", err)
	}
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := files[0].PrepareRead(fs.direct, 0, AlignedBuffer(h5Block), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(files[0]); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("Submit on the closed context = %d, %v; want 0, ErrClosed", n, err)
	}
	if files[0].State() != Prepared {
		t.Errorf("a request refused by a closed context is %v, want Prepared", files[0].State())
	}
	if n, err := c.Wait(context.Background(), 0, out); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("Wait on the closed context = %d, %v; want 0, ErrClosed", n, err)
	}
	if err := c.Wakeup(); !errors.Is(err, ErrClosed) {
		t.Errorf("Wakeup on the closed context = %v, want ErrClosed", err)
	}
	if got := h5Rings(t); got != rings0 {
		t.Errorf("%d kernel AIO rings mapped after Close, %d before the context", got, rings0)
	}
	if got := h3Fds(t); got != fds0 {
		t.Errorf("%d descriptors open after Close, %d before the context", got, fds0)
	}
	h3Goroutines(t, goroutines0)
	t.Logf("fs.aio-nr: %s before the context, %s with it open, %s after Close", nr0, nrOpen, h5AioNr())
}

// h5Round is one batch of reads of random kinds on fs, made of reqs.
func h5Round(t *testing.T, rng *rand.Rand, fs h5Files, reqs []*Request, blocks int) []*h5Job {
	t.Helper()
	jobs := make([]*h5Job, len(reqs))
	for i, r := range reqs {
		jobs[i] = h5FileRead(t, r, fs, h5Kind(rng.IntN(2)), rng.IntN(blocks))
	}
	return jobs
}

// TestH5CancelRacesCompletion: rounds of O_DIRECT reads (kernel) and
// buffered reads (goroutines), each request reused from the last round on
// a file of either kind, are canceled by two other goroutines while they
// complete and are collected. Each request comes back exactly once; Cancel
// returns nil only for a request that then comes back with ErrCanceled and
// an untouched buffer, and never for a kernel request (Linux cannot cancel
// file I/O); every other one holds its full read. Stats counts every
// request once, by its engine.
func TestH5CancelRacesCompletion(t *testing.T) {
	const (
		blocks = 32
		per    = 48
		rounds = 60
	)
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: 2 * per})
	rng := rand.New(rand.NewPCG(5, 5))
	reqs := h5Requests(per)
	var kernel, goroutines uint64
	outcomes := map[string]int{}
	for round := range rounds {
		jobs := h5Round(t, rng, fs, reqs, blocks)
		var cancelers sync.WaitGroup
		submitted := make(chan int, per)
		half := per / 2
		for range 2 {
			cancelers.Go(func() {
				for i := range submitted {
					err := reqs[i].Cancel()
					jobs[i].cancelErr.Store(&err)
				}
			})
		}
		// Two submissions, so that cancels of the first race the second.
		h5Submit(t, c, reqs[:half]...)
		for i := range half {
			submitted <- i
		}
		h5Submit(t, c, reqs[half:]...)
		for i := half; i < per; i++ {
			submitted <- i
		}
		close(submitted)
		got := h5Gather(t, c, per)
		cancelers.Wait() // then every Cancel's answer is known
		for _, r := range got {
			h5Check(t, r)
		}
		for i, j := range jobs {
			p := j.cancelErr.Load()
			switch {
			case p == nil:
				t.Fatalf("round %d: request %d was never canceled", round, i)
			case *p == nil:
				if j.kind == h5Direct {
					t.Fatalf("round %d: Cancel of an O_DIRECT read returned nil: Linux cannot cancel it", round)
				}
				outcomes[j.kind.String()+" canceled"]++
			case errors.Is(*p, ErrInProgress), errors.Is(*p, ErrAlreadyCompleted):
				outcomes[fmt.Sprintf("%v %v", j.kind, *p)]++
			default:
				t.Fatalf("round %d: Cancel of a submitted %v request: %v", round, j.kind, *p)
			}
			if j.seen != 1 {
				t.Fatalf("round %d: request %d came back %d times", round, i, j.seen)
			}
			if j.kind == h5Direct {
				kernel++
			} else {
				goroutines++
			}
		}
		h5Idle(t, c, mb)
		h5CheckStats(t, c, kernel, goroutines)
	}
	t.Logf("Cancel outcomes: %v", outcomes)
}

// TestH5WakeupStorm: a submitter keeps O_DIRECT reads (kernel), buffered
// reads and reads of a pipe a writer feeds (goroutines) in flight, two
// goroutines call Wakeup without pause, and the waiter collects with Waits
// for more than it may get. Every Wait returns, with its requests and nil
// or ErrInterrupted; every request comes back exactly once, with its
// bytes. Then, with a read of an empty pipe beside O_DIRECT reads, each
// Wait that cannot be satisfied is ended by one Wakeup, which the waiter
// may receive asleep in the kernel or among the goroutines.
func TestH5WakeupStorm(t *testing.T) {
	const (
		blocks = 32
		total  = 3000
		pool   = 48
	)
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: pool, WaitWithoutPending: true})
	pr, pw := h3Pipe(t, false)

	free := make(chan *Request, pool)
	for _, r := range h5Requests(pool) {
		free <- r
	}
	var pipeReads atomic.Int64
	var helpers sync.WaitGroup
	var done atomic.Bool
	helpers.Go(func() { // the submitter
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < total && !done.Load(); i++ {
			r := <-free
			switch k := rng.IntN(5); {
			case k < 2:
				h5FileRead(t, r, fs, h5Direct, rng.IntN(blocks))
			case k < 4:
				h5FileRead(t, r, fs, h5Buffered, rng.IntN(blocks))
			default:
				h5PrepareRead(t, r, h5Pipe, pr, 0, make([]byte, 1), []byte{'p'})
				pipeReads.Add(1)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Errorf("Submit = %d, %v", n, err)
				done.Store(true)
			}
		}
	})
	helpers.Go(func() { // the pipe's writer, one byte per read, never ahead
		written := int64(0)
		for !done.Load() {
			if written < pipeReads.Load() {
				if _, err := pw.Write([]byte{'p'}); err != nil {
					t.Errorf("pipe write: %v", err)
					return
				}
				written++
			}
			runtime.Gosched()
		}
	})
	var wakeups, inKernel atomic.Int64
	for range 2 {
		helpers.Go(func() {
			for !done.Load() {
				if mb.sleep.Load() == sleepKernel {
					inKernel.Add(1)
				}
				if err := c.Wakeup(); err != nil {
					t.Errorf("Wakeup: %v", err)
					return
				}
				wakeups.Add(1)
				runtime.Gosched()
			}
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
	defer cancel()
	out := make([]*Request, 16)
	interrupted := 0
	for got := 0; got < total && !t.Failed(); {
		n, err := c.Wait(ctx, 8, out)
		for _, r := range out[:n] {
			h5Check(t, r)
			free <- r
		}
		got += n
		switch {
		case errors.Is(err, ErrInterrupted):
			interrupted++
		case err != nil:
			done.Store(true)
			t.Fatalf("Wait after %d of %d completions: %v", got, total, err)
		}
	}
	done.Store(true)
	helpers.Wait()
	t.Logf("%d Wakeups (%d seen the waiter asleep in the kernel), %d Waits interrupted, %d pipe reads", wakeups.Load(), inKernel.Load(), interrupted, pipeReads.Load())
	if t.Failed() {
		t.FailNow()
	}
	if err := c.Wakeup(); err != nil { // the storm's last one may be pending
		t.Fatal(err)
	}
	if n, err := c.Wait(ctx, 0, out); n != 0 || (err != nil && !errors.Is(err, ErrInterrupted)) {
		t.Fatalf("Wait after the storm = %d, %v", n, err)
	}
	h5Idle(t, c, mb)

	// One Wakeup ends each Wait that cannot be satisfied.
	empty := <-free
	h5PrepareRead(t, empty, h5Pipe, pr, 0, make([]byte, 1), []byte{'e'})
	h5Submit(t, c, empty)
	directs := make([]*Request, 0, 8)
	for range 8 {
		r := <-free
		h5FileRead(t, r, fs, h5Direct, len(directs))
		directs = append(directs, r)
	}
	h5Submit(t, c, directs...)
	for got, waits := 0, 0; got < len(directs); waits++ {
		waited := make(chan int, 1)
		go func() {
			n, err := c.Wait(context.Background(), len(directs)+1, out)
			if !errors.Is(err, ErrInterrupted) {
				t.Errorf("Wait %d that cannot be satisfied = %d, %v; want ErrInterrupted", waits, n, err)
			}
			waited <- n
		}()
		if waits%2 == 1 {
			h5UntilWaiting(t, c)
		}
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-waited:
			for _, r := range out[:n] {
				h5Check(t, r)
				free <- r
			}
			got += n
		case <-time.After(h5Hang):
			t.Fatalf("Wait %d still blocked after Wakeup", waits)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if _, err := pw.Write([]byte{'e'}); err != nil {
		t.Fatal(err)
	}
	h5Collect(t, c, 1)
	h5Idle(t, c, mb)
}

// TestH5WaitSemantics: Wait's min and ctx where both engines deliver.
//   - A Wait for more than is in flight returns every request, with
//     ErrNoRequests, once all came back (an O_DIRECT read the kernel fails,
//     misaligned, among them).
//   - Beside a read of an empty pipe, Waits whose ctx ends (deadlines of 0
//     to 2 ms, or a cancel from another goroutine) while a submitter keeps
//     reads of both engines coming return ctx.Err() with what they
//     collected, never more than out holds; nothing is lost or returned
//     twice. A Wait with min 0 returns at once.
func TestH5WaitSemantics(t *testing.T) {
	const blocks = 16
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: 64})

	t.Run("MinAboveInFlight", func(t *testing.T) {
		reqs := h5Requests(9)
		for i, r := range reqs[:8] {
			h5FileRead(t, r, fs, h5Kind(i%2), i)
		}
		misaligned := AlignedBuffer(2 * h5Block)[1 : h5Block+1]
		j := h5PrepareRead(t, reqs[8], h5Direct, fs.direct, 0, misaligned, nil)
		h5Submit(t, c, reqs...)
		ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
		defer cancel()
		out := make([]*Request, 16)
		n, err := c.Wait(ctx, 16, out)
		if n != len(reqs) || !errors.Is(err, ErrNoRequests) {
			t.Fatalf("Wait(min 16) with %d in flight = %d, %v; want %d, ErrNoRequests", len(reqs), n, err, len(reqs))
		}
		for _, r := range out[:n] {
			if r == reqs[8] {
				j.seen++
				if n, err := r.Result(); n != 0 || !errors.Is(err, syscall.EINVAL) {
					t.Errorf("misaligned O_DIRECT read = %d, %v; want EINVAL", n, err)
				}
				continue
			}
			h5Check(t, r)
		}
		if j.seen != 1 {
			t.Fatalf("the misaligned read came back %d times", j.seen)
		}
		h5Idle(t, c, mb)
	})

	t.Run("CtxEndsWhileCompleting", func(t *testing.T) {
		const total = 1500
		pr, pw := h3Pipe(t, false)
		empty := NewRequest()
		h5PrepareRead(t, empty, h5Pipe, pr, 0, make([]byte, 1), []byte{'x'})
		h5Submit(t, c, empty)

		free := make(chan *Request, 48)
		for _, r := range h5Requests(cap(free)) {
			free <- r
		}
		var submitter sync.WaitGroup
		var stop atomic.Bool
		submitter.Go(func() {
			rng := rand.New(rand.NewPCG(3, 4))
			for i := 0; i < total && !stop.Load(); i++ {
				r := <-free
				h5FileRead(t, r, fs, h5Kind(rng.IntN(2)), rng.IntN(blocks))
				if n, err := c.Submit(r); n != 1 || err != nil {
					t.Errorf("Submit = %d, %v", n, err)
					stop.Store(true)
				}
			}
		})
		defer func() { stop.Store(true); submitter.Wait() }()

		hang := time.Now().Add(h5Hang)
		rng := rand.New(rand.NewPCG(7, 8))
		out := make([]*Request, 8)
		ends := map[string]int{}
		for got := 0; got < total; {
			if time.Now().After(hang) {
				t.Fatalf("%d of %d completions after %v", got, total, h5Hang)
			}
			var (
				ctx    context.Context
				cancel context.CancelFunc
			)
			switch rng.IntN(4) {
			case 0:
				ctx, cancel = context.WithCancel(context.Background())
				go func() {
					runtime.Gosched()
					cancel()
				}()
			case 1:
				ctx, cancel = context.WithTimeout(context.Background(), 0)
			default:
				ctx, cancel = context.WithTimeout(context.Background(), time.Duration(rng.IntN(2000))*time.Microsecond)
			}
			// The empty pipe's read never comes: min len(out) is reached
			// only if len(out) others are ready.
			n, err := c.Wait(ctx, len(out), out)
			cancel()
			for _, r := range out[:n] {
				if r == empty {
					t.Fatal("the read of the empty pipe came back")
				}
				h5Check(t, r)
				free <- r
			}
			got += n
			switch {
			case err == nil && n == len(out):
				ends["filled"]++
			case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
				ends[err.Error()]++
			default:
				t.Fatalf("Wait(min %d) = %d, %v", len(out), n, err)
			}
		}
		t.Logf("Wait ends: %v", ends)
		ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
		defer cancel()
		if n, err := c.Wait(ctx, 0, out); n != 0 || err != nil {
			t.Fatalf("Wait(min 0) with only the empty pipe's read in flight = %d, %v; want 0, nil", n, err)
		}
		if _, err := pw.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		h5Collect(t, c, 1)
		h5Idle(t, c, mb)
	})
}

// TestH5MaxRequestsMixed: MaxRequests bounds requests of both engines
// together. With three reads of an empty pipe in flight under a bound of
// 8, a mixed batch of 7 gets 5 accepted and ErrAgain for the 2 left
// Prepared; a further Submit gets ErrAgain and nothing. Then three
// submitters share what room there is, retrying what ErrAgain left
// Prepared: InFlight never exceeds the bound, every request comes back
// once, and Stats counts exactly the O_DIRECT reads as Kernel and the
// others as Goroutines.
func TestH5MaxRequestsMixed(t *testing.T) {
	const (
		bound  = 8
		blocks = 16
		per    = 200 // per submitter
	)
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: bound})
	if c.MaxRequests() != bound {
		t.Fatalf("MaxRequests() = %d, want %d", c.MaxRequests(), bound)
	}
	pr, pw := h3Pipe(t, false)
	pipes := h5Requests(3)
	for _, r := range pipes {
		h5PrepareRead(t, r, h5Pipe, pr, 0, make([]byte, 1), []byte{'q'})
	}
	h5Submit(t, c, pipes...)

	batch := h5Requests(7)
	for i, r := range batch {
		h5FileRead(t, r, fs, h5Kind(i%2), i)
	}
	n, err := c.Submit(batch...)
	if n != 5 || !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Submit(7) with 3 of %d in flight = %d, %v; want 5, ErrAgain", bound, n, err)
	}
	for i, r := range batch {
		want := Submitted
		if i >= 5 {
			want = Prepared
		}
		if s := r.State(); s != want && !(want == Submitted && s == Completed) {
			t.Fatalf("request %d of the batch is %v, want %v", i, s, want)
		}
	}
	if n := c.InFlight(); n != bound {
		t.Fatalf("InFlight = %d, want %d", n, bound)
	}
	extra := NewRequest()
	h5FileRead(t, extra, fs, h5Direct, 0)
	if n, err := c.Submit(extra); n != 0 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit with %d of %d in flight = %d, %v; want 0, ErrAgain", bound, bound, n, err)
	}
	if extra.State() != Prepared {
		t.Fatalf("a request refused with ErrAgain is %v, want Prepared", extra.State())
	}
	h5Collect(t, c, 5)
	h5Submit(t, c, append(batch[5:], extra)...)
	h5Collect(t, c, 3)
	kernel, goroutines := uint64(5), uint64(3) // batch[0,2,4,6] and extra; batch[1,3,5]
	h5CheckStats(t, c, kernel, goroutines)

	var submitters, sampler sync.WaitGroup
	var stop, over atomic.Bool
	var kinds [2]atomic.Uint64
	sampler.Go(func() {
		for !stop.Load() {
			if c.InFlight() > bound {
				over.Store(true)
			}
			runtime.Gosched()
		}
	})
	for s := range 3 {
		submitters.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(s), 9))
			reqs := h5Requests(per)
			for _, r := range reqs {
				k := h5Kind(rng.IntN(2))
				kinds[k].Add(1)
				h5FileRead(t, r, fs, k, rng.IntN(blocks))
			}
			for queue := reqs; len(queue) > 0; {
				take := queue[:min(len(queue), 1+rng.IntN(4))]
				n, err := c.Submit(take...)
				if err != nil && !errors.Is(err, ErrAgain) {
					t.Errorf("Submit = %d, %v", n, err)
					return
				}
				var left []*Request
				for _, r := range take {
					if r.State() == Prepared {
						left = append(left, r)
					}
				}
				if len(left) != len(take)-n {
					t.Errorf("Submit accepted %d of %d, yet %d are left Prepared", n, len(take), len(left))
					return
				}
				queue = append(left, queue[len(take):]...)
				if len(left) > 0 {
					runtime.Gosched()
				}
			}
		})
	}
	h5Collect(t, c, 3*per)
	submitters.Wait()
	stop.Store(true)
	sampler.Wait()
	if over.Load() {
		t.Errorf("InFlight exceeded MaxRequests %d", bound)
	}
	kernel += kinds[h5Direct].Load()
	goroutines += kinds[h5Buffered].Load()
	h5CheckStats(t, c, kernel, goroutines)

	if _, err := pw.Write([]byte("qqq")); err != nil {
		t.Fatal(err)
	}
	h5Collect(t, c, 3)
	h5CheckStats(t, c, kernel, goroutines+3)
	h5Idle(t, c, mb)
}

// TestH5PipesNeverReady: reads of pipes that never get data (two in Go's
// poller, two in blocking mode) stay in flight while rounds of O_DIRECT
// and buffered reads complete with their bytes, with the default pool and
// with one worker. Cancel of a pipe read is answered consistently with
// what comes back; Wakeup ends a Wait for more; Close is refused. Once the
// writers close their ends the reads come back at end of file, and Close
// succeeds, leaving no goroutine behind.
func TestH5PipesNeverReady(t *testing.T) {
	for _, workers := range []int{0, 1} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			const blocks = 16
			fs := h5Data(t, blocks)
			type pipe struct{ r, w *os.File }
			var pipes []pipe
			for _, blocking := range []bool{false, false, true, true} {
				r, w := h3Pipe(t, blocking)
				pipes = append(pipes, pipe{r, w})
			}
			goroutines0 := runtime.NumGoroutine()
			c, mb := h5Context(t, Config{MaxRequests: 64, Workers: workers})

			preads := h5Requests(len(pipes))
			for i, r := range preads {
				h5PrepareRead(t, r, h5Pipe, pipes[i].r, 0, make([]byte, 8), nil)
			}
			h5Submit(t, c, preads...)
			reqs := h5Requests(24)
			for round := range 20 {
				for i, r := range reqs {
					k := h5Direct
					if i%3 == 2 {
						k = h5Buffered
					}
					h5FileRead(t, r, fs, k, (i+round)%blocks)
				}
				h5Submit(t, c, reqs...)
				h5Collect(t, c, len(reqs))
			}
			canceled := 0
			for i, r := range preads {
				err := r.Cancel()
				preads[i].User().(*h5Job).cancelErr.Store(&err)
				switch {
				case err == nil:
					canceled++
				case !errors.Is(err, ErrInProgress):
					t.Fatalf("Cancel of the read of an empty pipe: %v, want nil or ErrInProgress", err)
				}
			}
			h5Collect(t, c, canceled)
			if err := c.Close(); !errors.Is(err, ErrBusy) {
				t.Fatalf("Close with %d reads of empty pipes in flight = %v, want ErrBusy", len(pipes)-canceled, err)
			}
			if canceled < len(pipes) {
				waited := make(chan error, 1)
				go func() {
					_, err := c.Wait(context.Background(), len(pipes), make([]*Request, len(pipes)))
					waited <- err
				}()
				if err := c.Wakeup(); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-waited:
					if !errors.Is(err, ErrInterrupted) {
						t.Fatalf("Wait ended by Wakeup = %v, want ErrInterrupted", err)
					}
				case <-time.After(h5Hang):
					t.Fatal("Wait still blocked after Wakeup")
				}
			}
			for _, p := range pipes {
				if err := p.w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			// At end of file a read gives 0 bytes, no error.
			ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
			defer cancel()
			out := make([]*Request, len(pipes))
			for got := canceled; got < len(pipes); {
				n, err := c.Wait(ctx, 1, out)
				for _, r := range out[:n] {
					if m, err := r.Result(); m != 0 || err != nil {
						t.Errorf("read of a pipe closed for writing = %d, %v; want 0, nil", m, err)
					}
				}
				got += n
				if err != nil {
					t.Fatalf("Wait for the pipe reads after %d: %v", got, err)
				}
			}
			h5Idle(t, c, mb)
			if err := c.Close(); err != nil {
				t.Fatalf("Close once every request came back: %v", err)
			}
			h3Goroutines(t, goroutines0)
			t.Logf("%d of %d pipe reads canceled", canceled, len(pipes))
		})
	}
}

// TestH5RequestReuseAcrossEngines: one Request, prepared again each time it
// comes back (never Idle), goes from an O_DIRECT file to a buffered one to
// a pipe and back, reading and writing, single and vectored, and syncing:
// each time it is served by the engine its file calls for, with its
// result; a Prepare on one engine's file replaced, before Submit, by one
// on another's runs the second; Cancel right after Submit is answered
// consistently. Nothing stays pinned.
func TestH5RequestReuseAcrossEngines(t *testing.T) {
	const blocks = 8
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: 8})
	pr, pw := h3Pipe(t, false)
	pins := pin.Live()
	r := NewRequest()
	rng := rand.New(rand.NewPCG(11, 12))
	fileOf := func(k h5Kind) *os.File {
		if k == h5Direct {
			return fs.direct
		}
		return fs.buffered
	}
	run := func(what string, j *h5Job, kind h5Kind) {
		t.Helper()
		j.kind = kind
		h5Submit(t, c, r)
		if rng.IntN(3) == 0 {
			err := r.Cancel()
			switch {
			case err == nil && kind == h5Direct:
				t.Fatalf("%s: Cancel of a kernel request returned nil", what)
			case err != nil && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrAlreadyCompleted):
				t.Fatalf("%s: Cancel: %v", what, err)
			}
			j.cancelErr.Store(&err)
		}
		h5Collect(t, c, 1)
	}
	written := 0
	for i := range 300 {
		blk := rng.IntN(blocks)
		off := int64(blk * h5Block)
		want := fs.want[off : off+h5Block]
		kind := h5Kind(rng.IntN(3))
		switch op := rng.IntN(6); {
		case kind == h5Pipe:
			msg := []byte{byte('a' + i%26)}
			if _, err := pw.Write(msg); err != nil {
				t.Fatal(err)
			}
			j := h5PrepareRead(t, r, h5Pipe, pr, 0, make([]byte, 1), msg)
			run("pipe read", j, h5Pipe)
			if p := j.cancelErr.Load(); p != nil && *p == nil {
				if _, err := pr.Read(make([]byte, 1)); err != nil { // the canceled read's byte
					t.Fatal(err)
				}
			}
		case op == 0: // a write of what the block holds, so reads stay valid
			buf := AlignedBuffer(h5Block)
			copy(buf, want)
			j := &h5Job{off: off, size: h5Block, buf: buf, write: true}
			if err := r.PrepareWrite(fileOf(kind), off, buf, j); err != nil {
				t.Fatal(err)
			}
			run("write", j, kind)
			written++
		case op == 1: // readv over two aligned halves
			a, b := AlignedBuffer(h5Block/2), AlignedBuffer(h5Block/2)
			for i := range a {
				a[i], b[i] = h5Sentinel, h5Sentinel
			}
			j := &h5Job{off: off, size: h5Block, bufs: [][]byte{a, b}}
			if err := r.PrepareReadv(fileOf(kind), off, [][]byte{a, b}, j); err != nil {
				t.Fatal(err)
			}
			run("readv", j, kind)
			if p := j.cancelErr.Load(); p == nil || *p != nil {
				if !bytes.Equal(append(a[:len(a):len(a)], b...), want) {
					t.Fatalf("readv on the %v file: wrong bytes", kind)
				}
			}
		case op == 2: // a flush or a data sync: its Result is 0 bytes
			j := &h5Job{}
			prepare, what := r.PrepareFlush, "flush"
			if i%2 == 1 {
				prepare, what = r.PrepareDataSync, "data sync"
			}
			if err := prepare(fileOf(kind), j); err != nil {
				t.Fatal(err)
			}
			run(what, j, kind)
		case op == 3: // prepared on the pipe first, then on the file
			h5PrepareRead(t, r, h5Pipe, pr, 0, make([]byte, 1), nil)
			fallthrough
		default:
			j := h5FileRead(t, r, fs, kind, blk)
			run("read", j, kind)
		}
		if got := pin.Live(); got != pins {
			t.Fatalf("step %d: pin.Live() = %d with the request back, want %d", i, got, pins)
		}
	}
	h5Idle(t, c, mb)
	t.Logf("%d writes; Stats %+v", written, c.Stats())
}

// TestH5CancelRacesWrites: rounds of writes, each to its own block of an
// O_DIRECT file (kernel) or a buffered one (goroutines), canceled by two
// other goroutines while they complete. A write whose Cancel returned nil
// comes back with ErrCanceled and changed nothing in its file; every other
// one wrote its whole block. Both files are read back after each round.
func TestH5CancelRacesWrites(t *testing.T) {
	const (
		blocks = 32
		rounds = 30
	)
	fs := h5Data(t, blocks)
	c, mb := h5Context(t, Config{MaxRequests: 2 * blocks})
	rng := rand.New(rand.NewPCG(13, 14))
	model := [2][]byte{bytes.Clone(fs.want), bytes.Clone(fs.want)} // by kind: what each file holds
	fileOf := [2]*os.File{fs.direct, fs.buffered}
	reqs := h5Requests(blocks)
	bufs := make([][]byte, blocks)
	for i := range bufs {
		bufs[i] = AlignedBuffer(h5Block)
	}
	readBack := AlignedBuffer(blocks * h5Block)
	canceled := 0
	for round := range rounds {
		jobs := make([]*h5Job, blocks)
		for i, r := range reqs { // request i writes block i of one file
			k := h5Kind(rng.IntN(2))
			for b := range bufs[i] {
				bufs[i][b] = byte(round*31+i*7+b) | 1
			}
			jobs[i] = &h5Job{kind: k, write: true, off: int64(i * h5Block), size: h5Block, buf: bufs[i]}
			if err := r.PrepareWrite(fileOf[k], jobs[i].off, bufs[i], jobs[i]); err != nil {
				t.Fatal(err)
			}
		}
		submitted := make(chan int, blocks)
		var cancelers sync.WaitGroup
		for range 2 {
			cancelers.Go(func() {
				for i := range submitted {
					err := reqs[i].Cancel()
					jobs[i].cancelErr.Store(&err)
				}
			})
		}
		h5Submit(t, c, reqs[:blocks/2]...)
		for i := range blocks / 2 {
			submitted <- i
		}
		h5Submit(t, c, reqs[blocks/2:]...)
		for i := blocks / 2; i < blocks; i++ {
			submitted <- i
		}
		close(submitted)
		got := h5Gather(t, c, blocks)
		cancelers.Wait()
		for _, r := range got {
			h5Check(t, r)
		}
		for _, j := range jobs {
			if p := j.cancelErr.Load(); p != nil && *p == nil {
				if j.kind == h5Direct {
					t.Fatalf("round %d: Cancel of an O_DIRECT write returned nil: Linux cannot cancel it", round)
				}
				canceled++
				continue
			}
			copy(model[j.kind][j.off:], j.buf)
		}
		for k, f := range fileOf {
			if n, err := f.ReadAt(readBack, 0); n != len(readBack) || err != nil {
				t.Fatalf("round %d: reading back the %v file: %d, %v", round, h5Kind(k), n, err)
			}
			for b := range blocks {
				lo, hi := b*h5Block, (b+1)*h5Block
				if !bytes.Equal(readBack[lo:hi], model[k][lo:hi]) {
					cerr := jobs[b].cancelErr.Load()
					t.Fatalf("round %d: block %d of the %v file does not hold what its write (kind %v, Cancel %v) leaves", round, b, h5Kind(k), jobs[b].kind, *cerr)
				}
			}
		}
		h5Idle(t, c, mb)
	}
	t.Logf("%d of %d buffered writes canceled", canceled, c.Stats().Goroutines)
}

// TestH5KernelRejectsAtSubmit: io_submit refuses writes on an O_DIRECT file
// open read-only (EBADF) in a batch that also holds an O_DIRECT read and a
// buffered one, submitted while a Wait for all of them is blocked beside a
// read of an empty pipe: the Wait returns all four, the refused ones with
// EBADF, and Stats counts the refused ones as the kernel's.
func TestH5KernelRejectsAtSubmit(t *testing.T) {
	fs := h5Data(t, 2)
	ro, err := os.OpenFile(fs.direct.Name(), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c, mb := h5Context(t, Config{MaxRequests: 8})
	pr, pw := h3Pipe(t, false)
	pipeRead := NewRequest()
	h5PrepareRead(t, pipeRead, h5Pipe, pr, 0, make([]byte, 1), []byte{'z'})
	h5Submit(t, c, pipeRead)

	type waitResult struct {
		n   int
		err error
	}
	out := make([]*Request, 8)
	waited := make(chan waitResult, 1)
	go func() {
		n, err := c.Wait(context.Background(), 4, out)
		waited <- waitResult{n, err}
	}()
	h5UntilWaiting(t, c)
	reqs := h5Requests(4)
	h5FileRead(t, reqs[0], fs, h5Buffered, 0)
	h5FileRead(t, reqs[2], fs, h5Direct, 1)
	refused := map[*Request]bool{reqs[1]: true, reqs[3]: true}
	for r := range refused {
		if err := r.PrepareWrite(ro, 0, AlignedBuffer(h5Block), &h5Job{kind: h5Direct, write: true}); err != nil {
			t.Fatal(err)
		}
	}
	h5Submit(t, c, reqs...)
	var w waitResult
	select {
	case w = <-waited:
	case <-time.After(h5Hang):
		t.Fatal("Wait for four requests still blocked after they were submitted")
	}
	if w.n != 4 || w.err != nil {
		t.Fatalf("Wait(min 4) = %d, %v; want 4, nil", w.n, w.err)
	}
	for _, r := range out[:w.n] {
		if !refused[r] {
			h5Check(t, r)
			continue
		}
		if n, err := r.Result(); n != 0 || !errors.Is(err, syscall.EBADF) {
			t.Errorf("write on a read-only O_DIRECT file = %d, %v; want EBADF", n, err)
		}
		if r.engine != engineKernel {
			t.Errorf("write on a read-only O_DIRECT file served by engine %d", r.engine)
		}
	}
	h5CheckStats(t, c, 3, 1)
	if k := mb.kin.Load(); k != 0 {
		t.Fatalf("the mixed backend counts %d kernel requests in flight with only a pipe read left", k)
	}
	if _, err := pw.Write([]byte{'z'}); err != nil {
		t.Fatal(err)
	}
	h5Collect(t, c, 1)
	h5Idle(t, c, mb)
	h5CheckStats(t, c, 3, 2)
}

// TestH5ClosedFileRefusesMixedBatch: a batch of requests of both engines
// with one on a file closed since Prepare is refused whole, with an error
// matching os.ErrClosed: nothing in flight, nothing pinned, every request
// still Prepared, and the same batch without it then runs.
func TestH5ClosedFileRefusesMixedBatch(t *testing.T) {
	fs := h5Data(t, 4)
	c, mb := h5Context(t, Config{MaxRequests: 8})
	pr, pw := h3Pipe(t, false)
	closed, err := os.OpenFile(fs.direct.Name(), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	pins := pin.Live()
	reqs := h5Requests(4)
	h5FileRead(t, reqs[0], fs, h5Direct, 0)
	h5FileRead(t, reqs[1], fs, h5Buffered, 1)
	h5PrepareRead(t, reqs[2], h5Pipe, pr, 0, make([]byte, 2), []byte("ok"))
	h5PrepareRead(t, reqs[3], h5Direct, closed, 0, AlignedBuffer(h5Block), nil)
	closed.Close()
	if n, err := c.Submit(reqs...); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Submit of a batch with a closed file = %d, %v; want 0, os.ErrClosed", n, err)
	}
	for i, r := range reqs {
		if s := r.State(); s != Prepared {
			t.Fatalf("request %d of the refused batch is %v, want Prepared", i, s)
		}
	}
	if got := pin.Live(); got != pins {
		t.Fatalf("pin.Live() = %d after a refused Submit, want %d", got, pins)
	}
	h5Idle(t, c, mb)
	if _, err := pw.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	h5Submit(t, c, reqs[:3]...)
	h5Collect(t, c, 3)
	h5Idle(t, c, mb)
	h5CheckStats(t, c, 1, 2)
}

// TestH5OneSlot: with MaxRequests 1, a read of an empty pipe holds the
// slot: an O_DIRECT read is refused with ErrAgain and stays Prepared until
// the pipe read is back, then runs.
func TestH5OneSlot(t *testing.T) {
	fs := h5Data(t, 1)
	c, mb := h5Context(t, Config{MaxRequests: 1})
	pr, pw := h3Pipe(t, false)
	pipeRead, direct := NewRequest(), NewRequest()
	h5PrepareRead(t, pipeRead, h5Pipe, pr, 0, make([]byte, 1), []byte{'1'})
	h5Submit(t, c, pipeRead)
	h5FileRead(t, direct, fs, h5Direct, 0)
	if n, err := c.Submit(direct); n != 0 || !errors.Is(err, ErrAgain) || direct.State() != Prepared {
		t.Fatalf("Submit with the one slot taken = %d, %v (request %v); want 0, ErrAgain, Prepared", n, err, direct.State())
	}
	if _, err := pw.Write([]byte{'1'}); err != nil {
		t.Fatal(err)
	}
	h5Collect(t, c, 1)
	h5Submit(t, c, direct)
	h5Collect(t, c, 1)
	h5Idle(t, c, mb)
	h5CheckStats(t, c, 1, 1)
}

// userfaultfd(2)'s ioctls and constants (linux/userfaultfd.h), which
// golang.org/x/sys/unix does not have.
const (
	h5UffdAPI                 = 0xaa
	h5UffdioAPI               = 0xc018aa3f // _IOWR(0xaa, 0x3f, struct uffdio_api)
	h5UffdioRegister          = 0xc020aa00 // _IOWR(0xaa, 0x00, struct uffdio_register)
	h5UffdRegisterModeMissing = 1
	h5UffdEventPagefault      = 0x12
	h5UffdMsgSize             = 32 // sizeof(struct uffd_msg)
)

// h5Stall is a page whose first touch waits until release: a write from
// it, by a worker's pwrite, blocks in the kernel for as long as the test
// wants, on any file. fault reports when a thread is waiting there.
type h5Stall struct {
	uffd int
	mem  []byte
}

// h5NewStall makes an h5Stall, or skips t where userfaultfd is refused
// (it needs CAP_SYS_PTRACE to stop the kernel's own accesses, unless
// vm.unprivileged_userfaultfd is 1).
func h5NewStall(t *testing.T) *h5Stall {
	t.Helper()
	fd, _, errno := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
	if errno != 0 {
		t.Skipf("userfaultfd: %v: a write that blocks until the test releases it needs one", errno)
	}
	s := &h5Stall{uffd: int(fd)}
	api := struct{ api, features, ioctls uint64 }{api: h5UffdAPI}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, h5UffdioAPI, uintptr(unsafe.Pointer(&api))); errno != 0 {
		unix.Close(s.uffd)
		t.Skipf("UFFDIO_API: %v", errno)
	}
	mem, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	s.mem = mem
	reg := struct{ start, len, mode, ioctls uint64 }{
		start: uint64(uintptr(unsafe.Pointer(&mem[0]))), len: uint64(len(mem)), mode: h5UffdRegisterModeMissing,
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, h5UffdioRegister, uintptr(unsafe.Pointer(&reg))); errno != 0 {
		s.release()
		unix.Munmap(mem)
		t.Skipf("UFFDIO_REGISTER: %v", errno)
	}
	t.Cleanup(func() {
		s.release()
		unix.Munmap(mem)
	})
	return s
}

// fault returns once a thread waits for the page (a pagefault message).
func (s *h5Stall) fault(t *testing.T) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(s.uffd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(h5Hang/time.Millisecond))
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("no thread touched the stalled page within %v (poll: %d, %v)", h5Hang, n, err)
		}
		break
	}
	msg := make([]byte, h5UffdMsgSize)
	if n, err := unix.Read(s.uffd, msg); n != len(msg) || err != nil || msg[0] != h5UffdEventPagefault {
		t.Fatalf("userfaultfd message: %d, %v, event %#x", n, err, msg[0])
	}
}

// release lets every thread waiting for the page go on (with a page of
// zeros), and later touches need no waiting.
func (s *h5Stall) release() {
	if s.uffd >= 0 {
		unix.Close(s.uffd)
		s.uffd = -1
	}
}

// TestH5DoneNotHeldBySlowNeighbor: a worker that took a quick write and,
// after it, a write that blocks (its buffer stalled in the kernel) must not
// keep the quick one's completion from the waiter while the other blocks:
// it comes back from Wait, on DefaultBackend as on PortableBackend, when
// no Wait ran as it completed, and, on DefaultBackend, to a waiter asleep
// in the kernel while it completed.
func TestH5DoneNotHeldBySlowNeighbor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		be       Backend
		inKernel bool // the waiter sleeps in the kernel as the write completes
	}{
		{"default/no-waiter", DefaultBackend, false},
		{"portable/no-waiter", PortableBackend, false},
		{"default/waiter-in-kernel", DefaultBackend, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := h5Data(t, 2)
			stall := h5NewStall(t)
			var c *Context
			var mb *mixedBackend
			cfg := Config{MaxRequests: 4, Workers: 1, WaitWithoutPending: tc.inKernel}
			if tc.be == DefaultBackend {
				c, mb = h5Context(t, cfg)
			} else {
				c = h3Context(t, cfg, tc.be)
			}
			quick, slow := NewRequest(), NewRequest()
			quickBuf := bytes.Clone(fs.want[:h5Block])
			quickJob := &h5Job{kind: h5Buffered, write: true, size: h5Block, buf: quickBuf}
			if err := quick.PrepareWrite(fs.buffered, 0, quickBuf, quickJob); err != nil {
				t.Fatal(err)
			}
			if err := slow.PrepareWrite(fs.buffered, h5Block, stall.mem, nil); err != nil {
				t.Fatal(err)
			}

			out := make([]*Request, 2)
			type waitResult struct {
				n   int
				err error
			}
			waited := make(chan waitResult, 1)
			wait := func() {
				n, err := c.Wait(context.Background(), 1, out)
				waited <- waitResult{n, err}
			}
			if tc.inKernel {
				// A kernel request counted in flight keeps the waiter
				// asleep in the kernel, as one that takes long would.
				mb.kin.Add(1)
				go wait()
				deadline := time.Now().Add(h5Hang)
				for mb.sleep.Load() != sleepKernel {
					if time.Now().After(deadline) {
						t.Fatal("the waiter never slept in the kernel")
					}
					runtime.Gosched()
				}
			}
			h5Submit(t, c, quick, slow)
			// With one worker, its share is both writes, in order: the
			// quick one is done once the slow one waits for its page.
			stall.fault(t)
			if !tc.inKernel {
				go wait()
			}
			var w waitResult
			hung := false
			select {
			case w = <-waited:
			case <-time.After(h5Hang):
				hung = true
				if err := c.Wakeup(); err != nil {
					t.Error(err)
				}
				w = <-waited
			}
			if tc.inKernel {
				mb.kin.Add(-1)
			}
			stall.release()
			left := 2 - w.n
			back := h5Gather(t, c, left)
			if hung || w.n != 1 || w.err != nil || out[0] != quick {
				t.Fatalf("Wait(min 1) with one write done and one blocked: still blocked after %v: %v (then Wakeup: %d, %v); want the done one", h5Hang, hung, w.n, w.err)
			}
			h5Check(t, quick)
			if n, err := back[0].Result(); back[0] != slow || n != h5Block || err != nil {
				t.Fatalf("the released write = %d, %v", n, err)
			}
		})
	}
}

// TestH5QueuedNotHeldBySlowNeighbor: a worker that took a write that
// blocks (its buffer stalled in the kernel) and, after it, a quick write
// must not keep the quick one from the other workers while it blocks: the
// quick one completes, on DefaultBackend as on PortableBackend, while the
// first still waits.
func TestH5QueuedNotHeldBySlowNeighbor(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			fs := h5Data(t, 2)
			stall := h5NewStall(t)
			c := h3Context(t, Config{MaxRequests: 4, Workers: 4}, be)
			quick, slow := NewRequest(), NewRequest()
			quickBuf := bytes.Clone(fs.want[:h5Block])
			quickJob := &h5Job{kind: h5Buffered, write: true, size: h5Block, buf: quickBuf}
			// The stalled write holds its file's inode lock (ext4): the
			// quick one goes to another file.
			other, err := os.Create(filepath.Join(t.TempDir(), "other"))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := slow.PrepareWrite(other, 0, stall.mem, nil); err != nil {
				t.Fatal(err)
			}
			if err := quick.PrepareWrite(fs.buffered, 0, quickBuf, quickJob); err != nil {
				t.Fatal(err)
			}
			// One submission: the pool, quick while nothing was slow,
			// gives both to one worker, the stalled write first.
			h5Submit(t, c, slow, quick)
			stall.fault(t)
			ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
			out := make([]*Request, 2)
			n, err := c.Wait(ctx, 1, out)
			cancel()
			stall.release()
			back := h5Gather(t, c, 2-n)
			if n != 1 || err != nil || out[0] != quick {
				t.Fatalf("Wait(min 1) with a write blocked before a quick one in its worker's share = %d, %v; want the quick one", n, err)
			}
			h5Check(t, quick)
			if n, err := back[0].Result(); back[0] != slow || n != h5Block || err != nil {
				t.Fatalf("the released write = %d, %v", n, err)
			}
		})
	}
}

// TestH5WakeupsCoalesceAcrossEngines: a hundred Wakeups before a Wait
// with requests of both engines in flight end one Wait, with
// ErrInterrupted; what the engines kept of them (the goroutine engine's
// flag, the kernel's eventfd and poll job) does not end the next one,
// which returns every request with nil.
func TestH5WakeupsCoalesceAcrossEngines(t *testing.T) {
	fs := h5Data(t, 8)
	c, mb := h5Context(t, Config{MaxRequests: 16})
	pr, pw := h3Pipe(t, false)
	pipeRead := NewRequest()
	h5PrepareRead(t, pipeRead, h5Pipe, pr, 0, make([]byte, 1), []byte{'w'})
	reqs := append(h5Requests(8), pipeRead)
	for i, r := range reqs[:8] {
		h5FileRead(t, r, fs, h5Kind(i%2), i)
	}
	h5Submit(t, c, reqs...)
	for range 100 {
		if err := c.Wakeup(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
	defer cancel()
	out := make([]*Request, len(reqs))
	n, err := c.Wait(ctx, len(reqs), out)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Wait after 100 Wakeups = %d, %v; want ErrInterrupted", n, err)
	}
	for _, r := range out[:n] {
		h5Check(t, r)
	}
	if _, err := pw.Write([]byte{'w'}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Wait(ctx, len(reqs)-n, out[n:])
	if m != len(reqs)-n || err != nil {
		t.Fatalf("the Wait after the interrupted one = %d, %v; want %d, nil", m, err, len(reqs)-n)
	}
	for _, r := range out[n : n+m] {
		h5Check(t, r)
	}
	h5Idle(t, c, mb)
}

// TestH5CancelTwiceOver: four goroutines cancel each request of a mixed
// batch at once. At most one Cancel of a request returns nil, and one
// does exactly when it comes back with ErrCanceled; none does for an
// O_DIRECT read.
func TestH5CancelTwiceOver(t *testing.T) {
	const (
		per    = 32
		rounds = 40
	)
	fs := h5Data(t, per)
	c, mb := h5Context(t, Config{MaxRequests: per})
	reqs := h5Requests(per)
	rng := rand.New(rand.NewPCG(21, 22))
	for round := range rounds {
		jobs := h5Round(t, rng, fs, reqs, per)
		var nils [per]atomic.Int32
		var others [per]atomic.Pointer[error]
		var cancelers sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			cancelers.Go(func() {
				<-start
				for i, r := range reqs {
					err := r.Cancel()
					switch {
					case err == nil:
						nils[i].Add(1)
					case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted):
					default:
						others[i].Store(&err)
					}
				}
			})
		}
		h5Submit(t, c, reqs...)
		close(start)
		got := h5Gather(t, c, per)
		cancelers.Wait()
		for i, j := range jobs {
			if p := others[i].Load(); p != nil {
				t.Fatalf("round %d: Cancel of a submitted %v read: %v", round, j.kind, *p)
			}
			switch k := nils[i].Load(); {
			case k > 1:
				t.Fatalf("round %d: %d Cancels of one %v read returned nil", round, k, j.kind)
			case k == 1 && j.kind == h5Direct:
				t.Fatalf("round %d: Cancel of an O_DIRECT read returned nil", round)
			case k == 1:
				var none error
				j.cancelErr.Store(&none)
			default:
				already := ErrAlreadyCompleted
				j.cancelErr.Store(&already)
			}
		}
		for _, r := range got {
			h5Check(t, r)
		}
		h5Idle(t, c, mb)
	}
}

// TestH5CloseUnderWakeups: four goroutines call Wakeup without pause while
// the context, whose requests of both engines are all back, is closed:
// each Wakeup returns nil or, once Close has begun, ErrClosed, and none
// reaches the kernel's eventfd after Close closed it (a descriptor opened
// then would take its number).
func TestH5CloseUnderWakeups(t *testing.T) {
	fs := h5Data(t, 4)
	for round := range 10 {
		c, mb := h5Context(t, Config{MaxRequests: 8})
		reqs := h5Requests(4)
		for i, r := range reqs {
			h5FileRead(t, r, fs, h5Kind(i%2), i)
		}
		h5Submit(t, c, reqs...)
		h5Collect(t, c, len(reqs))
		h5Idle(t, c, mb)
		efd := mb.k.(*linuxBackend).efd
		var wakers sync.WaitGroup
		var closed atomic.Bool
		for range 4 {
			wakers.Go(func() {
				for {
					err := c.Wakeup()
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("round %d: Wakeup: %v", round, err)
						return
					}
					if closed.Load() {
						t.Errorf("round %d: Wakeup returned nil after Close returned", round)
						return
					}
				}
			})
		}
		runtime.Gosched()
		if err := c.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		closed.Store(true)
		// A descriptor that takes the eventfd's number: no Wakeup may
		// write it.
		taken, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		wakers.Wait()
		buf := make([]byte, 8)
		_, rerr := unix.Read(taken, buf)
		unix.Close(taken)
		if taken == efd && rerr != syscall.EAGAIN {
			t.Fatalf("round %d: the descriptor that took the closed eventfd's number was written (read: %v)", round, rerr)
		}
	}
}

// TestH5CloseRacesSubmitAndWait: two goroutines submit O_DIRECT and
// buffered reads, one collects them, and another calls Close until it
// succeeds. Close never succeeds with a request accepted and not yet
// returned, or with the waiter inside Wait: every accepted request comes
// back exactly once; a Submit after Close gets ErrClosed and leaves its
// request Prepared; and the context leaves no goroutine, descriptor or
// kernel AIO context behind.
func TestH5CloseRacesSubmitAndWait(t *testing.T) {
	const blocks = 16
	fs := h5Data(t, blocks)
	runtime.GC()
	fds0, rings0, goroutines0 := h3Fds(t), h5Rings(t), runtime.NumGoroutine()
	for round := range 6 {
		c, _ := h5Context(t, Config{MaxRequests: 32})
		var accepted, collected, refused atomic.Int64
		var wg sync.WaitGroup
		// Each submitter has requests of its own, neither in flight nor
		// being checked: only it prepares them, so one it sees Prepared
		// after Submit was refused, not taken back and prepared again by
		// the other meanwhile.
		var free [2]chan *Request
		owner := make(map[*Request]int)
		for s := range free {
			free[s] = make(chan *Request, 16)
			for _, r := range h5Requests(cap(free[s])) {
				owner[r] = s
				free[s] <- r
			}
		}
		stopped := make(chan struct{})
		for s := range 2 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(s)))
				batch := make([]*Request, 0, 4)
				for {
					batch = batch[:0]
					for len(batch) < 1+rng.IntN(cap(batch)) {
						select {
						case r := <-free[s]:
							h5FileRead(t, r, fs, h5Kind(rng.IntN(2)), rng.IntN(blocks))
							batch = append(batch, r)
							continue
						case <-stopped:
						}
						break
					}
					if len(batch) == 0 {
						return // stopped, and the pool was empty
					}
					n, err := c.Submit(batch...)
					accepted.Add(int64(n))
					switch {
					case errors.Is(err, ErrClosed):
						for _, r := range batch {
							if r.State() != Prepared {
								t.Errorf("a request refused by a closed context is %v", r.State())
							}
						}
						refused.Add(1)
						return
					case err != nil && !errors.Is(err, ErrAgain):
						t.Errorf("Submit: %v", err)
						return
					}
					for _, r := range batch {
						if r.State() == Prepared { // refused for want of room
							free[s] <- r
						}
					}
				}
			})
		}
		wg.Go(func() { // the waiter
			out := make([]*Request, 8)
			for {
				n, err := c.Wait(context.Background(), 1, out)
				for _, r := range out[:n] {
					h5Check(t, r)
					free[owner[r]] <- r
				}
				collected.Add(int64(n))
				switch {
				case errors.Is(err, ErrClosed):
					return
				case err != nil && !errors.Is(err, ErrNoRequests):
					t.Errorf("Wait: %v", err)
					return
				}
			}
		})
		for deadline := time.Now().Add(h5Hang); collected.Load() < 100; {
			if time.Now().After(deadline) || t.Failed() {
				t.Fatalf("round %d: %d requests back after %v", round, collected.Load(), h5Hang)
			}
			runtime.Gosched()
		}
		busy := 0
		for {
			err := c.Close()
			if err == nil {
				break
			}
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("round %d: Close: %v", round, err)
			}
			busy++
			runtime.Gosched()
		}
		close(stopped)
		var done sync.WaitGroup
		done.Go(wg.Wait)
		h4Hang(t, "submitters and waiter after Close", &done)
		if a, col := accepted.Load(), collected.Load(); a != col {
			t.Fatalf("round %d: Close succeeded with %d accepted requests and %d returned", round, a, col)
		}
		if round == 0 {
			t.Logf("round 0: %d Closes refused, %d requests, %d Submits refused by the closed context", busy, accepted.Load(), refused.Load())
		}
	}
	if got := h5Rings(t); got != rings0 {
		t.Errorf("%d kernel AIO rings mapped after the contexts closed, %d before", got, rings0)
	}
	if got := h3Fds(t); got != fds0 {
		t.Errorf("%d descriptors open after the contexts closed, %d before", got, fds0)
	}
	h3Goroutines(t, goroutines0)
}

// TestH5SubmitStuckInKernel: a Submit of a buffered read and an O_DIRECT
// read into a page the kernel must wait for (io_submit blocks pinning it)
// is stuck in io_submit, after handing the buffered read to goroutines.
// Meanwhile Wakeup ends a Wait, Close returns ErrBusy, Cancel reports the
// requests not submitted yet, InFlight and Stats answer: none waits for the
// Submit. Once the page is released the Submit accepts both, and Wait
// returns both with their bytes.
func TestH5SubmitStuckInKernel(t *testing.T) {
	fs := h5Data(t, 2)
	stall := h5NewStall(t)
	c, mb := h5Context(t, Config{MaxRequests: 8, WaitWithoutPending: true})
	buffered, direct := NewRequest(), NewRequest()
	h5FileRead(t, buffered, fs, h5Buffered, 0)
	dj := &h5Job{kind: h5Direct, off: h5Block, size: h5Block, buf: stall.mem, want: fs.want[h5Block : 2*h5Block]}
	if err := direct.PrepareRead(fs.direct, h5Block, stall.mem, dj); err != nil {
		t.Fatal(err)
	}
	type submitResult struct {
		n   int
		err error
	}
	submitted := make(chan submitResult, 1)
	go func() {
		n, err := c.Submit(buffered, direct)
		submitted <- submitResult{n, err}
	}()
	stall.fault(t)
	released := false
	defer func() {
		if !released {
			stall.release()
			<-submitted
			h5Gather(t, c, 2)
		}
	}()

	waited := make(chan error, 1)
	go func() {
		_, err := c.Wait(context.Background(), 2, make([]*Request, 2))
		waited <- err
	}()
	h5UntilWaiting(t, c)
	if err := c.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close during a Submit stuck in io_submit = %v, want ErrBusy", err)
	}
	for _, r := range []*Request{buffered, direct} {
		if err := r.Cancel(); !errors.Is(err, ErrNotSubmitted) {
			t.Fatalf("Cancel of a request whose Submit is stuck = %v, want ErrNotSubmitted", err)
		}
	}
	if n := c.InFlight(); n != 0 {
		t.Fatalf("InFlight = %d during the Submit, want 0", n)
	}
	h5CheckStats(t, c, 0, 0)
	if err := c.Wakeup(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait ended by Wakeup during a stuck Submit = %v, want ErrInterrupted", err)
		}
	case <-time.After(h5Hang):
		t.Fatal("Wait still blocked after Wakeup, while a Submit is stuck in io_submit")
	}

	stall.release()
	released = true
	select {
	case s := <-submitted:
		if s.n != 2 || s.err != nil {
			t.Fatalf("Submit once the page is released = %d, %v; want 2, nil", s.n, s.err)
		}
	case <-time.After(h5Hang):
		t.Fatal("Submit still stuck after the page was released")
	}
	h5Collect(t, c, 2)
	h5Idle(t, c, mb)
	h5CheckStats(t, c, 1, 1)
}

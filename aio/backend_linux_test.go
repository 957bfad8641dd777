//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/pin"
	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// linuxContext creates a KernelBackend Context and checks, when the test
// ends, that closing it leaves no pin and no descriptor behind. Where the
// kernel has no AIO (linuxNoAIO) it checks that KernelBackend is refused
// and returns instead a DefaultBackend context, which is then the portable
// fallback, whose KernelError must name the kernel's refusal.
func linuxContext(t *testing.T, cfg Config) *Context {
	t.Helper()
	linuxTempFile(t, os.O_RDWR) // the runtime's first file opens its poller's descriptors
	fds, pins := linuxCountFDs(t), pin.Live()
	noAIO := linuxNoAIO(t)
	cfg.Backend = KernelBackend
	if noAIO != nil {
		linuxCheckKernelRefused(t, cfg, noAIO)
		cfg.Backend = DefaultBackend
	}
	var c *Context
	linuxRetryAgain(t, func() (err error) {
		c, err = NewContext(cfg)
		return err
	})
	if noAIO != nil {
		linuxCheckFallback(t, c, noAIO)
	} else if _, ok := c.be.(*linuxBackend); !ok || c.Kernel() != "linux-aio" || c.KernelError() != nil {
		t.Fatalf("KernelBackend on Linux is %T (%q, KernelError %v), want *linuxBackend", c.be, c.Kernel(), c.KernelError())
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if got := pin.Live(); got != pins {
			t.Errorf("pin.Live() = %d after Close, want %d", got, pins)
		}
		if got := linuxCountFDs(t); got != fds {
			t.Errorf("%d descriptors open after Close, want %d", got, fds)
		}
	})
	return c
}

// linuxNoAIO returns the errno io_setup answers where the kernel has no AIO
// (ENOSYS: CONFIG_AIO=n, qemu-user, gVisor) or refuses it (EPERM: a seccomp
// filter), and nil where the kernel has AIO.
func linuxNoAIO(t testing.TB) error {
	t.Helper()
	ctx, err := sys.IoSetup(1)
	switch err {
	case nil:
		if err := sys.IoDestroy(ctx); err != nil {
			t.Fatalf("io_destroy: %v", err)
		}
		return nil
	case syscall.EAGAIN:
		return nil // AIO is there; fs.aio-max-nr is taken for the moment
	case syscall.ENOSYS, syscall.EPERM:
		return err
	}
	t.Fatalf("io_setup(1): %v", err)
	return nil
}

// linuxCheckKernelRefused checks that NewContext(cfg), a KernelBackend
// configuration, fails with ErrNotSupported and noAIO.
func linuxCheckKernelRefused(t testing.TB, cfg Config, noAIO error) {
	t.Helper()
	c, err := NewContext(cfg)
	if err == nil {
		c.Close()
		t.Fatalf("KernelBackend where io_setup fails with %v: NewContext succeeded, driving %q", noAIO, c.Kernel())
	}
	if !errors.Is(err, ErrNotSupported) || !errors.Is(err, noAIO) {
		t.Fatalf("KernelBackend where io_setup fails with %v: NewContext: %v, want an error matching ErrNotSupported and the errno", noAIO, err)
	}
}

// linuxCheckFallback checks that c, a DefaultBackend context on a kernel
// that answers io_setup with noAIO, runs on the portable backend and says
// why through KernelError.
func linuxCheckFallback(t testing.TB, c *Context, noAIO error) {
	t.Helper()
	kerr := c.KernelError()
	if c.Kernel() != "portable" {
		t.Fatalf("DefaultBackend where io_setup fails with %v drives %q, want the portable fallback", noAIO, c.Kernel())
	}
	if !errors.Is(kerr, ErrNotSupported) || !errors.Is(kerr, noAIO) {
		t.Fatalf("KernelError() = %v, want an error matching ErrNotSupported and %v", kerr, noAIO)
	}
	t.Logf("kernel AIO unavailable, testing the portable fallback: %v", kerr)
}

// linuxRetryAgain calls setup until it succeeds, retrying for a while on
// ErrAgain: fs.aio-max-nr is shared by every process on the machine, and
// another one may hold it all for a moment.
func linuxRetryAgain(t *testing.T, setup func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := setup()
		if err == nil {
			return
		}
		if !errors.Is(err, ErrAgain) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		t.Logf("retrying: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

func linuxCountFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func linuxTempFile(t *testing.T, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "data"), flag|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// linuxDirectFile opens a file with O_DIRECT in os.TempDir(), the directory
// SystemLimits measures, or skips the test where that filesystem refuses it.
func linuxDirectFile(t *testing.T) *os.File {
	t.Helper()
	dir, err := os.MkdirTemp("", "aio-direct")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f, err := os.OpenFile(filepath.Join(dir, "data"), os.O_RDWR|os.O_CREATE|syscall.O_DIRECT, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s does not support O_DIRECT", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// linuxRun submits reqs and waits for all of them, failing on any error.
func linuxRun(t *testing.T, c *Context, reqs ...*Request) {
	t.Helper()
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit(%d) = %d, %v", len(reqs), n, err)
	}
	linuxWait(t, c, len(reqs))
}

// linuxWait collects n completions within ten seconds.
func linuxWait(t *testing.T, c *Context, n int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]*Request, n)
	got, err := c.Wait(ctx, n, out)
	if got != n || err != nil {
		t.Fatalf("Wait(min %d) = %d, %v", n, got, err)
	}
	return out
}

func linuxResult(t *testing.T, r *Request, want int) {
	t.Helper()
	if n, err := r.Result(); n != want || err != nil {
		t.Fatalf("%v request: Result() = %d, %v; want %d, nil", r.op, n, err, want)
	}
}

func linuxPattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func TestLinuxDirectWriteReadBack(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxDirectFile(t)
	lim, err := SystemLimits()
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 10
	wbuf, rbuf := AlignedBuffer(size), AlignedBuffer(size)
	copy(wbuf, linuxPattern(size, 3))
	w, r := NewRequest(), NewRequest()
	if err := w.PrepareWrite(f, int64(lim.BufferAlignment), wbuf, "w"); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, w)
	linuxResult(t, w, size)
	if err := r.PrepareRead(f, int64(lim.BufferAlignment), rbuf, "r"); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, r)
	linuxResult(t, r, size)
	if !bytes.Equal(rbuf, wbuf) {
		t.Fatal("bytes read back with O_DIRECT differ from those written")
	}
	if r.User() != "r" {
		t.Fatalf("User() = %v", r.User())
	}
}

func TestLinuxVectored(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxTempFile(t, os.O_RDWR)
	want := linuxPattern(10000, 9)
	w := NewRequest()
	if err := w.PrepareWritev(f, 5, [][]byte{want[:1], {}, want[1:4096], want[4096:]}, nil); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, w)
	linuxResult(t, w, len(want))
	got := make([]byte, len(want)+5)
	r := NewRequest()
	if err := r.PrepareReadv(f, 0, [][]byte{got[:5], got[5:3000], got[3000:]}, nil); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, r)
	linuxResult(t, r, len(got))
	if !bytes.Equal(got[5:], want) || !bytes.Equal(got[:5], make([]byte, 5)) {
		t.Fatal("vectored read differs from the vectored write")
	}
}

func TestLinuxFlushAndDataSync(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxTempFile(t, os.O_RDWR)
	w := NewRequest()
	if err := w.PrepareWrite(f, 0, linuxPattern(4096, 1), nil); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, w)
	flush, dsync := NewRequest(), NewRequest()
	if err := flush.PrepareFlush(f, nil); err != nil {
		t.Fatal(err)
	}
	if err := dsync.PrepareDataSync(f, nil); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, flush, dsync)
	linuxResult(t, flush, 0)
	linuxResult(t, dsync, 0)
}

// TestLinuxRejectedMidBatch has io_submit stop at a read on a write-only
// file between two writes: the read comes back through Wait with EBADF,
// and the writes around it are queued and complete.
func TestLinuxRejectedMidBatch(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxTempFile(t, os.O_WRONLY)
	reqs := []*Request{NewRequest(), NewRequest(), NewRequest()}
	if err := reqs[0].PrepareWrite(f, 0, []byte("ab"), nil); err != nil {
		t.Fatal(err)
	}
	if err := reqs[1].PrepareRead(f, 0, make([]byte, 2), nil); err != nil {
		t.Fatal(err)
	}
	if err := reqs[2].PrepareWrite(f, 2, []byte("cd"), nil); err != nil {
		t.Fatal(err)
	}
	linuxRun(t, c, reqs...)
	linuxResult(t, reqs[0], 2)
	linuxResult(t, reqs[2], 2)
	if _, err := reqs[1].Result(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("read on a write-only file: Result() error = %v, want EBADF", err)
	}
}

func TestLinuxWakeupBeforeWait(t *testing.T) {
	c := linuxContext(t, Config{WaitWithoutPending: true})
	if err := c.Wakeup(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Wait(context.Background(), 1, make([]*Request, 1)); n != 0 || err != ErrInterrupted {
		t.Fatalf("Wait after Wakeup = %d, %v; want 0, ErrInterrupted", n, err)
	}
}

// TestLinuxWakeLatched drives the backend of a context directly (kernel
// AIO, or the portable fallback): a wake that lands before wait blocks
// still ends it, the poll is re-armed after each wake, and a consumed wake
// does not end the next wait.
func TestLinuxWakeLatched(t *testing.T) {
	b := linuxContext(t, Config{MaxRequests: 4}).be
	evs := make([]event, 4)
	for i := range 3 {
		if err := b.wake(); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			_ = b.wake() // wakes coalesce
		}
		done := make(chan bool, 1)
		go func() {
			for {
				n, woke, err := b.wait(evs, 10*time.Second)
				if err == syscall.EINTR {
					continue
				}
				done <- n == 0 && woke && err == nil
				return
			}
		}()
		if !<-done {
			t.Fatalf("round %d: wait after wake did not report the wake", i)
		}
		if n, woke, err := b.wait(evs, 0); n != 0 || woke || err != nil {
			t.Fatalf("round %d: poll after the wake was consumed = %d, %v, %v; want 0, false, nil", i, n, woke, err)
		}
	}
}

func TestLinuxWakeupDuringWait(t *testing.T) {
	c := linuxContext(t, Config{WaitWithoutPending: true})
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(context.Background(), 1, make([]*Request, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := c.Wakeup(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != ErrInterrupted {
			t.Fatalf("Wait = %v, want ErrInterrupted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wakeup did not end a blocked Wait")
	}
}

func TestLinuxDeadline(t *testing.T) {
	c := linuxContext(t, Config{WaitWithoutPending: true})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n, err := c.Wait(ctx, 1, make([]*Request, 1))
	if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %d, %v; want 0, DeadlineExceeded", n, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Wait returned after %v, want about 50ms", d)
	}
}

// TestLinuxThousandInFlight keeps 1000 reads in flight, collects them at
// least 100 at a time under garbage-collector pressure, and checks that
// each comes back once with its own bytes.
func TestLinuxThousandInFlight(t *testing.T) {
	const count, size = 1000, 512
	c := linuxContext(t, Config{MaxRequests: count})
	f := linuxTempFile(t, os.O_RDWR)
	data := linuxPattern(count*size, 5)
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	reqs := make([]*Request, count)
	bufs := make([][]byte, count)
	for i := range reqs {
		reqs[i], bufs[i] = NewRequest(), make([]byte, size)
		if err := reqs[i].PrepareRead(f, int64(i*size), bufs[i], i); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Submit(reqs...); n != count || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	seen := make([]bool, count)
	out := make([]*Request, 200)
	for got := 0; got < count; {
		runtime.GC()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := c.Wait(ctx, min(100, count-got), out)
		cancel()
		if err != nil {
			t.Fatalf("Wait after %d: %d, %v", got, n, err)
		}
		for _, r := range out[:n] {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("request %d returned twice", i)
			}
			seen[i] = true
			linuxResult(t, r, size)
			if !bytes.Equal(bufs[i], data[i*size:(i+1)*size]) {
				t.Fatalf("request %d read the wrong bytes", i)
			}
		}
		got += n
	}
}

// TestLinuxCancel checks the cancel contract on Linux, where a file job
// cannot be canceled: Cancel reports ErrInProgress and the request
// completes normally, exactly once. On the portable fallback a job still
// queued is canceled (Cancel nil, Result ErrCanceled) and one that ended
// already is reported so; it too comes back exactly once.
func TestLinuxCancel(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxTempFile(t, os.O_RDWR)
	r := NewRequest()
	if err := r.Cancel(); err != ErrNotSubmitted {
		t.Fatalf("Cancel on an Idle request = %v", err)
	}
	if err := r.PrepareWrite(f, 0, linuxPattern(4096, 2), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(); err != ErrNotSubmitted {
		t.Fatalf("Cancel on a Prepared request = %v", err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	cancelErr := r.Cancel()
	linuxWait(t, c, 1)
	switch kernelAIO := c.KernelError() == nil; {
	case cancelErr == ErrInProgress, !kernelAIO && cancelErr == ErrAlreadyCompleted:
		linuxResult(t, r, 4096)
	case !kernelAIO && cancelErr == nil:
		if n, err := r.Result(); n != 0 || !errors.Is(err, ErrCanceled) {
			t.Fatalf("canceled write: Result() = %d, %v; want 0, ErrCanceled", n, err)
		}
	default:
		t.Fatalf("Cancel on a submitted file write on %q = %v, want ErrInProgress", c.Kernel(), cancelErr)
	}
	if err := r.Cancel(); err != ErrAlreadyCompleted {
		t.Fatalf("Cancel on a Completed request = %v", err)
	}
	if n, err := c.Wait(context.Background(), 0, make([]*Request, 1)); n != 0 || err != ErrNoRequests {
		t.Fatalf("Wait after the only request returned = %d, %v; want 0, ErrNoRequests", n, err)
	}
}

func TestLinuxMaxRequests(t *testing.T) {
	c := linuxContext(t, Config{MaxRequests: 4})
	if c.MaxRequests() != 4 {
		t.Fatalf("MaxRequests() = %d", c.MaxRequests())
	}
	f := linuxTempFile(t, os.O_RDWR)
	reqs := make([]*Request, 5)
	for i := range reqs {
		reqs[i] = NewRequest()
		if err := reqs[i].PrepareWrite(f, int64(i), []byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	n, err := c.Submit(reqs...)
	if n != 4 || !errors.Is(err, ErrAgain) {
		t.Fatalf("Submit(5) with MaxRequests 4 = %d, %v; want 4, ErrAgain", n, err)
	}
	if reqs[4].State() != Prepared {
		t.Fatalf("refused request is %v, want Prepared", reqs[4].State())
	}
	linuxWait(t, c, 4)
	linuxRun(t, c, reqs[4])
	linuxResult(t, reqs[4], 1)
}

// TestLinuxClampLimit checks the clamp without a context that large, which
// would take fs.aio-max-nr from every other process while it exists.
func TestLinuxClampLimit(t *testing.T) {
	maxNr, err := readSysInt(aioMaxNrPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want int }{
		{1, 1},
		{256, min(256, maxNr/contextShare-1)},
		{maxNr, min(maxNr/contextShare-1, maxKernelContext)},
		{1 << 40, min(maxNr/contextShare-1, maxKernelContext)},
	} {
		if got := clampLimit(tc.in); got != tc.want {
			t.Errorf("clampLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestLinuxIoSetupEAGAIN(t *testing.T) {
	err := ioSetupError(8, syscall.EAGAIN)
	if !errors.Is(err, ErrAgain) {
		t.Fatalf("io_setup EAGAIN became %v, want ErrAgain", err)
	}
}

func TestLinuxClosed(t *testing.T) {
	var c *Context
	linuxRetryAgain(t, func() (err error) {
		c, err = NewContext(Config{})
		return err
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Wakeup(); err != ErrClosed {
		t.Fatalf("Wakeup after Close = %v", err)
	}
	if err := c.Close(); err != ErrClosed {
		t.Fatalf("second Close = %v", err)
	}
}

func TestLinuxSystemLimits(t *testing.T) {
	lim, err := SystemLimits()
	if err != nil {
		t.Fatal(err)
	}
	want, err := readSysInt(aioMaxNrPath)
	if err != nil {
		t.Fatal(err)
	}
	if lim.MaxOutstanding != want || lim.BatchMax < 1 || lim.BufferAlignment < 512 || lim.BufferAlignment&(lim.BufferAlignment-1) != 0 {
		t.Fatalf("SystemLimits() = %+v", lim)
	}
}

// TestLinuxZeroAllocs checks the steady state: a reused request costs no
// allocation per Prepare, Submit and Wait.
func TestLinuxZeroAllocs(t *testing.T) {
	c := linuxContext(t, Config{})
	f := linuxTempFile(t, os.O_RDWR)
	buf := make([]byte, 512)
	bufs := [][]byte{buf[:100], buf[100:]}
	r := NewRequest()
	out := make([]*Request, 1)
	ctx := context.Background()
	round := func() {
		if err := r.PrepareReadv(f, 0, bufs, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(r); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Wait(ctx, 1, out); n != 1 || err != nil {
			t.Fatalf("Wait = %d, %v", n, err)
		}
	}
	round()
	if a := testing.AllocsPerRun(100, round); a != 0 {
		t.Fatalf("%v allocations per round trip, want 0", a)
	}
}

// TestLinuxEventfdNonblocking guards the wake path: a full eventfd counter
// must not block Wakeup. Where the kernel has no AIO it checks instead that
// newLinuxBackend refuses with ErrNotSupported and the errno, leaving no
// descriptor open, and that wakes on the fallback coalesce without
// blocking.
func TestLinuxEventfdNonblocking(t *testing.T) {
	if noAIO := linuxNoAIO(t); noAIO != nil {
		linuxTestRefusal(t, noAIO)
		return
	}
	var b *linuxBackend
	linuxRetryAgain(t, func() (err error) {
		b, _, err = newLinuxBackend(1)
		return err
	})
	defer b.close()
	fl, err := unix.FcntlInt(uintptr(b.efd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Fatalf("eventfd flags %#x, %v; want O_NONBLOCK", fl, err)
	}
}

// linuxTestRefusal is TestLinuxEventfdNonblocking on a kernel whose
// io_setup answers noAIO.
func linuxTestRefusal(t *testing.T, noAIO error) {
	c := linuxContext(t, Config{WaitWithoutPending: true})
	fds := linuxCountFDs(t)
	b, n, err := newLinuxBackend(1)
	if b != nil || n != 0 || !errors.Is(err, ErrNotSupported) || !errors.Is(err, noAIO) {
		t.Fatalf("newLinuxBackend(1) = %v, %d, %v; want nil, 0 and an error matching ErrNotSupported and %v", b, n, err, noAIO)
	}
	if got := linuxCountFDs(t); got != fds {
		t.Fatalf("%d descriptors open after the refused newLinuxBackend, want %d", got, fds)
	}
	for i := range 1 << 12 {
		if err := c.Wakeup(); err != nil {
			t.Fatalf("Wakeup %d: %v", i, err)
		}
	}
	if n, err := c.Wait(context.Background(), 1, make([]*Request, 1)); n != 0 || err != ErrInterrupted {
		t.Fatalf("Wait after the wakes = %d, %v; want 0, ErrInterrupted", n, err)
	}
	if n, err := c.Wait(context.Background(), 0, make([]*Request, 1)); n != 0 || err != nil {
		t.Fatalf("poll after the coalesced wakes were reported = %d, %v; want 0, nil", n, err)
	}
}

//go:build linux && fbsdmodel

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
	"github.com/fileaio/fileaio/internal/pin"
	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// These tests run the FreeBSD backend over internal/fbsdmodel. Each one
// ends by asking the model whether the backend broke a rule FreeBSD would
// punish silently (a job never aio_returned, an aiocb resubmitted too
// early, a kqueue closed with jobs, unpinned memory) and that no pin is
// left.

func kqModel(t *testing.T) *fbsdmodel.Kernel {
	t.Helper()
	k := fbsdmodel.Default()
	if err := k.Check(); err != nil {
		t.Fatalf("model not clean before the test: %v", err)
	}
	kqCheckPins(t)
	t.Cleanup(func() {
		if err := k.Check(); err != nil {
			t.Errorf("model after the test: %v", err)
			k.ResetViolations()
		}
	})
	return k
}

func kqContext(t *testing.T, cfg Config) *Context {
	t.Helper()
	if modelRefusesFiles() {
		t.Skip("every file is on a non-local mount (FBSDMODEL_NONLOCAL=1): FreeBSD's AIO refuses them all, as TestKqueueNonLocalRefused shows")
	}
	cfg.Backend = KernelBackend
	c, err := NewContext(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.be.(*kqueueBackend); !ok || c.Kernel() != "freebsd-aio" {
		t.Fatalf("KernelBackend is %T (%q), want the kqueue backend", c.be, c.Kernel())
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && err != ErrClosed {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// drain waits until n requests came back and returns them.
func drain(t *testing.T, c *Context, n int) []*Request {
	t.Helper()
	out := make([]*Request, n)
	got := 0
	for got < n {
		k, err := c.Wait(kqLongCtx(t), n-got, out[got:])
		got += k
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", got, n, err)
		}
	}
	return out
}

func TestKqueueWriteReadBack(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 0)
	data := kqPattern(0, 100000)
	w := NewRequest()
	if err := w.PrepareWrite(f, 0, data, nil); err != nil {
		t.Fatal(err)
	}
	fl := NewRequest()
	if err := fl.PrepareFlush(f, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(w, fl); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	drain(t, c, 2)
	if n, err := w.Result(); n != len(data) || err != nil {
		t.Fatalf("write Result = %d, %v", n, err)
	}
	if _, err := fl.Result(); err != nil {
		t.Fatalf("flush Result: %v", err)
	}
	a, b := make([]byte, 60000), make([]byte, 60000)
	r, rv := NewRequest(), NewRequest()
	if err := r.PrepareRead(f, 0, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := rv.PrepareReadv(f, 50000, [][]byte{b[:10], b[10:]}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(r, rv); err != nil {
		t.Fatal(err)
	}
	drain(t, c, 2)
	if n, err := r.Result(); n != 60000 || err != nil || !bytes.Equal(a, data[:60000]) {
		t.Fatalf("read Result = %d, %v (data equal %v)", n, err, bytes.Equal(a, data[:60000]))
	}
	if n, err := rv.Result(); n != 50000 || err != nil || !bytes.Equal(b[:n], data[50000:]) {
		t.Fatalf("readv past EOF Result = %d, %v", n, err)
	}
}

// Every aiocb asks for a one-shot knote: a level-triggered one is reported
// again on every kevent call until aio_return (§B).
func TestKqueueOneShotKnotes(t *testing.T) {
	k := kqModel(t)
	before := k.Stats().KnoteFlags
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	reqs := kqPrepared(t, f, 50)
	if _, err := c.Submit(reqs...); err != nil {
		t.Fatal(err)
	}
	drain(t, c, 50)
	after := k.Stats().KnoteFlags
	for flags, n := range after {
		if d := n - before[flags]; d != 0 && flags != sys.EV_ONESHOT {
			t.Errorf("%d knotes registered with flags %#x, want EV_ONESHOT (%#x) only", d, flags, sys.EV_ONESHOT)
		}
	}
	if d := after[sys.EV_ONESHOT] - before[sys.EV_ONESHOT]; d != 50 {
		t.Errorf("%d one-shot knotes registered, want 50", d)
	}
}

// A job the kernel failed at completion reports its errno, not the -1
// aio_return returns (bug 2).
func TestKqueueReturnErrno(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	k.FailFd(int(f.Fd()), syscall.EIO)
	defer k.FailFd(int(f.Fd()), 0)
	r := kqPrepared(t, f, 1)[0]
	if _, err := c.Submit(r); err != nil {
		t.Fatal(err)
	}
	drain(t, c, 1)
	if _, err := r.Result(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Result error %v, want EIO", err)
	}
}

// A request the kernel rejects inside lio_listio (EBADF: read on a
// write-only descriptor) completes with that errno without aio_return,
// while the others of the same call are queued and collected (bug 5).
func TestKqueueRejectedEntry(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	wo, err := os.OpenFile(filepath.Join(t.TempDir(), "wo"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	reqs := kqPrepared(t, f, 3)
	if err := reqs[1].PrepareRead(wo, 0, make([]byte, 8), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(reqs...); n != 3 || err != nil {
		t.Fatalf("Submit = %d, %v; want 3, nil", n, err)
	}
	drain(t, c, 3)
	if _, err := reqs[1].Result(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("rejected entry: %v, want EBADF", err)
	}
	for _, i := range []int{0, 2} {
		if n, err := reqs[i].Result(); n != 8 || err != nil {
			t.Fatalf("entry %d: %d, %v", i, n, err)
		}
	}
}

// When the kernel's per-process queue is full, lio_listio queues what fits;
// the rest stays Prepared with ErrAgain, and goes through once the queue
// drains. A flush refused by aio_fsync with EAGAIN stays Prepared too
// (bug 4: judged by errno, not by the return value).
func TestKqueueQueueFull(t *testing.T) {
	k := kqModel(t)
	limit, err := sys.SysctlUint32("vfs.aio.max_aio_queue_per_proc")
	if err != nil {
		t.Fatal(err)
	}
	f := kqFile(t, 4096)
	a := kqContext(t, Config{})
	b := kqContext(t, Config{})
	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	first := kqPrepared(t, f, int(limit)-10)
	if n, err := a.Submit(first...); n != len(first) || err != nil {
		t.Fatalf("first Submit = %d, %v", n, err)
	}
	second := kqPrepared(t, f, 30)
	n, err := b.Submit(second...)
	if n != 10 || !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("second Submit = %d, %v; want 10, ErrAgain", n, err)
	}
	if s := kqStates(second); s[Submitted] != 10 || s[Prepared] != 20 {
		t.Fatalf("states after partial submit: %v", s)
	}
	flush := NewRequest()
	if err := flush.PrepareFlush(f, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Submit(flush); n != 0 || !errors.Is(err, ErrAgain) || flush.State() != Prepared {
		t.Fatalf("flush at the limit: %d, %v, %v; want 0, ErrAgain, Prepared", n, err, flush.State())
	}
	k.Release()
	held = false
	drain(t, a, len(first))
	drain(t, b, 10)
	rest := append(second[10:], flush)
	if n, err := b.Submit(rest...); n != len(rest) || err != nil {
		t.Fatalf("resubmit = %d, %v", n, err)
	}
	drain(t, b, len(rest))
	if k.Outstanding() != 0 {
		t.Fatalf("%d jobs left in the kernel", k.Outstanding())
	}
}

// Canceled jobs still post their kevent and still need aio_return; each
// comes back once, with ErrCanceled (bug 3).
func TestKqueueCancel(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	k.Hold()
	reqs := kqPrepared(t, f, 40)
	if _, err := c.Submit(reqs...); err != nil {
		k.Release()
		t.Fatal(err)
	}
	for i, r := range reqs {
		if err := r.Cancel(); err != nil {
			k.Release()
			t.Fatalf("Cancel %d: %v", i, err)
		}
	}
	k.Release()
	out := drain(t, c, 40)
	seen := map[*Request]int{}
	for _, r := range out {
		seen[r]++
		if _, err := r.Result(); !errors.Is(err, ErrCanceled) {
			t.Fatalf("Result %v, want ErrCanceled", err)
		}
		if err := r.Cancel(); err != ErrAlreadyCompleted {
			t.Fatalf("Cancel after completion: %v", err)
		}
	}
	if len(seen) != 40 {
		t.Fatalf("%d distinct requests came back, want 40", len(seen))
	}
	if k.Outstanding() != 0 {
		t.Fatalf("%d jobs left in the kernel", k.Outstanding())
	}
}

// A running job cannot be canceled: ErrInProgress, and it completes.
func TestKqueueCancelRunning(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	k.Stall()
	r := kqPrepared(t, f, 1)[0]
	if _, err := c.Submit(r); err != nil {
		k.Unstall()
		t.Fatal(err)
	}
	for k.Running() == 0 {
		time.Sleep(time.Millisecond)
	}
	err := r.Cancel()
	k.Unstall()
	if err != ErrInProgress {
		t.Fatalf("Cancel of a running job: %v, want ErrInProgress", err)
	}
	drain(t, c, 1)
	if n, err := r.Result(); n != 8 || err != nil {
		t.Fatalf("Result %d, %v", n, err)
	}
}

// More than 64 requests waited for at once: the harvest buffer holds 64
// events and is never asked for more (bug 1).
func TestKqueueWaitMany(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{MaxRequests: 256})
	f := kqFile(t, 4096)
	reqs := kqPrepared(t, f, 200)
	if n, err := c.Submit(reqs...); n != 200 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	out := drain(t, c, 200)
	seen := map[*Request]bool{}
	for _, r := range out {
		if seen[r] {
			t.Fatal("a request came back twice")
		}
		seen[r] = true
	}
}

// A Wakeup that lands before the waiter blocks is latched in the kqueue
// (EVFILT_USER with NOTE_TRIGGER), so the backend's wait returns at once
// even without the state machine's flag (bug 5 of the wakeup kind).
func TestKqueueWakeLatched(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{})
	c.mu.Lock()
	err := c.be.wake()
	c.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]event, 4)
	n, woke, err := c.be.wait(evs, time.Minute)
	for err == syscall.EINTR {
		n, woke, err = c.be.wait(evs, time.Minute)
	}
	if n != 0 || !woke || err != nil {
		t.Fatalf("wait after wake = %d, %v, %v; want 0, true, nil", n, woke, err)
	}
	if n, woke, err := c.be.wait(evs, 0); n != 0 || woke || err != nil {
		t.Fatalf("second wait = %d, %v, %v; want the trigger consumed", n, woke, err)
	}
}

// Wakeups from another goroutine while Wait blocks in kevent, many times
// over, with EINTR injected into blocking kevent calls: every Wait ends
// with ErrInterrupted, never with EINTR (which is retried).
func TestKqueueWakeupDuringWaitWithEINTR(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{WaitWithoutPending: true})
	before := k.Stats().EINTRs
	out := make([]*Request, 1)
	for i := range 300 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			kqUntilWaiting(t, c)
			time.Sleep(time.Duration(i%4) * time.Millisecond)
			if err := c.Wakeup(); err != nil {
				t.Error(err)
			}
		}()
		if _, err := c.Wait(kqLongCtx(t), 1, out); err != ErrInterrupted {
			t.Fatalf("Wait %d: %v, want ErrInterrupted", i, err)
		}
		wg.Wait()
	}
	if k.Stats().EINTRs == before {
		t.Fatal("the model injected no EINTR: the retry path was not exercised")
	}
}

// The soak: thousands of mixed requests over several rounds, each delivered
// once, the model clean afterwards.
func TestKqueueMixedRounds(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{MaxRequests: 128})
	f := kqFile(t, 1<<16)
	reqs := make([]*Request, 128)
	for i := range reqs {
		reqs[i] = NewRequest()
	}
	bufs := make([][]byte, len(reqs))
	for i := range bufs {
		bufs[i] = make([]byte, 512)
	}
	for round := range 20 {
		for i, r := range reqs {
			var err error
			off := int64((i*512 + round) % (1<<16 - 512))
			switch i % 5 {
			case 0:
				err = r.PrepareWrite(f, off, bufs[i], i)
			case 1:
				err = r.PrepareReadv(f, off, [][]byte{bufs[i][:100], bufs[i][100:]}, i)
			case 2:
				err = r.PrepareDataSync(f, i)
			default:
				err = r.PrepareRead(f, off, bufs[i], i)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
			t.Fatalf("round %d: Submit = %d, %v", round, n, err)
		}
		seen := make([]bool, len(reqs))
		for _, r := range drain(t, c, len(reqs)) {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("round %d: request %d came back twice", round, i)
			}
			seen[i] = true
			if _, err := r.Result(); err != nil {
				t.Fatalf("round %d: request %d: %v", round, i, err)
			}
		}
	}
	if k.Outstanding() != 0 {
		t.Fatalf("%d jobs left in the kernel", k.Outstanding())
	}
}

func kqCheckPins(t *testing.T) {
	t.Cleanup(func() {
		if n := pin.Live(); n != 0 {
			t.Errorf("%d pins live after the test", n)
		}
	})
}

func kqFile(t *testing.T, size int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "data"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(kqPattern(0, size)); err != nil {
		t.Fatal(err)
	}
	return f
}

func kqPattern(off int64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off+int64(i))*13 + 5)
	}
	return b
}

// kqPrepared returns n reads of 8 bytes, request i reading at offset i%64
// with user value i.
func kqPrepared(t *testing.T, f *os.File, n int) []*Request {
	t.Helper()
	reqs := make([]*Request, n)
	for i := range reqs {
		reqs[i] = NewRequest()
		if err := reqs[i].PrepareRead(f, int64(i%64), make([]byte, 8), i); err != nil {
			t.Fatal(err)
		}
	}
	return reqs
}

func kqLongCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func kqUntilWaiting(t *testing.T, c *Context) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		c.mu.Lock()
		w := c.waiting
		c.mu.Unlock()
		if w {
			return
		}
	}
	t.Error("no goroutine entered Wait")
}

func kqStates(reqs []*Request) map[State]int {
	m := map[State]int{}
	for _, r := range reqs {
		m[r.State()]++
	}
	return m
}

// The 13.x rule bites: there a vectored entry of a lio_listio list is
// refused with EINVAL, so the backend submits vectored requests with
// aio_readv/aio_writev, and they succeed, among reads and a flush in the
// same batch. On 14.0 and later the list takes them and the backend puts
// them there. The model plays the release FBSDMODEL_OSRELDATE names; CI
// runs this test as 13.x and as 15.0.
func TestKqueueVectoredByRelease(t *testing.T) {
	if modelRefusesFiles() {
		t.Skip("every file is on a non-local mount (FBSDMODEL_NONLOCAL=1): the kernel refuses them before looking at the opcode")
	}
	k := kqModel(t)
	old := k.Osreldate() < osreldateVectoredLists
	f := kqFile(t, 4096)

	// Straight to the kernel: one LIO_READV entry in a list.
	var pins pin.Set
	defer pins.Unpin()
	buf := make([]byte, 8)
	iov := []sys.Iovec{{Base: &buf[0], Len: 8}}
	cb := &sys.Aiocb{Fildes: int32(f.Fd()), Offset: 16, Buf: (*byte)(unsafe.Pointer(&iov[0])), Nbytes: 1, LioOpcode: sys.LIO_READV}
	pins.Pin(unsafe.Pointer(cb), unsafe.Sizeof(*cb))
	pins.Pin(unsafe.Pointer(&iov[0]), unsafe.Sizeof(iov[0]))
	pins.Bytes(buf)
	err := sys.LioListio(sys.LIO_NOWAIT, []*sys.Aiocb{cb}, nil)
	if old {
		if !errors.Is(err, syscall.EIO) || cb.Private.Error != int64(syscall.EINVAL) || cb.Private.Status != -1 {
			t.Fatalf("13.x: vectored list entry: %v, entry %d/%d; want EIO, status -1, error EINVAL", err, cb.Private.Status, cb.Private.Error)
		}
	} else {
		if err != nil {
			t.Fatalf("14+: vectored list entry: %v", err)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			if v, _ := sys.AioError(cb); v != int(syscall.EINPROGRESS) || time.Now().After(deadline) {
				break
			}
		}
		if n, err := sys.AioReturn(cb); n != 8 || err != nil || !bytes.Equal(buf, kqPattern(16, 8)) {
			t.Fatalf("14+: vectored list entry returned %d, %v", n, err)
		}
	}

	// Through the backend: the vectored requests succeed either way.
	before := k.Stats()
	c := kqContext(t, Config{})
	wdata := kqPattern(7, 300)
	wv, fl, rv, r := NewRequest(), NewRequest(), NewRequest(), NewRequest()
	lo, hi := make([]byte, 100), make([]byte, 200)
	plain := make([]byte, 300)
	for _, err := range []error{
		wv.PrepareWritev(f, 1000, [][]byte{wdata[:120], wdata[120:]}, nil),
		fl.PrepareFlush(f, nil),
		rv.PrepareReadv(f, 1000, [][]byte{lo, hi}, nil),
		r.PrepareRead(f, 1000, plain, nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Submit(wv, fl); n != 2 || err != nil {
		t.Fatalf("Submit(writev, flush) = %d, %v", n, err)
	}
	drain(t, c, 2)
	if n, err := c.Submit(r, rv); n != 2 || err != nil {
		t.Fatalf("Submit(read, readv) = %d, %v", n, err)
	}
	drain(t, c, 2)
	for name, req := range map[string]*Request{"writev": wv, "readv": rv, "read": r} {
		if n, err := req.Result(); n != 300 || err != nil {
			t.Fatalf("%s Result = %d, %v", name, n, err)
		}
	}
	if _, err := fl.Result(); err != nil {
		t.Fatalf("flush Result: %v", err)
	}
	if got := append(lo, hi...); !bytes.Equal(got, wdata) || !bytes.Equal(plain, wdata) {
		t.Fatal("read back other data than written")
	}
	after := k.Stats()
	listed, single := after.VectoredListEntries-before.VectoredListEntries, after.VectoredCalls-before.VectoredCalls
	if old && (listed != 0 || single != 2) || !old && (listed != 2 || single != 0) {
		t.Fatalf("release %d: %d vectored list entries and %d aio_readv/aio_writev calls", k.Osreldate(), listed, single)
	}
}

// The context's kqueue is close-on-exec however the release makes it (the
// model also records a violation otherwise, which kqModel reports).
func TestKqueueCloseOnExec(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{})
	fl, err := unix.FcntlInt(uintptr(c.be.(*kqueueBackend).fd()), unix.F_GETFD, 0)
	if err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Fatalf("kqueue descriptor flags %#x, %v; want FD_CLOEXEC", fl, err)
	}
}

// A request on a file of a non-local mount is refused at submission with
// EOPNOTSUPP (§F.4): each kind comes back from Wait once with that errno,
// and the kernel keeps none of them.
func TestKqueueNonLocalRefused(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	if err := k.SetNonLocal(int(f.Fd()), true); err != nil {
		t.Fatal(err)
	}
	defer k.SetNonLocal(int(f.Fd()), false)
	reqs := []*Request{NewRequest(), NewRequest(), NewRequest(), NewRequest(), NewRequest()}
	for i, err := range []error{
		reqs[0].PrepareRead(f, 0, make([]byte, 8), nil),
		reqs[1].PrepareWrite(f, 0, make([]byte, 8), nil),
		reqs[2].PrepareReadv(f, 0, [][]byte{make([]byte, 8)}, nil),
		reqs[3].PrepareWritev(f, 0, [][]byte{make([]byte, 8)}, nil),
		reqs[4].PrepareFlush(f, nil),
	} {
		if err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
	}
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit = %d, %v; want %d, nil", n, err, len(reqs))
	}
	if k.Outstanding() != 0 {
		t.Fatalf("the kernel keeps %d jobs of refused requests", k.Outstanding())
	}
	seen := map[*Request]bool{}
	for _, r := range drain(t, c, len(reqs)) {
		seen[r] = true
		if _, err := r.Result(); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("%v Result: %v, want EOPNOTSUPP", r.op, err)
		}
	}
	if len(seen) != len(reqs) {
		t.Fatalf("%d distinct requests came back, want %d", len(seen), len(reqs))
	}
}

// Other processes hold every system-wide slot (vfs.aio.max_aio_queue) while
// this context has nothing in flight: Submit reports ErrAgain, the request
// stays Prepared and is neither lost nor counted; once the slots are freed
// it goes through and comes back once.
func TestKqueueSystemQueueFull(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	release := k.System().Occupy(k.System().Free())
	defer release()
	reqs := kqPrepared(t, f, 3)
	flush := NewRequest()
	if err := flush.PrepareFlush(f, nil); err != nil {
		t.Fatal(err)
	}
	reqs = append(reqs, flush)
	n, err := c.Submit(reqs...)
	if n != 0 || !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Submit at the system limit = %d, %v; want 0, ErrAgain", n, err)
	}
	if s := kqStates(reqs); s[Prepared] != len(reqs) {
		t.Fatalf("states at the system limit: %v", s)
	}
	if k.Outstanding() != 0 || pin.Live() != 0 {
		t.Fatalf("%d jobs in the kernel, %d pins live", k.Outstanding(), pin.Live())
	}
	if got, err := c.Wait(kqLongCtx(t), 0, make([]*Request, 4)); got != 0 || !errors.Is(err, ErrNoRequests) {
		t.Fatalf("Wait = %d, %v; want 0, ErrNoRequests (nothing counted in flight)", got, err)
	}
	release()
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("resubmit = %d, %v", n, err)
	}
	seen := map[*Request]int{}
	for _, r := range drain(t, c, len(reqs)) {
		seen[r]++
		if _, err := r.Result(); err != nil {
			t.Fatalf("Result: %v", err)
		}
	}
	if len(seen) != len(reqs) {
		t.Fatalf("%d distinct requests came back, want %d", len(seen), len(reqs))
	}
}

// The queue limit (also lio_listio's) lowered at run time below the
// context's batch size: lio_listio refuses the whole list with EINVAL. No
// request may fail for that; the backend cuts the list at the new limit,
// the requests the queue cannot take stay Prepared with ErrAgain, and all
// go through once the queue drains.
func TestKqueueListLimitLowered(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	const lowered = 8
	if c.be.batchMax() <= lowered*2 {
		t.Fatalf("batch size %d too small for the test", c.be.batchMax())
	}
	if err := k.SetSysctl("vfs.aio.max_aio_queue_per_proc", lowered); err != nil {
		t.Fatal(err)
	}
	defer k.SetSysctl("vfs.aio.max_aio_queue_per_proc", fbsdmodel.MAX_AIO_QUEUE_PER_PROC)
	reqs := kqPrepared(t, f, 2*lowered+3)
	done := 0
	for rest := reqs; len(rest) > 0; {
		n, err := c.Submit(rest...)
		if err != nil && !errors.Is(err, ErrAgain) {
			t.Fatalf("Submit: %v", err)
		}
		for _, r := range drain(t, c, n) {
			if _, err := r.Result(); err != nil {
				t.Fatalf("request %d: %v", r.User().(int), err)
			}
			done++
		}
		if n == 0 || n > lowered {
			t.Fatalf("Submit accepted %d of %d, with nothing in flight and a queue of %d", n, len(rest), lowered)
		}
		var left []*Request
		for _, r := range rest {
			if r.State() == Prepared {
				left = append(left, r)
			}
		}
		rest = left
	}
	if done != len(reqs) {
		t.Fatalf("%d requests came back, want %d", done, len(reqs))
	}
	if b := c.be.batchMax(); b != lowered {
		t.Fatalf("batchMax = %d after the limit was lowered to %d", b, lowered)
	}
}

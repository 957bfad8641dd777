//go:build linux && fbsdmodel

package aio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// Cases of freebsd-aio-semantics.md (§I, §J) that the other kqueue tests
// do not reach, over the kernel model.

// The outstanding limit is vfs.aio.max_aio_queue_per_proc, the knob whose
// excess is EAGAIN, not vfs.aio.max_aio_per_proc, which only bounds how many
// jobs run at once (bug 10); the list limit is p1003_1b.aio_listio_max, far
// above AIO_LISTIO_MAX, and one lio_listio takes a whole batch up to it
// (bug 13).
func TestKqueueLimitKnobs(t *testing.T) {
	k := kqModel(t)
	read := func(name string) int {
		v, err := sys.SysctlUint32(name)
		if err != nil {
			t.Fatalf("sysctl %s: %v", name, err)
		}
		return int(v)
	}
	queue, active, list := read("vfs.aio.max_aio_queue_per_proc"), read("vfs.aio.max_aio_per_proc"), read("p1003_1b.aio_listio_max")
	if queue == active {
		t.Fatalf("the model's max_aio_queue_per_proc and max_aio_per_proc are both %d: the test cannot tell them apart", queue)
	}
	if err := k.SetSysctl("vfs.aio.max_aio_per_proc", uint32(active/2)); err != nil {
		t.Fatal(err)
	}
	defer k.SetSysctl("vfs.aio.max_aio_per_proc", uint32(active))
	lim, err := SystemLimits()
	if err != nil {
		t.Fatal(err)
	}
	if lim.MaxOutstanding != queue || lim.BatchMax != list {
		t.Fatalf("SystemLimits() = %+v; want MaxOutstanding %d (max_aio_queue_per_proc) and BatchMax %d (p1003_1b.aio_listio_max)", lim, queue, list)
	}
	c := kqContext(t, Config{})
	batch := c.be.batchMax()
	if batch != min(list, c.MaxRequests()) || batch <= sys.AIO_LISTIO_MAX {
		t.Fatalf("batchMax = %d with p1003_1b.aio_listio_max %d and MaxRequests %d; want their minimum, above AIO_LISTIO_MAX (%d)", batch, list, c.MaxRequests(), sys.AIO_LISTIO_MAX)
	}
	f := kqFile(t, 4096)
	reqs := kqPrepared(t, f, batch)
	if calls := planKqueueCalls(nil, reqs, 0, true, batch); len(calls) != 1 || calls[0].end != batch {
		t.Fatalf("a batch of %d reads is cut into %+v, want one lio_listio", batch, calls)
	}
	if n, err := c.Submit(reqs...); n != batch || err != nil {
		t.Fatalf("Submit of %d = %d, %v", batch, n, err)
	}
	drain(t, c, batch)
}

// kqueue(2) may return descriptor 0, which is a kqueue like any other
// (bug 12: the original took only a result > 0 for success, and leaked 0).
func TestKqueueAtDescriptorZero(t *testing.T) {
	kqModel(t)
	f := kqFile(t, 4096)
	saved, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Skipf("descriptor 0 is not open: %v", err)
	}
	unix.Close(0)
	defer func() {
		if err := unix.Dup3(saved, 0, 0); err != nil {
			t.Errorf("restoring descriptor 0: %v", err)
		}
		unix.Close(saved)
	}()
	c := kqContext(t, Config{})
	if kq := c.be.(*kqueueBackend).fd(); kq != 0 {
		t.Fatalf("the context's kqueue is descriptor %d with 0 free", kq)
	}
	reqs := kqPrepared(t, f, 3)
	if n, err := c.Submit(reqs...); n != 3 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	for _, r := range drain(t, c, 3) {
		if n, err := r.Result(); n != 8 || err != nil {
			t.Fatalf("Result = %d, %v", n, err)
		}
	}
	if err := c.Wakeup(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(kqLongCtx(t), 1, make([]*Request, 1)); err != ErrInterrupted {
		t.Fatalf("Wait after Wakeup = %v, want ErrInterrupted", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err == nil {
		t.Fatal("descriptor 0 still open after Close")
	}
}

// One batch mixing requests the kernel queues with ones it rejects inside
// the same lio_listio, for different reasons (a read on a write-only
// descriptor: EBADF; a file on a non-local mount: EOPNOTSUPP), many rounds
// so that queued entries often finish before the call's outcome is sorted
// out: every request comes back exactly once with its own outcome, and the
// kernel keeps nothing (bug 5, §J case 4).
func TestKqueueMixedRefusals(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	dir := t.TempDir()
	wo, err := os.OpenFile(filepath.Join(dir, "wo"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	remote := kqFile(t, 4096)
	if err := k.SetNonLocal(int(remote.Fd()), true); err != nil {
		t.Fatal(err)
	}
	defer k.SetNonLocal(int(remote.Fd()), false)
	want := []syscall.Errno{0, syscall.EBADF, 0, syscall.EOPNOTSUPP, 0, syscall.EBADF}
	reqs := make([]*Request, len(want))
	for i := range reqs {
		reqs[i] = NewRequest()
	}
	for round := range 30 {
		for i, r := range reqs {
			var err error
			switch {
			case want[i] == syscall.EBADF:
				err = r.PrepareRead(wo, 0, make([]byte, 8), i)
			case want[i] == syscall.EOPNOTSUPP:
				err = r.PrepareRead(remote, 0, make([]byte, 8), i)
			case i == 2:
				err = r.PrepareWrite(f, 100, kqPattern(100, 8), i)
			default:
				err = r.PrepareRead(f, int64(i), make([]byte, 8), i)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
			t.Fatalf("round %d: Submit = %d, %v; want %d, nil", round, n, err, len(reqs))
		}
		seen := make([]bool, len(reqs))
		for _, r := range drain(t, c, len(reqs)) {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("round %d: request %d came back twice", round, i)
			}
			seen[i] = true
			n, err := r.Result()
			switch {
			case want[i] != 0 && !errors.Is(err, want[i]):
				t.Fatalf("round %d: request %d: %d, %v; want %v", round, i, n, err, want[i])
			case want[i] == 0 && (n != 8 || err != nil):
				t.Fatalf("round %d: request %d: %d, %v; want 8, nil", round, i, n, err)
			}
		}
		if n, err := c.Wait(kqLongCtx(t), 0, make([]*Request, 1)); n != 0 || !errors.Is(err, ErrNoRequests) {
			t.Fatalf("round %d: Wait after every request came back = %d, %v; want 0, ErrNoRequests", round, n, err)
		}
		if n := k.Outstanding(); n != 0 {
			t.Fatalf("round %d: the kernel keeps %d jobs", round, n)
		}
	}
}

// Close with requests in flight is ErrBusy and keeps the kqueue; after the
// drain it closes it, and every kernel queue slot the context took is free
// again: vfs.aio.num_queue_count is back where it was (bug 11, §J case 10).
func TestKqueueCloseFreesSlots(t *testing.T) {
	k := kqModel(t)
	read := func() int {
		v, err := sys.SysctlUint32("vfs.aio.num_queue_count")
		if err != nil {
			t.Fatal(err)
		}
		return int(v)
	}
	before := read()
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	reqs := kqPrepared(t, f, 20)
	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if q := read(); q != before+len(reqs) {
		t.Fatalf("num_queue_count = %d with %d queued, want %d", q, len(reqs), before+len(reqs))
	}
	if err := c.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close with requests in flight: %v, want ErrBusy", err)
	}
	k.Release()
	held = false
	drain(t, c, len(reqs))
	if err := c.Close(); err != nil {
		t.Fatalf("Close after the drain: %v", err)
	}
	if q := read(); q != before {
		t.Fatalf("num_queue_count = %d after Close, want %d", q, before)
	}
}

// Closing the *os.File while its requests are queued does not hurt them:
// each job holds the kernel's own reference to the file until aio_return
// (§F), so the write lands and the read returns its data. Cancel, which
// names the descriptor, then gets EBADF from aio_cancel and says so, and
// the request still comes back once.
func TestKqueueFileClosedInFlight(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	path := kqFile(t, 4096).Name()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := []byte("written after close")
	w, r := NewRequest(), NewRequest()
	got := make([]byte, 64)
	if err := w.PrepareWrite(f, 1000, data, "w"); err != nil {
		t.Fatal(err)
	}
	if err := r.PrepareRead(f, 0, got, "r"); err != nil {
		t.Fatal(err)
	}
	k.Hold()
	held := true
	defer func() {
		if held {
			k.Release()
		}
	}()
	if n, err := c.Submit(w, r); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Cancel after the file was closed: %v, want EBADF", err)
	}
	k.Release()
	held = false
	drain(t, c, 2)
	if n, err := w.Result(); n != len(data) || err != nil {
		t.Fatalf("write Result = %d, %v", n, err)
	}
	if n, err := r.Result(); n != len(got) || err != nil || string(got) != string(kqPattern(0, len(got))) {
		t.Fatalf("read Result = %d, %v", n, err)
	}
	on, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(on[1000:1000+len(data)]) != string(data) {
		t.Fatalf("file holds %q at 1000, want %q", on[1000:1000+len(data)], data)
	}
}

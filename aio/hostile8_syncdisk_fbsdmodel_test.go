//go:build linux && fbsdmodel

package aio

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The disk's side of the sync order: DefaultBackend gives a disk's writes
// to the kernel and its flush (which FreeBSD refuses) to goroutines, and
// counts the kernel's writes so that the flush waits for them.

// h8DiskHeld submits two writes the stalled model kernel keeps and a flush
// prepared on flushOn (the disk, or another descriptor of it), and checks
// that nothing comes back meanwhile.
func h8DiskHeld(t *testing.T, flushOn func(disk *os.File) *os.File) (c *Context, w1, w2, s *Request, unstall func()) {
	t.Helper()
	k := kqModel(t)
	disk := glue7LoopDisk(t, 1<<20)
	c = soContext(t, DefaultBackend)
	w1, w2, s = NewRequest(), NewRequest(), NewRequest()
	for _, err := range []error{
		w1.PrepareWrite(disk, 0, kqPattern(3, 4096), "first write"),
		w2.PrepareWrite(disk, 8192, kqPattern(5, 4096), "second write"),
		s.PrepareFlush(flushOn(disk), "flush"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	k.Stall()
	var once sync.Once
	unstall = func() { once.Do(k.Unstall) }
	t.Cleanup(unstall)
	soSubmit(t, c, w1, w2, s)
	if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
		t.Fatalf("%v came back while the kernel held the writes before the flush", h8Names(got))
	}
	return c, w1, w2, s, unstall
}

func h8SameDisk(disk *os.File) *os.File { return disk }

// TestH8DiskHeldFlushCancelAndClose: with the flush held behind the
// kernel's writes, Close is ErrBusy; Cancel takes the flush, which comes
// back canceled while the writes are still in the kernel; then the writes
// come back, and the order keeps nothing.
func TestH8DiskHeldFlushCancelAndClose(t *testing.T) {
	c, w1, w2, s, unstall := h8DiskHeld(t, h8SameDisk)
	if err := c.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close with the flush held = %v, want ErrBusy", err)
	}
	if err := s.Cancel(); err != nil {
		t.Fatalf("Cancel of the held flush = %v", err)
	}
	got := soWaitFor(t, c, 1, time.Minute)
	if len(got) != 1 || got[0] != s {
		t.Fatalf("after Cancel: %v; want the flush alone", h8Names(got))
	}
	if _, err := s.Result(); !errors.Is(err, ErrCanceled) {
		t.Errorf("canceled flush: %v", err)
	}
	unstall()
	h8Gather(t, c, 2)
	for _, r := range []*Request{w1, w2} {
		if n, err := r.Result(); n != 4096 || err != nil {
			t.Errorf("%v: %d, %v", r.User(), n, err)
		}
	}
	if files, _ := h8OrderLeft(t, c); files != 0 {
		t.Errorf("sync order keeps %d files once all are back", files)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close once all are back = %v", err)
	}
}

// TestH8DiskFlushOnDupWaits: a flush through a dup of the disk's
// descriptor is of the same open file, and waits for the kernel's writes
// through the other.
func TestH8DiskFlushOnDupWaits(t *testing.T) {
	c, _, _, s, unstall := h8DiskHeld(t, func(disk *os.File) *os.File {
		rc, err := disk.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		fd := -1
		if cerr := rc.Control(func(d uintptr) { fd, err = syscall.Dup(int(d)) }); cerr != nil || err != nil {
			t.Fatal(cerr, err)
		}
		dup := os.NewFile(uintptr(fd), "dup of the disk")
		t.Cleanup(func() { dup.Close() })
		return dup
	})
	unstall()
	h8Gather(t, c, 3)
	if _, err := s.Result(); err != nil {
		t.Errorf("flush: %v", err)
	}
	if files, _ := h8OrderLeft(t, c); files != 0 {
		t.Errorf("sync order keeps %d files once all are back", files)
	}
}

// TestH8DiskCancelRacesRelease: Cancel of the held flush races the
// kernel's writes finishing (Unstall) and their collection, which
// releases it: it comes back once, canceled exactly when Cancel said so.
func TestH8DiskCancelRacesRelease(t *testing.T) {
	k := kqModel(t)
	disk := glue7LoopDisk(t, 1<<20)
	c := soContext(t, DefaultBackend)
	w1, w2, s := NewRequest(), NewRequest(), NewRequest()
	buf1, buf2 := kqPattern(3, 4096), kqPattern(5, 4096)
	canceled, ran := 0, 0
	for round := range 40 {
		for _, err := range []error{
			w1.PrepareWrite(disk, 0, buf1, "first write"),
			w2.PrepareWrite(disk, 8192, buf2, "second write"),
			s.PrepareFlush(disk, "flush"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		k.Stall()
		soSubmit(t, c, w1, w2, s)
		var cerr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() { <-start; k.Unstall() })
		wg.Go(func() {
			<-start
			for t0 := time.Now(); time.Since(t0) < time.Duration(round%8)*100*time.Microsecond; {
				runtime.Gosched()
			}
			cerr = s.Cancel()
		})
		close(start)
		// The writes are counted out, and the flush released, as this
		// Wait collects them.
		h8Gather(t, c, 3)
		wg.Wait()
		_, serr := s.Result()
		switch {
		case cerr == nil:
			canceled++
			if !errors.Is(serr, ErrCanceled) {
				t.Fatalf("round %d: Cancel succeeded and the flush came back with %v", round, serr)
			}
		case errors.Is(cerr, ErrInProgress), errors.Is(cerr, ErrAlreadyCompleted):
			ran++
			if serr != nil {
				t.Fatalf("round %d: Cancel = %v and the flush came back with %v", round, cerr, serr)
			}
		default:
			t.Fatalf("round %d: Cancel = %v", round, cerr)
		}
		for _, r := range []*Request{w1, w2} {
			if n, err := r.Result(); n != 4096 || err != nil {
				t.Fatalf("round %d: %v: %d, %v", round, r.User(), n, err)
			}
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Fatalf("round %d: sync order keeps %d files once all are back", round, files)
		}
	}
	t.Logf("%d canceled, %d ran", canceled, ran)
}

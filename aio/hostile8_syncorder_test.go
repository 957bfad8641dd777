//go:build freebsd || (linux && fbsdmodel)

package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Attacks on the sync order of the goroutine engine (sync_order.go), with
// the held-sync setup of sync_order_test.go: a write to a full FIFO that
// waits for room, and syncs after it on the same file.

// h8OrderLeft reports how many files c's goroutine engine keeps in its sync
// order, and how many records it keeps for reuse.
func h8OrderLeft(t *testing.T, c *Context) (files, free int) {
	t.Helper()
	g := goroutineEngine(c.be)
	if g == nil {
		t.Fatalf("%T has no goroutine engine", c.be)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.order.files), len(g.order.free)
}

// h8Gather waits until n requests came back and returns them; it fails if
// one comes back twice.
func h8Gather(t *testing.T, c *Context, n int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := make([]*Request, n)
	got := 0
	for got < n {
		k, err := c.Wait(ctx, n-got, out[got:])
		got += k
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", got, n, err)
		}
	}
	seen := map[*Request]bool{}
	for _, r := range out {
		if seen[r] {
			t.Fatalf("%v came back twice", r.User())
		}
		seen[r] = true
	}
	return out
}

func h8Names(rs []*Request) []any {
	var names []any
	for _, r := range rs {
		names = append(names, r.User())
	}
	return names
}

// TestH8CloseWhileSyncHeld: Close with a sync held is ErrBusy and loses
// nothing; after the drain both requests come back and Close succeeds.
func TestH8CloseWhileSyncHeld(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		c, w, s, drain := soHeldSync(t, be, func(s *Request, f *os.File) error { return s.PrepareFlush(f, "flush") })
		if err := c.Close(); !errors.Is(err, ErrBusy) {
			t.Fatalf("Close with a sync held = %v, want ErrBusy", err)
		}
		if n := c.InFlight(); n != 2 {
			t.Fatalf("InFlight after the refused Close = %d, want 2", n)
		}
		drain()
		got := h8Gather(t, c, 2)
		if len(got) != 2 {
			t.Fatalf("%d of 2 came back", len(got))
		}
		if n, err := w.Result(); n != 512 || err != nil {
			t.Errorf("write: %d, %v", n, err)
		}
		if _, err := s.Result(); errors.Is(err, ErrCanceled) {
			t.Errorf("flush: %v, though nobody canceled it", err)
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close once all came back = %v", err)
		}
	})
}

// TestH8CancelRacesRelease: Cancel of a held sync races the drain that
// releases it. Each round the sync comes back exactly once: with
// ErrCanceled if and only if Cancel said it succeeded, and Cancel says
// nothing but nil, ErrInProgress or ErrAlreadyCompleted.
func TestH8CancelRacesRelease(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, drain := soFullFIFO(t)
		c := soContext(t, be)
		w, s := NewRequest(), NewRequest()
		wbuf := make([]byte, 512)
		canceled, ran := 0, 0
		for round := range 96 {
			if err := w.PrepareWrite(f, 0, wbuf, "write"); err != nil {
				t.Fatal(err)
			}
			if err := s.PrepareDataSync(f, "sync"); err != nil {
				t.Fatal(err)
			}
			soSubmit(t, c, w, s)
			var cerr error
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() { <-start; drain() })
			wg.Go(func() {
				<-start
				// From at once to well after the release, so that
				// both sides win some rounds.
				for t0 := time.Now(); time.Since(t0) < time.Duration(round%16)*50*time.Microsecond; {
					runtime.Gosched()
				}
				cerr = s.Cancel()
			})
			close(start)
			wg.Wait()
			h8Gather(t, c, 2)
			_, serr := s.Result()
			switch {
			case cerr == nil:
				canceled++
				if !errors.Is(serr, ErrCanceled) {
					t.Fatalf("round %d: Cancel succeeded and the sync came back with %v", round, serr)
				}
			case errors.Is(cerr, ErrInProgress), errors.Is(cerr, ErrAlreadyCompleted):
				ran++
				if errors.Is(serr, ErrCanceled) {
					t.Fatalf("round %d: Cancel = %v and the sync came back canceled", round, cerr)
				}
			default:
				t.Fatalf("round %d: Cancel = %v", round, cerr)
			}
			if n, err := w.Result(); n != 512 || err != nil {
				t.Fatalf("round %d: write %d, %v", round, n, err)
			}
			if files, _ := h8OrderLeft(t, c); files != 0 {
				t.Fatalf("round %d: sync order keeps %d files once all are back", round, files)
			}
			// Fill the FIFO again for the next round.
			h8Refill(t, f)
		}
		t.Logf("%d canceled, %d ran", canceled, ran)
	})
}

// h8Refill fills f, a FIFO open read-write and non-blocking, to the brim.
func h8Refill(t *testing.T, f *os.File) {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	var werr error
	_ = rc.Control(func(fd uintptr) {
		for {
			if _, werr = syscall.Write(int(fd), chunk); werr != nil {
				return
			}
		}
	})
	if !errors.Is(werr, syscall.EAGAIN) {
		t.Fatalf("refilling the FIFO: %v", werr)
	}
}

// TestH8SyncOnDupWaits: a sync through a dup of the descriptor is a sync of
// the same open file, and waits for the write through the other; a sync
// through a second open of the FIFO, or a hard link to it, is of the same
// file: whatever the engine makes of those, all come back once the FIFO is
// drained and the order keeps nothing.
func TestH8SyncOnDupWaits(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, drain := soFullFIFO(t)
		// Not f.Fd(), which would put the FIFO in blocking mode.
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		fd := -1
		if cerr := rc.Control(func(d uintptr) { fd, err = syscall.Dup(int(d)) }); cerr != nil || err != nil {
			t.Fatal(cerr, err)
		}
		dup := os.NewFile(uintptr(fd), "dup")
		defer dup.Close()
		again, err := os.OpenFile(f.Name(), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		link := filepath.Join(filepath.Dir(f.Name()), "link")
		if err := os.Link(f.Name(), link); err != nil {
			t.Fatal(err)
		}
		linked, err := os.OpenFile(link, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer linked.Close()
		c := soContext(t, be)
		w, sd, sa, sl := NewRequest(), NewRequest(), NewRequest(), NewRequest()
		for _, err := range []error{
			w.PrepareWrite(f, 0, make([]byte, 512), "write"),
			sd.PrepareFlush(dup, "flush of the dup"),
			sa.PrepareDataSync(again, "sync of a second open"),
			sl.PrepareFlush(linked, "flush of a hard link"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		soSubmit(t, c, w, sd, sa, sl)
		got := soWaitFor(t, c, 3, 100*time.Millisecond)
		for _, r := range got {
			if r == w || r == sd {
				t.Errorf("%v came back while the write waited for room", r.User())
			}
		}
		drain()
		got = append(got, h8Gather(t, c, 4-len(got))...)
		if len(got) != 4 {
			t.Fatalf("%v came back, want all 4", h8Names(got))
		}
		if n, err := w.Result(); n != 512 || err != nil {
			t.Errorf("write: %d, %v", n, err)
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

// TestH8FileClosedWhileSyncHeld: the caller closes the FIFO (its bug) while
// the write waits and the sync is held, and opens another file, which may
// take the descriptor number. Both come back once, with EBADF (the engine
// reaches the file only through its RawConn), and the other file is not
// synced in its place; the order keeps nothing.
func TestH8FileClosedWhileSyncHeld(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, _ := soFullFIFO(t)
		c := soContext(t, be)
		w, s := NewRequest(), NewRequest()
		if err := w.PrepareWrite(f, 0, make([]byte, 512), "write"); err != nil {
			t.Fatal(err)
		}
		if err := s.PrepareFlush(f, "flush"); err != nil {
			t.Fatal(err)
		}
		soSubmit(t, c, w, s)
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		other, err := os.Create(filepath.Join(t.TempDir(), "other"))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		h8Gather(t, c, 2)
		for _, r := range []*Request{w, s} {
			if n, err := r.Result(); n != 0 || !errors.Is(err, syscall.EBADF) {
				t.Errorf("%v of a file closed in flight: %d, %v; want EBADF", r.User(), n, err)
			}
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

// TestH8SyncAfterFailedAndCanceled: of the requests before a sync, one
// fails at once (a write through a read-only open of the same FIFO) and
// one, an earlier held sync, is canceled: the sync still waits for the
// write that waits for room, and comes back once it is done.
func TestH8SyncAfterFailedAndCanceled(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, drain := soFullFIFO(t)
		ro, err := os.OpenFile(f.Name(), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		c := soContext(t, be)
		w, bad, s1, s2 := NewRequest(), NewRequest(), NewRequest(), NewRequest()
		for _, err := range []error{
			w.PrepareWrite(f, 0, make([]byte, 512), "write"),
			bad.PrepareWrite(ro, 0, make([]byte, 512), "write through the read-only open"),
			s1.PrepareFlush(f, "first flush"),
			s2.PrepareDataSync(f, "second sync"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		soSubmit(t, c, w, bad, s1, s2)
		got := soWaitFor(t, c, 1, time.Minute)
		if len(got) != 1 || got[0] != bad {
			t.Fatalf("first back: %v; want the failing write alone", h8Names(got))
		}
		if _, err := bad.Result(); err == nil {
			t.Errorf("write through a read-only descriptor succeeded")
		}
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		if err := s1.Cancel(); err != nil {
			t.Fatalf("Cancel of the held first flush = %v", err)
		}
		got = soWaitFor(t, c, 1, time.Minute)
		if len(got) != 1 || got[0] != s1 {
			t.Fatalf("after its Cancel: %v; want the first flush alone", h8Names(got))
		}
		if _, err := s1.Result(); !errors.Is(err, ErrCanceled) {
			t.Errorf("canceled flush: %v", err)
		}
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		drain()
		h8Gather(t, c, 2)
		if n, err := w.Result(); n != 512 || err != nil {
			t.Errorf("write: %d, %v", n, err)
		}
		if _, err := s2.Result(); errors.Is(err, ErrCanceled) {
			t.Errorf("second sync: %v", err)
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

// TestH8ManySyncsBackToBack: a write that waits, then 60 syncs on its file,
// each in an epoch of its own: none comes back; every third is canceled and
// exactly those come back; after the drain the rest do, and the order
// keeps no file and at most one record for reuse. Then 200 rounds of a
// write and a sync each on a regular file leave it so too.
func TestH8ManySyncsBackToBack(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		f, drain := soFullFIFO(t)
		c, err := NewContext(Config{MaxRequests: 64, Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		const syncs = 60
		w := NewRequest()
		if err := w.PrepareWrite(f, 0, make([]byte, 512), -1); err != nil {
			t.Fatal(err)
		}
		reqs := []*Request{w}
		for i := range syncs {
			s := NewRequest()
			if i%2 == 0 {
				err = s.PrepareFlush(f, i)
			} else {
				err = s.PrepareDataSync(f, i)
			}
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, s)
		}
		soSubmit(t, c, reqs...)
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		want := map[*Request]bool{}
		for i := 0; i < syncs; i += 3 {
			s := reqs[1+i]
			if err := s.Cancel(); err != nil {
				t.Fatalf("Cancel of held sync %d = %v", i, err)
			}
			want[s] = true
		}
		for _, r := range h8Gather(t, c, len(want)) {
			if !want[r] {
				t.Fatalf("%v came back, not one of the canceled", r.User())
			}
			if _, err := r.Result(); !errors.Is(err, ErrCanceled) {
				t.Errorf("canceled sync %v: %v", r.User(), err)
			}
		}
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		drain()
		for _, r := range h8Gather(t, c, len(reqs)-len(want)) {
			if want[r] {
				t.Fatalf("canceled sync %v came back twice", r.User())
			}
			if _, err := r.Result(); errors.Is(err, ErrCanceled) {
				t.Errorf("%v: %v, not canceled", r.User(), err)
			}
		}
		if files, free := h8OrderLeft(t, c); files != 0 || free > 1 {
			t.Errorf("sync order keeps %d files and %d records once all are back", files, free)
		}

		g, err := os.Create(filepath.Join(t.TempDir(), "regular"))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		w2, s2 := NewRequest(), NewRequest()
		buf := make([]byte, 4096)
		for round := range 200 {
			if err := w2.PrepareWrite(g, int64(round%8)*4096, buf, nil); err != nil {
				t.Fatal(err)
			}
			if err := s2.PrepareDataSync(g, nil); err != nil {
				t.Fatal(err)
			}
			soSubmit(t, c, w2, s2)
			h8Gather(t, c, 2)
			if n, err := w2.Result(); n != len(buf) || err != nil {
				t.Fatalf("round %d: write %d, %v", round, n, err)
			}
			if _, err := s2.Result(); err != nil {
				t.Fatalf("round %d: sync %v", round, err)
			}
		}
		gg := goroutineEngine(c.be)
		gg.mu.Lock()
		files, free := len(gg.order.files), len(gg.order.free)
		var capCounts int
		for _, fe := range gg.order.free {
			capCounts = max(capCounts, cap(fe.counts), cap(fe.held))
		}
		gg.mu.Unlock()
		if files != 0 || free > 2 || capCounts > 2*64 {
			t.Errorf("after 200 rounds the sync order keeps %d files, %d records, epochs for up to %d", files, free, capCounts)
		}
	})
}

// TestH8ResubmitWhileSyncHeld: while a sync is held behind the write, a
// later request on the same file comes back, and is resubmitted from its
// completion again and again; a later sync is held too. Once the FIFO is
// drained everything comes back.
func TestH8ResubmitWhileSyncHeld(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		c, w, s, drain := soHeldSync(t, be, func(s *Request, f *os.File) error { return s.PrepareFlush(f, "flush") })
		f := w.file
		rr, s2 := NewRequest(), NewRequest()
		for i := range 20 {
			if err := rr.PrepareRead(f, 0, nil, i); err != nil { // 0 bytes: the FIFO stays full
				t.Fatal(err)
			}
			soSubmit(t, c, rr)
			got := soWaitFor(t, c, 1, time.Minute)
			if len(got) != 1 || got[0] != rr {
				t.Fatalf("resubmission %d: %v came back; want the later read alone", i, h8Names(got))
			}
		}
		if err := s2.PrepareDataSync(f, "later sync"); err != nil {
			t.Fatal(err)
		}
		soSubmit(t, c, s2)
		if got := soWaitFor(t, c, 1, 50*time.Millisecond); len(got) > 0 {
			t.Fatalf("%v came back while the write waited for room", h8Names(got))
		}
		drain()
		h8Gather(t, c, 3)
		for _, r := range []*Request{s, s2} {
			if _, err := r.Result(); errors.Is(err, ErrCanceled) {
				t.Errorf("%v: %v", r.User(), err)
			}
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

// TestH8DeadlineAndWakeupWhileSyncHeld: Waits that end for a deadline or a
// Wakeup while the sync is held return nothing and leave it held; Cancel
// then takes it.
func TestH8DeadlineAndWakeupWhileSyncHeld(t *testing.T) {
	soBackends(t, func(t *testing.T, be Backend) {
		c, w, s, drain := soHeldSync(t, be, func(s *Request, f *os.File) error { return s.PrepareFlush(f, "flush") })
		out := make([]*Request, 2)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		n, err := c.Wait(ctx, 1, out)
		cancel()
		if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait with a deadline = %d, %v", n, err)
		}
		go func() {
			time.Sleep(10 * time.Millisecond)
			_ = c.Wakeup()
		}()
		if n, err := c.Wait(context.Background(), 1, out); n != 0 || !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait woken = %d, %v", n, err)
		}
		if n, err := c.Wait(context.Background(), 0, out); n != 0 || err != nil {
			t.Fatalf("Wait(min 0) = %d, %v", n, err)
		}
		if err := s.Cancel(); err != nil {
			t.Fatalf("Cancel of the held sync = %v", err)
		}
		got := soWaitFor(t, c, 1, time.Minute)
		if len(got) != 1 || got[0] != s {
			t.Fatalf("after Cancel: %v", h8Names(got))
		}
		drain()
		if got := soWaitFor(t, c, 1, time.Minute); len(got) != 1 || got[0] != w {
			t.Fatalf("after the drain: %v", h8Names(got))
		}
		if files, _ := h8OrderLeft(t, c); files != 0 {
			t.Errorf("sync order keeps %d files once all are back", files)
		}
	})
}

//go:build linux && fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// The context's kqueue is a descriptor number like any other, and a
// program with a double close (or a dup2 onto a number it no longer owns)
// may close or replace it under the context.

// h9Kq is the descriptor number of c's kqueue.
func h9Kq(c *Context) int {
	be := c.be
	if m, ok := be.(*mixedBackend); ok {
		be = m.k
	}
	return int(be.(*kqueueBackend).fd())
}

// h9HeldReads submits n reads on f that the model kernel holds until the
// returned release runs.
func h9HeldReads(t *testing.T, c *Context, f *os.File, n int) ([]*Request, func()) {
	t.Helper()
	k := kqModel(t)
	reqs := kqPrepared(t, f, n)
	k.Hold()
	var once sync.Once
	release := func() { once.Do(k.Release) }
	t.Cleanup(release)
	if m, err := c.Submit(reqs...); m != n || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	return reqs, release
}

// h9DrainAll collects every request of reqs with a Wait that a hang fails
// (10 s), and checks each came back once with its 8 bytes.
func h9DrainAll(t *testing.T, c *Context, reqs []*Request) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]*Request, len(reqs))
	got := 0
	for got < len(reqs) {
		m, err := c.Wait(ctx, len(reqs)-got, out[got:])
		got += m
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", got, len(reqs), err)
		}
	}
	h9Once(t, reqs, out)
	for _, r := range reqs {
		if m, err := r.Result(); m != 8 || err != nil {
			t.Errorf("request %v: Result = %d, %v", r.User(), m, err)
		}
	}
}

// h9StillOpen checks that descriptor fd still refers to f's file.
func h9StillOpen(t *testing.T, fd int, f *os.File) {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Fstat(fd, &a); err != nil {
		t.Fatalf("descriptor %d: %v", fd, err)
	}
	if err := unix.Fstat(h9Fd(t, f), &b); err != nil {
		t.Fatal(err)
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		t.Fatalf("descriptor %d no longer refers to %s", fd, f.Name())
	}
}

// TestH9KqueueClosedUnderRequests: a user closes the number of the
// context's kqueue (a double close elsewhere in the program) while
// requests are queued. Nothing is lost: Wait collects every request, with
// its data; Wakeup still works; Close succeeds; the kernel keeps nothing
// and the model sees no kqueue closed under jobs.
func TestH9KqueueClosedUnderRequests(t *testing.T) {
	h9Contexts(t, func(t *testing.T, c *Context) {
		f := kqFile(t, 4096)
		reqs, release := h9HeldReads(t, c, f, 8)
		if err := unix.Close(h9Kq(c)); err != nil {
			t.Fatal(err)
		}
		// Submitted before any call of the context noticed the close.
		early := kqPrepared(t, f, 4)
		if m, err := c.Submit(early...); m != 4 || err != nil {
			t.Fatalf("Submit right after the close = %d, %v", m, err)
		}
		release()
		h9DrainAll(t, c, append(reqs, early...))
		if err := c.Wakeup(); err != nil {
			t.Fatalf("Wakeup: %v", err)
		}
		if _, err := c.Wait(kqLongCtx(t), 0, make([]*Request, 1)); !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait after Wakeup: %v, want ErrInterrupted", err)
		}
		more := kqPrepared(t, f, 4)
		if m, err := c.Submit(more...); m != 4 || err != nil {
			t.Fatalf("Submit after the close = %d, %v", m, err)
		}
		h9DrainAll(t, c, more)
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// TestH9KqueueNumberTakenByFile: the kqueue's number is closed and taken
// at once by the user's next open. The requests still come back, and the
// context's Close leaves the user's file open.
func TestH9KqueueNumberTakenByFile(t *testing.T) {
	h9Contexts(t, func(t *testing.T, c *Context) {
		f := kqFile(t, 4096)
		reqs, release := h9HeldReads(t, c, f, 8)
		kq := h9Kq(c)
		if err := unix.Close(kq); err != nil {
			t.Fatal(err)
		}
		user := kqFile(t, 100)
		if h9Fd(t, user) != kq {
			t.Skipf("the user's file got descriptor %d, not the kqueue's %d", h9Fd(t, user), kq)
		}
		early := kqPrepared(t, f, 4)
		if m, err := c.Submit(early...); m != 4 || err != nil {
			t.Fatalf("Submit right after the number was taken = %d, %v", m, err)
		}
		release()
		h9DrainAll(t, c, append(reqs, early...))
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		h9StillOpen(t, kq, user)
	})
}

// TestH9KqueueReplacedByDup2: the user dup2s a kqueue of their own over
// the context's. Wait neither hangs on the user's kqueue nor takes its
// events; the requests come back; Wakeup works; Close leaves the user's
// kqueue open.
func TestH9KqueueReplacedByDup2(t *testing.T) {
	h9Contexts(t, func(t *testing.T, c *Context) {
		f := kqFile(t, 4096)
		reqs, release := h9HeldReads(t, c, f, 8)
		kq := h9Kq(c)
		mine, err := sys.Kqueue()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(uintptr(mine), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		userKq := os.NewFile(uintptr(mine), "user kqueue")
		defer userKq.Close()
		// The user's own event, which the context must leave alone.
		reg := []sys.Kevent_t{{Ident: 7, Filter: sys.EVFILT_USER, Flags: sys.EV_ADD}, {Ident: 7, Filter: sys.EVFILT_USER, Fflags: sys.NOTE_TRIGGER}}
		if _, err := sys.Kevent(mine, reg, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := unix.Dup3(mine, kq, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		release()
		h9DrainAll(t, c, reqs)
		if err := c.Wakeup(); err != nil {
			t.Fatalf("Wakeup: %v", err)
		}
		if _, err := c.Wait(kqLongCtx(t), 0, make([]*Request, 1)); !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait after Wakeup: %v, want ErrInterrupted", err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		h9StillOpen(t, kq, userKq)
		evs := make([]sys.Kevent_t, 4)
		if m, err := sys.Kevent(mine, nil, evs, &sys.Timespec{}); m != 1 || err != nil || evs[0].Ident != 7 {
			t.Fatalf("the user's kqueue reports %d events (%v), want its own one", m, err)
		}
	})
}

// TestH9KqueueNumberTakenByAnotherContext: the number of one context's
// kqueue is closed and the next context's kqueue takes it. Each context
// collects its own requests, none of the other's.
func TestH9KqueueNumberTakenByAnotherContext(t *testing.T) {
	kqModel(t)
	a := kqContext(t, Config{})
	f := kqFile(t, 4096)
	ra, release := h9HeldReads(t, a, f, 8)
	kq := h9Kq(a)
	if err := unix.Close(kq); err != nil {
		t.Fatal(err)
	}
	b := kqContext(t, Config{})
	if h9Kq(b) != kq {
		t.Skipf("the second context's kqueue got descriptor %d, not %d", h9Kq(b), kq)
	}
	rb := kqPrepared(t, f, 8)
	if m, err := b.Submit(rb...); m != 8 || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	release()
	h9DrainAll(t, a, ra)
	h9DrainAll(t, b, rb)
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	more := kqPrepared(t, f, 4)
	if m, err := b.Submit(more...); m != 4 || err != nil {
		t.Fatalf("Submit = %d, %v", m, err)
	}
	h9DrainAll(t, b, more)
}

// TestH9KqueueGoneIdle: with nothing in flight, both of the kqueue's
// descriptors are closed and the first number taken by the user's next
// open. Wait and Wakeup fail at once with errors matching EBADF (no
// hang), Close succeeds, and it leaves the user's file open.
func TestH9KqueueGoneIdle(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{WaitWithoutPending: true})
	b := c.be.(*kqueueBackend)
	kq, spare := int(b.fd()), int(b.spare)
	if err := unix.Close(kq); err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(spare); err != nil {
		t.Fatal(err)
	}
	user := kqFile(t, 100)
	if h9Fd(t, user) != kq {
		t.Skipf("the user's file got descriptor %d, not the kqueue's %d", h9Fd(t, user), kq)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := c.Wait(ctx, 1, make([]*Request, 1)); n != 0 || !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Wait = %d, %v; want 0 and EBADF", n, err)
	}
	if err := c.Wakeup(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Wakeup = %v, want EBADF", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h9StillOpen(t, kq, user)
}

// TestH9KqueueClosedRepeatedly: while one goroutine submits and collects
// reads and writes, another closes whatever number the context's kqueue
// has, again and again. Every request comes back once with its own
// result, the model sees no kqueue closed under jobs, and Close succeeds.
func TestH9KqueueClosedRepeatedly(t *testing.T) {
	h9Contexts(t, func(t *testing.T, c *Context) {
		k := kqModel(t)
		be := c.be
		if m, ok := be.(*mixedBackend); ok {
			be = m.k
		}
		b := be.(*kqueueBackend)
		var kst unix.Stat_t
		if err := unix.Fstat(int(b.fd()), &kst); err != nil {
			t.Fatal(err)
		}
		f := kqFile(t, 1<<16)
		var stop sync.WaitGroup
		done := make(chan struct{})
		closes := 0
		stop.Add(1)
		go func() {
			defer stop.Done()
			for {
				select {
				case <-done:
					return
				case <-time.After(200 * time.Microsecond):
				}
				// The number the kqueue has at one moment (read under
				// the backend's lock, so that it is not the spare a
				// move has just made of the same number), if the kqueue
				// is still there.
				b.fdmu.Lock()
				if kq := b.fd(); b.ours(kq) {
					if err := unix.Close(int(kq)); err != nil {
						t.Errorf("close: %v", err)
					}
					closes++
				}
				b.fdmu.Unlock()
			}
		}()
		const n, rounds = 16, 150
		reqs := make([]*Request, n)
		bufs := make([][]byte, n)
		for i := range reqs {
			reqs[i] = NewRequest()
			bufs[i] = make([]byte, 64)
		}
		out := make([]*Request, n)
		for round := range rounds {
			for i, r := range reqs {
				var err error
				if i%2 == 0 {
					copy(bufs[i], bytes.Repeat([]byte{byte(round)}, 64))
					err = r.PrepareWrite(f, int64(64*i), bufs[i], i)
				} else {
					err = r.PrepareRead(f, int64(64*(i-1)), bufs[i], i)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			// Writes first, their reads once they are back.
			var evens, odds []*Request
			for i, r := range reqs {
				if i%2 == 0 {
					evens = append(evens, r)
				} else {
					odds = append(odds, r)
				}
			}
			for _, part := range [][]*Request{evens, odds} {
				if m, err := c.Submit(part...); m != len(part) || err != nil {
					t.Fatalf("round %d: Submit = %d, %v", round, m, err)
				}
				got := 0
				for got < len(part) {
					m, err := c.Wait(kqLongCtx(t), len(part)-got, out[got:])
					got += m
					if err != nil {
						t.Fatalf("round %d: Wait after %d: %v", round, got, err)
					}
				}
				h9Once(t, part, out[:got])
				for _, r := range part {
					i := r.User().(int)
					if m, err := r.Result(); m != 64 || err != nil {
						t.Fatalf("round %d: request %d: %d, %v", round, i, m, err)
					}
					if i%2 == 1 && !bytes.Equal(bufs[i], bytes.Repeat([]byte{byte(round)}, 64)) {
						t.Fatalf("round %d: read %d got the wrong bytes", round, i)
					}
				}
			}
		}
		close(done)
		stop.Wait()
		t.Logf("the kqueue's number was closed %d times", closes)
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			fd, err := strconv.Atoi(e.Name())
			var st unix.Stat_t
			if err == nil && unix.Fstat(fd, &st) == nil && st.Dev == kst.Dev && st.Ino == kst.Ino {
				t.Errorf("descriptor %d of the kqueue is still open after Close", fd)
			}
		}
		if o := k.Outstanding(); o != 0 {
			t.Errorf("the kernel keeps %d jobs", o)
		}
	})
}

// TestH9KqueueClosedUnderBlockedWait: the kqueue's number is closed, or
// another kqueue dup2'd onto it, while the waiter is blocked in kevent on
// it. The blocked Wait still gets every request, a Wakeup from another
// goroutine reaches it, and Close succeeds.
func TestH9KqueueClosedUnderBlockedWait(t *testing.T) {
	for _, how := range []string{"close", "dup2"} {
		t.Run(how, func(t *testing.T) {
			h9Contexts(t, func(t *testing.T, c *Context) {
				if modelRefusesFiles() {
					t.Skip("every file is non-local: goroutines serve the reads, and the kernel holds none to keep the Wait blocked")
				}
				f := kqFile(t, 4096)
				reqs, release := h9HeldReads(t, c, f, 8)
				type result struct {
					n   int
					err error
				}
				woke := make(chan result, 1)
				go func() {
					n, err := c.Wait(kqLongCtx(t), 1, make([]*Request, 8))
					woke <- result{n, err}
				}()
				kqUntilWaiting(t, c)
				kq := h9Kq(c)
				switch how {
				case "close":
					if err := unix.Close(kq); err != nil {
						t.Fatal(err)
					}
				case "dup2":
					mine, err := sys.Kqueue()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := unix.FcntlInt(uintptr(mine), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
						t.Fatal(err)
					}
					defer unix.Close(mine)
					if err := unix.Dup3(mine, kq, unix.O_CLOEXEC); err != nil {
						t.Fatal(err)
					}
					defer unix.Close(kq)
				}
				if err := c.Wakeup(); err != nil {
					t.Fatalf("Wakeup: %v", err)
				}
				select {
				case r := <-woke:
					if r.n != 0 || !errors.Is(r.err, ErrInterrupted) {
						t.Fatalf("blocked Wait = %d, %v; want 0, ErrInterrupted", r.n, r.err)
					}
				case <-time.After(10 * time.Second):
					release()
					t.Fatal("the Wakeup did not reach the blocked Wait")
				}
				release()
				h9DrainAll(t, c, reqs)
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
		})
	}
}

// TestH9KqueueSpareCloseOnExec: the kqueue's second descriptor, and the
// one made after a move, are close-on-exec like the first, so that no
// child started by exec keeps the kqueue.
func TestH9KqueueSpareCloseOnExec(t *testing.T) {
	kqModel(t)
	c := kqContext(t, Config{})
	b := c.be.(*kqueueBackend)
	check := func(when string) {
		t.Helper()
		for _, fd := range []int32{b.fd(), b.spare} {
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil || fl&unix.FD_CLOEXEC == 0 {
				t.Fatalf("%s: descriptor %d of the kqueue: flags %#x, %v; want FD_CLOEXEC", when, fd, fl, err)
			}
		}
	}
	check("new")
	if err := unix.Close(int(b.fd())); err != nil {
		t.Fatal(err)
	}
	if err := c.Wakeup(); err != nil {
		t.Fatalf("Wakeup: %v", err)
	}
	check("after a move")
}

//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// h10Linux is the kernel AIO backend of c (KernelBackend, or the kernel
// engine of DefaultBackend).
func h10Linux(t *testing.T, c *Context) *linuxBackend {
	t.Helper()
	switch b := c.be.(type) {
	case *linuxBackend:
		return b
	case *mixedBackend:
		if lb, ok := b.k.(*linuxBackend); ok {
			return lb
		}
	}
	t.Skipf("no kernel AIO backend: %T", c.be)
	return nil
}

// h10TakeNumber closes descriptor num behind its owner's back (a double
// close elsewhere in the program) and opens a file of the user's, holding
// "vvvvvvvv", at that number. It returns the file, whose cleanup checks
// that it is still open at num.
func h10TakeNumber(t *testing.T, num int) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(path, []byte("vvvvvvvv"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(num); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fd != num {
		if err := unix.Dup3(fd, num, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
	}
	return os.NewFile(uintptr(num), path)
}

// h10VictimIntact checks that the user's file at v's number is still open,
// still that file, at offset 0, and holds what it held.
func h10VictimIntact(t *testing.T, what string, v *os.File) {
	t.Helper()
	var st, want unix.Stat_t
	if err := unix.Fstat(int(v.Fd()), &st); err != nil {
		t.Fatalf("%s: the user's file at descriptor %d: %v", what, v.Fd(), err)
	}
	if err := unix.Stat(v.Name(), &want); err != nil {
		t.Fatal(err)
	}
	if st.Ino != want.Ino || st.Dev != want.Dev {
		t.Fatalf("%s: descriptor %d is no longer the user's file", what, v.Fd())
	}
	if off, err := unix.Seek(int(v.Fd()), 0, 1); off != 0 || err != nil {
		t.Errorf("%s: the user's file offset moved to %d (%v)", what, off, err)
	}
	got, err := os.ReadFile(v.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "vvvvvvvv" {
		t.Fatalf("%s: the user's file holds %q, want \"vvvvvvvv\"", what, got)
	}
}

// TestH10EventfdNumberTaken: a program closes the number of a context's
// wakeup eventfd (a double close elsewhere) and its next open takes the
// number, twice over (the second time while a Wait is blocked). The
// context must neither write its wakeups into those files, nor read from
// them, nor close them; a Wakeup still ends a blocked Wait, and Close
// succeeds.
func TestH10EventfdNumberTaken(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, KernelBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c := h3Context(t, Config{MaxRequests: 4, WaitWithoutPending: true}, be)
			lb := h10Linux(t, c)
			v := h10TakeNumber(t, lb.efd)
			defer v.Close()

			if err := c.Wakeup(); err != nil && !errors.Is(err, unix.EBADF) {
				t.Fatalf("Wakeup: %v", err)
			}
			h10VictimIntact(t, "after a Wakeup", v)
			out := make([]*Request, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if n, err := c.Wait(ctx, 1, out); n != 0 || !errors.Is(err, ErrInterrupted) {
				t.Fatalf("Wait after a Wakeup = %d, %v; want ErrInterrupted", n, err)
			}
			h10VictimIntact(t, "after the Wait", v)

			// A Wakeup from another goroutine ends a blocked Wait.
			go func() {
				time.Sleep(50 * time.Millisecond)
				_ = c.Wakeup()
			}()
			start := time.Now()
			n, err := c.Wait(ctx, 1, out)
			if n != 0 || !errors.Is(err, ErrInterrupted) {
				t.Fatalf("blocked Wait, then a Wakeup = %d, %v after %v; want ErrInterrupted", n, err, time.Since(start).Round(time.Millisecond))
			}
			h10VictimIntact(t, "after the blocked Wait", v)

			// The number the context moved to is taken too, while a Wait
			// is blocked: a Wakeup still ends it.
			waited := make(chan error, 1)
			go func() {
				_, err := c.Wait(ctx, 1, out)
				waited <- err
			}()
			time.Sleep(50 * time.Millisecond)
			lb.fdmu.Lock()
			moved := lb.efd
			lb.fdmu.Unlock()
			v2 := h10TakeNumber(t, moved)
			defer v2.Close()
			if err := c.Wakeup(); err != nil {
				t.Fatalf("Wakeup with the second number taken: %v", err)
			}
			if err := <-waited; !errors.Is(err, ErrInterrupted) {
				t.Fatalf("Wait blocked while the second number was taken, then a Wakeup: %v", err)
			}
			h10VictimIntact(t, "second number, after the blocked Wait", v2)
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			h10VictimIntact(t, "after Close", v)
			h10VictimIntact(t, "second number, after Close", v2)
		})
	}
}

// TestH10EventfdClosedRepeatedly: while Wakeups keep coming and a waiter
// keeps waiting for them, another goroutine closes whatever number the
// context's eventfd has, again and again (a program's double closes).
// Every Wakeup succeeds, every Wait returns ErrInterrupted (none fails on
// the closed number, none hangs), and Close succeeds.
func TestH10EventfdClosedRepeatedly(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, KernelBackend} {
		c := h3Context(t, Config{MaxRequests: 8, WaitWithoutPending: true}, be)
		lb := h10Linux(t, c)
		var stop atomic.Bool
		var wg sync.WaitGroup
		closes := 0
		wg.Add(2)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				lb.fdmu.Lock()
				fd := lb.efd
				lb.fdmu.Unlock()
				if fd >= 0 {
					unix.Close(fd)
					closes++
				}
				time.Sleep(200 * time.Microsecond)
			}
		}()
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := c.Wakeup(); err != nil {
					t.Errorf("Wakeup: %v", err)
					return
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
		out := make([]*Request, 1)
		woke := 0
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := c.Wait(ctx, 1, out)
			cancel()
			if errors.Is(err, ErrInterrupted) {
				woke++
				continue
			}
			t.Errorf("%v: Wait: %v", be, err)
			break
		}
		stop.Store(true)
		wg.Wait()
		if err := c.Close(); err != nil {
			t.Fatalf("%v: Close: %v", be, err)
		}
		if woke == 0 || closes == 0 {
			t.Fatalf("%v: %d wakes, %d closes", be, woke, closes)
		}
	}
}

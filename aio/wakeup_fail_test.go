package aio

import (
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWakeupFailed: a Wakeup whose backend wake fails reports the error
// and arms nothing: the next Wait is not interrupted on its account. One
// that fails after an earlier Wakeup armed the context leaves that arming
// in place.
func TestWakeupFailed(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	defer c.Close()
	out := make([]*Request, 4)
	fb.mu.Lock()
	fb.onWake = func() error { return syscall.EBADF }
	fb.mu.Unlock()
	if err := c.Wakeup(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Wakeup with a failing wake = %v, want EBADF", err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != nil {
		t.Errorf("Wait after a failed Wakeup = %d, %v; want 0, nil (nothing armed)", n, err)
	}

	fb.mu.Lock()
	fb.onWake = nil
	fb.mu.Unlock()
	if err := c.Wakeup(); err != nil {
		t.Fatal(err)
	}
	fb.mu.Lock()
	fb.onWake = func() error { return syscall.EBADF }
	fb.mu.Unlock()
	if err := c.Wakeup(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Wakeup with a failing wake = %v, want EBADF", err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); err != ErrInterrupted {
		t.Errorf("Wait after a Wakeup and a failed one = %d, %v; want ErrInterrupted (the first armed it)", n, err)
	}
	if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || err != nil {
		t.Errorf("second Wait = %d, %v; want 0, nil", n, err)
	}
}

// TestWakeupFailedBesideSuccess: one Wakeup's wake fails while another
// Wakeup runs and succeeds: the context stays armed, and the next Wait
// returns ErrInterrupted, whichever order the two take.
func TestWakeupFailedBesideSuccess(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	defer c.Close()
	inWake := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	fb.mu.Lock()
	fb.onWake = func() error {
		first := false
		once.Do(func() { first = true })
		if !first {
			return nil // the second Wakeup's wake succeeds
		}
		close(inWake)
		<-release
		return syscall.EIO
	}
	fb.mu.Unlock()
	errs := make(chan error, 2)
	go func() { errs <- c.Wakeup() }() // fails
	<-inWake
	go func() { errs <- c.Wakeup() }() // succeeds
	// Give the second Wakeup the chance to run its wake before the first
	// one's fails (where Wakeups run side by side).
	for range 50 {
		fb.mu.Lock()
		w := fb.wakes
		fb.mu.Unlock()
		if w > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	var failed, ok int
	for range 2 {
		if err := <-errs; err == nil {
			ok++
		} else if errors.Is(err, syscall.EIO) {
			failed++
		} else {
			t.Errorf("Wakeup = %v", err)
		}
	}
	if failed != 1 || ok != 1 {
		t.Fatalf("%d Wakeups failed, %d succeeded; want 1 and 1", failed, ok)
	}
	out := make([]*Request, 4)
	if n, err := c.Wait(smLongCtx(t), 0, out); err != ErrInterrupted {
		t.Errorf("Wait after a failed and a successful Wakeup = %d, %v; want ErrInterrupted", n, err)
	}
}

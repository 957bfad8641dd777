package aio

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeWaiting reports whether the harvester is inside the fake's wait.
func fakeWaiting(fb *fakeBackend) bool {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.waiting && fb.waitCalls > 0
}

// fakeCloses reports how often the fake backend was closed.
func fakeCloses(fb *fakeBackend) int {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.closes
}

// TestEngineCloseWakeFailed: Close whose Wakeup fails (the backend's wake
// returns EBADF) still stops the harvester, which is blocked in Wait with
// nothing in flight, and closes the Context: it returns the Context's Close
// error (nil here), and a second Close returns ErrClosed.
func TestEngineCloseWakeFailed(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	e := newEngineIdle(c, 20*time.Millisecond)
	waitFor(t, "the harvester to wait", func() bool { return fakeWaiting(fb) })
	fb.mu.Lock()
	fb.onWake = func() error { return syscall.EBADF }
	fb.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close with a failing wake = %v, want nil (the harvester stopped and the Context closed)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close with a failing wake did not return")
	}
	select {
	case <-e.harvested:
	case <-time.After(5 * time.Second):
		t.Error("the harvester is still running after Close")
	}
	if n := fakeCloses(fb); n != 1 {
		t.Errorf("the Context's backend was closed %d times, want 1", n)
	}
	if err := e.Close(); err != ErrClosed {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestEngineCloseWakeFailedWaitHung: when the wake fails and the
// harvester's Wait does not come back either (the fake's wait hangs until
// released), Close gives up and returns the wake's error; once the Wait
// returns, the harvester ends and the Context is closed all the same.
func TestEngineCloseWakeFailedWaitHung(t *testing.T) {
	c, fb := newFakeContext(t, Config{WaitWithoutPending: true}, 16, 8)
	var hang atomic.Bool
	release := make(chan struct{})
	hung := make(chan struct{}, 1)
	fb.setOnWait(func() {
		if hang.Load() {
			select {
			case hung <- struct{}{}:
			default:
			}
			<-release
		}
	})
	e := newEngineIdle(c, 20*time.Millisecond)
	waitFor(t, "the harvester to wait", func() bool { return fakeWaiting(fb) })
	hang.Store(true)
	fb.mu.Lock()
	fb.onWake = func() error { return syscall.EBADF }
	fb.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EBADF) {
			t.Errorf("Close with a failing wake and a hung Wait = %v, want EBADF", err)
		}
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("Close with a failing wake and a hung Wait did not return")
	}
	if err := e.Close(); err != ErrClosed {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	close(release)
	select {
	case <-e.harvested:
	case <-time.After(5 * time.Second):
		t.Fatal("the harvester did not end once its Wait returned")
	}
	waitFor(t, "the Context to be closed", func() bool { return fakeCloses(fb) == 1 })
	if err := c.Close(); err != ErrClosed {
		t.Errorf("Context.Close after the engine's = %v, want ErrClosed", err)
	}
}

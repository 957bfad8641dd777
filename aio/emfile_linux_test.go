//go:build linux && (amd64 || arm64)

package aio

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNewContextOutOfDescriptors: with no descriptor left, NewContext of a
// kernel backend fails with an error that keeps EMFILE and names the call
// that failed (eventfd on Linux, kqueue or kqueuex over the FreeBSD model).
func TestNewContextOutOfDescriptors(t *testing.T) {
	smCheckPins(t)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// Use up every descriptor below a low limit, then lower the limit to it.
	var held []int
	defer func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	}()
	low := old
	low.Cur = 64
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	for {
		fd, err := unix.Dup(0)
		if err != nil {
			break
		}
		held = append(held, fd)
	}
	for _, b := range []Backend{DefaultBackend, KernelBackend} {
		c, err := NewContext(Config{Backend: b, MaxRequests: 8})
		if err == nil {
			c.Close()
			if modelBuild {
				t.Errorf("%v: NewContext succeeded with no descriptor left", b)
			}
			continue // Linux without kernel AIO: the portable backend needs none
		}
		if errors.Is(err, ErrNotSupported) && !modelBuild {
			continue // no kernel AIO: KernelBackend is refused before any descriptor
		}
		if !errors.Is(err, syscall.EMFILE) {
			t.Errorf("%v: NewContext = %v, want EMFILE", b, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "eventfd") && !strings.Contains(msg, "kqueue") {
			t.Errorf("%v: %q does not name the call that failed", b, msg)
		}
	}
}

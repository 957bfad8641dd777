package aio

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TestFallbackKeepsPortableContract: the fallback is the portable backend
// in all but its reason: it pins nothing, runs requests, and hands its
// reason, errno included, to KernelError.
func TestFallbackKeepsPortableContract(t *testing.T) {
	reason := fmt.Errorf("io_setup(9): %w (%w)", ErrNotSupported, syscall.ENOSYS)
	be, n, err := newFallbackBackend(8, reason)
	if err != nil {
		t.Fatal(err)
	}
	c := newContext(Config{}, be, n)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if c.Kernel() != "portable" || c.pinning != pinNothing || n != 8 {
		t.Fatalf("fallback: Kernel %q, pinning %v, limit %d; want portable, pinNothing (%v), 8", c.Kernel(), c.pinning, n, pinNothing)
	}
	got := c.KernelError()
	if !errors.Is(got, reason) || !errors.Is(got, syscall.ENOSYS) || strings.Count(got.Error(), "aio:") != 1 {
		t.Fatalf("KernelError() = %v, want %v wrapped, naming the package once", got, reason)
	}
	if goroutineEngine(c.be) == nil {
		t.Fatal("the fallback's goroutine engine is not found")
	}
	f := smFile(t, 64)
	r := NewRequest()
	buf := make([]byte, 16)
	if err := r.PrepareRead(f, 8, buf, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	smWaitN(t, c, 1)
	if n, err := r.Result(); n != len(buf) || err != nil {
		t.Fatalf("Result = %d, %v; want %d, nil", n, err, len(buf))
	}
}

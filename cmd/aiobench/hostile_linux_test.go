package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

// TestDirectRefusedNamed: a file on a file system that refuses O_DIRECT
// (procfs answers EINVAL to the open) is reported as such with -direct,
// as a usage error keeping the errno.
func TestDirectRefusedNamed(t *testing.T) {
	status, err := runInProcess(context.Background(), "-file", "/proc/self/status", "-direct", "-duration", "10ms")
	if status != 2 || !errors.Is(err, errDirectRefused) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("-direct on procfs: %v, exit status %d; want status 2, errDirectRefused and EINVAL", err, status)
	}
}

package main

import (
	"context"
	"errors"
	"io"
	"testing"
)

// runInProcess runs the command's run function with args, as main does,
// and returns its error and the exit status main gives it.
func runInProcess(ctx context.Context, args ...string) (int, error) {
	err := run(ctx, args, io.Discard, io.Discard, false)
	var e *exitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &e):
		return e.status, err
	default:
		return 1, err
	}
}

// TestEmptyFileFlag: -file "" (an unset shell variable) is refused rather
// than taken for "no -file", which would run on the cache instead.
func TestEmptyFileFlag(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	status, err := runInProcess(context.Background(), "-file", "", "-duration", "10ms", "-size", "1M")
	if status != 2 {
		t.Fatalf("-file \"\": %v, exit status %d; want a usage error (status 2)", err, status)
	}
}

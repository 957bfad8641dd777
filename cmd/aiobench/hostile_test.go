package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
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

// TestSizeBeyondFreeSpace: a -size the cache's file system cannot hold is
// refused before anything is written, rather than filling the disk until
// the write fails. (Before the check, the run spends its 300ms creating
// the cache file, and the ctx's end stops it.)
func TestSizeBeyondFreeSpace(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	status, err := runInProcess(ctx, "-size", "1000T", "-duration", "10ms", "-backend", "goroutines")
	if status != 2 || !strings.Contains(fmt.Sprint(err), "free") {
		t.Fatalf("-size 1000T: %v, exit status %d; want status 2 and the free space named", err, status)
	}
	if entries, _ := os.ReadDir(os.Getenv("TMPDIR")); len(entries) != 0 {
		t.Errorf("the refused run created %v", entries)
	}
}

// TestLargeQueueDepthKeepsDuration: a run with thousands of goroutines
// ends about when its -duration says, as one with -qd 32 does. The bound is
// loose (a liveness check, not a speed one), and relative to the -qd 32
// run on the same machine: before the workers waited for a common start,
// a 100ms run of the file backend with -qd 6000 on 2 CPUs lasted 12 to 18s
// in two runs of three (0.13s with -qd 32), since the goroutine starting
// the workers and arming the timer waited behind them.
func TestLargeQueueDepthKeepsDuration(t *testing.T) {
	if raceEnabled {
		t.Skip("under -race, thousands of goroutines take seconds to start and end by themselves")
	}
	t.Setenv("TMPDIR", t.TempDir())
	backend := "file"
	if l, err := aio.SystemLimits(); err == nil && l.MaxOutstanding < 6000 {
		backend = "goroutines" // -qd 6000 is refused for an aio backend here
	}
	timed := func(qd string) time.Duration {
		start := time.Now()
		status, err := runInProcess(context.Background(), "-size", "8M", "-qd", qd, "-bs", "512",
			"-backend", backend, "-duration", "100ms", "-direct=false")
		if status != 0 {
			t.Fatalf("-qd %s: %v, exit status %d", qd, err, status)
		}
		return time.Since(start)
	}
	small := timed("32")
	if large := timed("6000"); large > 20*small+time.Second {
		t.Errorf("a 100ms run of %s took %v with -qd 6000, %v with -qd 32", backend, large, small)
	}
}

// TestQueueDepthAboveContextLimit: a -qd above what an aio.Context takes
// here is a usage error found before anything runs, not a failure after
// the other backends have spent their time.
func TestQueueDepthAboveContextLimit(t *testing.T) {
	c, err := aio.NewContext(aio.Config{MaxRequests: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	limit := c.MaxRequests()
	c.Close()
	if limit >= 1<<20 {
		t.Skipf("a Context here takes %d requests", limit)
	}
	t.Setenv("TMPDIR", t.TempDir())
	qd := fmt.Sprint(limit + 1)
	status, err := runInProcess(context.Background(), "-size", "1M", "-bs", "512", "-qd", qd, "-backend", "default", "-duration", "10ms")
	if status != 2 {
		t.Fatalf("-qd %s (a Context takes %d): %v, exit status %d; want a usage error (2)", qd, limit, err, status)
	}
	if entries, _ := os.ReadDir(os.Getenv("TMPDIR")); len(entries) != 0 {
		t.Errorf("the refused run created %v", entries)
	}
}

// TestFileShrunkUnderTheRun: when the file is shorter than the region
// the run covers (truncated by someone else), each backend fails with an
// error that says which transfer fell short and where, not a bare "EOF".
func TestFileShrunkUnderTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"goroutines", "file", "default", "portable"} {
		s := &runSpec{ctx: context.Background(), backend: backend, f: f,
			w: newWorkload(randRead, 4096, 1<<20, 1), qd: 4, dur: time.Second}
		_, err := runBackend(s)
		if err == nil || !strings.Contains(err.Error(), "read of 4096 bytes at offset ") {
			t.Errorf("%s on a file truncated to 0 bytes: %v; want the read and its offset named", backend, err)
		}
	}
}

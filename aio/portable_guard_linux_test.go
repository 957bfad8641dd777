//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWorkerTimesRequestAfterInlineReads: a worker's share of a long read
// the page cache holds (done without waiting, inline) and two reads of no
// bytes after it. Each of those takes well under slowJob, so nothing of the
// share is slow: no request goes back to the queue and no second worker
// starts. (The first empty read was timed from before the long read, found
// slow, and the second handed back, starting another worker.) A worker
// the system preempts in an empty read for longer than slowJob is slow
// indeed: the share is tried up to three times, each on a new context.
func TestWorkerTimesRequestAfterInlineReads(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: far longer than slowJob to copy
	path := filepath.Join(t.TempDir(), "cached")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Under the race detector or an emulator (qemu-user) a read of no
	// bytes can itself take about slowJob inside the worker: round trips
	// of 9 to 25 µs there, about 1 µs natively.
	if d := emptyReadTime(t, f); d > slowJob/10 {
		t.Skipf("a read of no bytes through a PortableBackend context takes %v here; the test needs it well under slowJob (%v)", d, slowJob)
	}
	var workers []int
	for range 3 {
		w := inlineThenEmptyShare(t, f, data)
		if w == 1 {
			return
		}
		workers = append(workers, w)
	}
	t.Errorf("workers after one share of a cached read and two empty ones, three times: %v, want 1: a request after the cached read was taken for slow", workers)
}

// inlineThenEmptyShare has one worker of a new context run a share of a
// read of all of f (data, in the page cache) and two reads of no bytes,
// checks their results, and returns how many workers the context then has.
func inlineThenEmptyShare(t *testing.T, f *os.File, data []byte) int {
	t.Helper()
	c, err := NewContext(Config{Backend: PortableBackend, MaxRequests: 4, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g := workersOff(t, c)
	long, empty1, empty2 := NewRequest(), NewRequest(), NewRequest()
	buf := make([]byte, len(data))
	if err := long.PrepareRead(f, 0, buf, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Request{empty1, empty2} {
		if err := r.PrepareRead(f, 0, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Submit(long, empty1, empty2); n != 3 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	// One worker, which takes all three as its share before the waiter
	// could help with the long read.
	g.mu.Lock()
	g.maxWorkers, g.fast, g.allow = 4, 1, 1
	g.staff()
	g.mu.Unlock()
	for {
		g.mu.Lock()
		taken := g.head == len(g.queue)
		g.mu.Unlock()
		if taken {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]*Request, 3)
	for got := 0; got < 3; {
		k, err := c.Wait(ctx, 3-got, out[got:])
		got += k
		if err != nil {
			t.Fatalf("Wait after %d of 3: %v", got, err)
		}
	}
	if n, err := long.Result(); n != len(data) || err != nil || !bytes.Equal(buf, data) {
		t.Fatalf("the long read = %d, %v", n, err)
	}
	for _, r := range []*Request{empty1, empty2} {
		if n, err := r.Result(); n != 0 || err != nil {
			t.Fatalf("a read of no bytes = %d, %v", n, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.workers
}

// emptyReadTime is the shortest of ten Submit and Wait round trips of a
// read of no bytes of f through a PortableBackend context.
func emptyReadTime(t *testing.T, f *os.File) time.Duration {
	t.Helper()
	c, err := NewContext(Config{Backend: PortableBackend, MaxRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, out := NewRequest(), make([]*Request, 1)
	best := time.Duration(1 << 62)
	for range 10 {
		if err := r.PrepareRead(f, 0, nil, nil); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if n, err := c.Submit(r); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		if _, err := c.Wait(context.Background(), 1, out); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}

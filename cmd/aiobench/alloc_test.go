package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// smallFile writes size random bytes to a new file and opens it for reading
// and writing; having just been written, it is in the page cache.
func smallFile(t *testing.T, size int64) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fillRandom(context.Background(), w, size); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestAIOLoopAllocs checks that the refill loop allocates nothing per
// request once running: Wait, Result, histogram, Prepare and Submit of the
// refilled batch, on every backend and workload.
func TestAIOLoopAllocs(t *testing.T) {
	f := smallFile(t, 1<<20)
	for _, backend := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		for _, mode := range []rwMode{randRead, seqWrite, randRW} {
			t.Run(backend.String()+"/"+mode.String(), func(t *testing.T) {
				if modelKernel && backend == aio.DefaultBackend {
					t.Skip("DefaultBackend runs over the fbsdmodel kernel model, which allocates itself")
				}
				spec := &runSpec{f: f, w: newWorkload(mode, 4096, 1<<20, 1), qd: 16, dur: time.Hour}
				a, err := newAIORun(spec, backend)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.fill(); err != nil {
					t.Fatal(err)
				}
				// A garbage collection empties the runtime's caches (the
				// Pinner and sudog caches), which are then refilled by an
				// allocation or two. Collect now, warm the caches up, and
				// keep collections out of the measurement.
				runtime.GC()
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
				for range 200 {
					if err := a.step(true); err != nil {
						t.Fatal(err)
					}
				}
				// An allocation of the loop itself would show in every round,
				// thousands of times; the runtime's own caches (sudogs moving
				// between Ps while other work loads the machine) now and then
				// cost one. So a round without any allocation passes.
				const steps, rounds = 300, 10
				var allocs, requests float64
				for range rounds {
					before := a.ops.Load()
					allocs = testing.AllocsPerRun(5, func() {
						for range steps {
							if err := a.step(true); err != nil {
								t.Fatal(err)
							}
						}
					})
					requests = float64(a.ops.Load()-before) / 6 // AllocsPerRun runs once more to warm up
					t.Logf("%.0f allocations per %d steps (%.0f requests)", allocs, steps, requests)
					if allocs == 0 {
						break
					}
				}
				for a.inflight > 0 {
					if err := a.step(false); err != nil {
						t.Fatal(err)
					}
				}
				if err := a.close(); err != nil {
					t.Fatal(err)
				}
				if a.err != nil {
					t.Fatal(a.err)
				}
				if allocs != 0 {
					t.Errorf("%.0f allocations per %d steps of about %.0f requests in each of %d rounds, want 0", allocs, steps, requests, rounds)
				}
			})
		}
	}
}

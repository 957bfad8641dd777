//go:build linux && fbsdmodel

package aio

import (
	"testing"
	"time"
)

// TestDiskFlushWaitsForKernelWrites: FreeBSD serves a disk's writes but
// refuses its flush, which DefaultBackend gives to goroutines; the flush
// must still start only once the kernel has done the writes submitted
// before it, as PrepareFlush promises on FreeBSD.
func TestDiskFlushWaitsForKernelWrites(t *testing.T) {
	k := kqModel(t)
	disk := glue7LoopDisk(t, 1<<20)
	c := soContext(t, DefaultBackend)
	w1, w2, s := NewRequest(), NewRequest(), NewRequest()
	for _, err := range []error{
		w1.PrepareWrite(disk, 0, kqPattern(7, 4096), "first write"),
		w2.PrepareWrite(disk, 8192, kqPattern(9, 4096), "second write"),
		s.PrepareFlush(disk, "flush"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	k.Stall()
	stalled := true
	defer func() {
		if stalled {
			k.Unstall()
		}
	}()
	soSubmit(t, c, w1, w2, s)
	if got := soWaitFor(t, c, 1, 100*time.Millisecond); len(got) > 0 {
		_, err := got[0].Result()
		t.Fatalf("%v completed (%v) while the kernel held the writes before the flush", got[0].User(), err)
	}
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("Stats %+v before anything completed", st)
	}
	k.Unstall()
	stalled = false
	got := soWaitFor(t, c, 3, time.Minute)
	if len(got) != 3 {
		t.Fatalf("after the kernel ran the writes, %d of 3 requests came back", len(got))
	}
	for _, r := range []*Request{w1, w2, s} {
		if n, err := r.Result(); err != nil || (r != s && n != 4096) {
			t.Errorf("%v: %d, %v", r.User(), n, err)
		}
	}
	if st := c.Stats(); st != (Stats{Kernel: 2, Goroutines: 1}) {
		t.Errorf("Stats %+v, want the writes the kernel's and the flush the goroutines'", st)
	}
}

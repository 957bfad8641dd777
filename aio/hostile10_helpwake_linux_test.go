//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestH10CachedReadsBehindStalledWorker: with Workers: 1, the one worker
// took a write that blocks (its buffer stalled in the kernel) and, after
// it in its share, 7 reads the page cache holds. Its share goes back to
// the queue, where no other worker may take it; the goroutine in Wait,
// which does such reads itself, must be woken for them rather than sleep
// until the stalled write returns: the reads complete while it is stalled.
func TestH10CachedReadsBehindStalledWorker(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			stall := h5NewStall(t)
			c := h3Context(t, Config{MaxRequests: 8, Workers: 1}, be)
			other, err := os.Create(filepath.Join(t.TempDir(), "other"))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			f, want := inlineFile(t, 4096)
			slow := NewRequest()
			if err := slow.PrepareWrite(other, 0, stall.mem, "stalled"); err != nil {
				t.Fatal(err)
			}
			rs, bufs := []*Request{slow}, [][]byte{nil}
			for i := range 7 {
				r, buf := NewRequest(), make([]byte, 4096)
				if err := r.PrepareRead(f, 0, buf, i); err != nil {
					t.Fatal(err)
				}
				rs, bufs = append(rs, r), append(bufs, buf)
			}
			if n, err := c.Submit(rs...); n != len(rs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			stall.fault(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out := make([]*Request, len(rs))
			got := 0
			var werr error
			for got < 7 && werr == nil {
				var n int
				n, werr = c.Wait(ctx, 1, out)
				for _, r := range out[:n] {
					if r == slow {
						t.Errorf("the stalled write came back: %s", fmtResult(r))
						continue
					}
					i := r.User().(int)
					if k, err := r.Result(); k != 4096 || err != nil || string(bufs[i+1]) != string(want) {
						t.Errorf("read %d = %d, %v", i, k, err)
					}
					got++
				}
			}
			cancel()
			stall.release()
			if got < 7 {
				t.Errorf("%d of the 7 cached reads back in 10 s while the worker was stalled, then %v", got, werr)
			}
			h5Gather(t, c, len(rs)-got)
		})
	}
}

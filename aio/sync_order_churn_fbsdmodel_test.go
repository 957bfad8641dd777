//go:build linux && fbsdmodel

package aio

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestSyncOrderChurnLeavesNothing: writes, reads and syncs on a few files,
// a quarter of them canceled at once from another goroutine, each round
// drained: every request comes back once, with its bytes or (only after a
// Cancel that said so) ErrCanceled, and once all are back the goroutine
// engine keeps no file in its sync order. A request counted in and never
// out would hold every later sync of its file for good.
func TestSyncOrderChurnLeavesNothing(t *testing.T) {
	type setup struct {
		name  string
		be    Backend
		files func(t *testing.T) []*os.File
	}
	regular := func(t *testing.T) []*os.File {
		var fs []*os.File
		for i := range 3 {
			f, err := os.OpenFile(filepath.Join(t.TempDir(), "f"+string(rune('a'+i))), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			fs = append(fs, f)
		}
		return fs
	}
	disk := func(t *testing.T) []*os.File { return []*os.File{glue7LoopDisk(t, 1<<20)} }
	for _, st := range []setup{
		{"portable/regular", PortableBackend, regular},
		{"default/disk", DefaultBackend, disk},
	} {
		t.Run(st.name, func(t *testing.T) {
			kqModel(t)
			files := st.files(t)
			c, err := NewContext(Config{MaxRequests: 32, Backend: st.be})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			g := goroutineEngine(c.be)
			if g == nil {
				t.Fatalf("%T has no goroutine engine", c.be)
			}
			rng := rand.New(rand.NewPCG(3, 5))
			const batch = 24
			reqs := make([]*Request, batch)
			bufs := make([][]byte, batch)
			for i := range reqs {
				reqs[i], bufs[i] = NewRequest(), AlignedBuffer(4096)
			}
			for round := range 20 {
				for i, r := range reqs {
					f := files[rng.IntN(len(files))]
					off := int64(rng.IntN(64)) * 4096
					var err error
					switch rng.IntN(4) {
					case 0:
						err = r.PrepareWrite(f, off, bufs[i], i)
					case 1:
						err = r.PrepareRead(f, off, bufs[i], i)
					case 2:
						err = r.PrepareFlush(f, i)
					default:
						err = r.PrepareDataSync(f, i)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if n, err := c.Submit(reqs...); n != batch || err != nil {
					t.Fatalf("round %d: Submit = %d, %v", round, n, err)
				}
				canceled := make([]bool, batch)
				var wg sync.WaitGroup
				wg.Go(func() {
					for i := range batch {
						if i%4 == round%4 {
							canceled[i] = reqs[i].Cancel() == nil
						}
					}
				})
				wg.Wait()
				seen := make([]int, batch)
				for _, r := range drain(t, c, batch) {
					i := r.User().(int)
					seen[i]++
					n, err := r.Result()
					switch {
					case errors.Is(err, ErrCanceled):
						if !canceled[i] {
							t.Errorf("round %d: request %d canceled though Cancel did not say so", round, i)
						}
					case err != nil:
						t.Errorf("round %d: request %d (%v): %v", round, i, r.op, err)
					case (r.op == opWrite || r.op == opRead) && n != 4096 && !(r.op == opRead && n == 0):
						t.Errorf("round %d: request %d moved %d bytes", round, i, n)
					}
				}
				for i, k := range seen {
					if k != 1 {
						t.Fatalf("round %d: request %d came back %d times", round, i, k)
					}
				}
				g.mu.Lock()
				left := len(g.order.files)
				g.mu.Unlock()
				if left != 0 {
					t.Fatalf("round %d: every request is back, and the sync order still keeps %d files", round, left)
				}
			}
		})
	}
}

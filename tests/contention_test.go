package tests

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// Many goroutines fight over the same requests with Prepare, Submit (to
// either of two contexts, alone or in lists with duplicates) and Cancel,
// while a waiter per context collects. Every accepted submission must come
// back exactly once, from the context that accepted it.
func TestFightOverRequests(t *testing.T) {
	pairs := [][2]aio.Backend{
		{aio.DefaultBackend, aio.PortableBackend},
		{aio.DefaultBackend, aio.DefaultBackend},
		{aio.PortableBackend, aio.PortableBackend},
	}
	for _, pair := range pairs {
		t.Run(pair[0].String()+"+"+pair[1].String(), func(t *testing.T) {
			fightOver(t, pair)
		})
	}
}

func fightOver(t *testing.T, pair [2]aio.Backend) {
	dir := t.TempDir()
	buffered := openFile(t, filepath.Join(dir, "buffered"), os.O_RDWR|os.O_CREATE)
	if _, err := buffered.WriteAt(make([]byte, 1<<16), 0); err != nil {
		t.Fatal(err)
	}
	files := []*os.File{buffered}
	if f, err := os.OpenFile(filepath.Join(dir, "buffered"), os.O_RDWR|oDirect, 0); haveODirect && err == nil {
		t.Cleanup(func() { f.Close() })
		files = append(files, f)
	}
	ctxs := [2]*aio.Context{}
	for i, b := range pair {
		ctxs[i] = newContext(t, b, aio.Config{MaxRequests: 256, WaitWithoutPending: true})
	}
	const nreq = 32
	reqs := make([]*aio.Request, nreq)
	bufs := make([][]byte, nreq)
	index := map[*aio.Request]int{}
	for i := range reqs {
		reqs[i] = aio.NewRequest()
		bufs[i] = aio.AlignedBuffer(4096)
		index[reqs[i]] = i
	}
	var accepted, delivered [2][nreq]atomic.Int64

	stop := make(chan struct{})
	var wg, waiters sync.WaitGroup
	for ci, c := range ctxs {
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			out := make([]*aio.Request, 16)
			for {
				n, err := c.Wait(context.Background(), 1, out)
				for _, r := range out[:n] {
					delivered[ci][index[r]].Add(1)
				}
				if errors.Is(err, aio.ErrInterrupted) {
					select {
					case <-stop:
						if c.InFlight() == 0 {
							return
						}
					default:
					}
				} else if err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			list := make([]*aio.Request, 0, 4)
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(nreq)
				r := reqs[i]
				switch op := rng.IntN(10); {
				case op < 4:
					_ = r.PrepareRead(files[rng.IntN(len(files))], int64(rng.IntN(16))*4096, bufs[i], nil)
				case op < 8:
					ci := rng.IntN(2)
					list = append(list[:0], r)
					if op == 7 {
						list = append(list, reqs[rng.IntN(nreq)])
					}
					n, err := ctxs[ci].Submit(list...)
					switch {
					case n == len(list):
						for _, q := range list {
							accepted[ci][index[q]].Add(1)
						}
					case n != 0:
						t.Errorf("Submit of %d accepted %d: %v", len(list), n, err)
					}
				default:
					_ = r.Cancel()
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(hangTimeout)
	for _, c := range ctxs {
		for c.InFlight() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for range 3 {
			_ = c.Wakeup()
		}
	}
	done := make(chan struct{})
	go func() { waiters.Wait(); close(done) }()
	for {
		select {
		case <-done:
		case <-time.After(10 * time.Millisecond):
			for _, c := range ctxs {
				_ = c.Wakeup()
			}
			continue
		}
		break
	}
	total := int64(0)
	for ci := range ctxs {
		for i := range reqs {
			a, d := accepted[ci][i].Load(), delivered[ci][i].Load()
			total += a
			if a != d {
				t.Errorf("context %d, request %d: accepted %d times, delivered %d", ci, i, a, d)
			}
		}
	}
	t.Logf("%d submissions", total)
	if total == 0 {
		t.Error("no submission was accepted")
	}
	checkPinsZero(t)
}

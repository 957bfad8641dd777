//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// h7Write is the user value of a write of the re-route tests.
type h7Write struct {
	blk    int
	fill   byte
	seen   atomic.Int32
	cancel atomic.Pointer[error] // what Cancel answered, if it was called
}

// TestH7RerouteChurn: three DefaultBackend contexts write one O_DIRECT
// file on ext4, each its own blocks, in rounds: each round's batch mixes
// writes within the file (the kernel's) and writes that extend it (which
// the kernel refuses at once, RWF_NOWAIT, and goroutines serve), vectored
// and not; Cancel is called on some at once, from another goroutine,
// Wakeup falls on the waiter and Waits have short deadlines, and a request
// that comes back is at once submitted again for another block. Every
// submission comes back exactly once, with its whole count or (only after
// a Cancel that said so) ErrCanceled; Stats counts each once; and the file
// holds, block by block, the last write that was not canceled.
func TestH7RerouteChurn(t *testing.T) {
	dir := nowaitExt4Dir(t)
	const (
		contexts = 3
		rounds   = 12
		batch    = 8
		bs       = h5Block
		inFile   = 3 * contexts * batch // blocks the file holds at the start
	)
	f := nowaitOpen(t, dir, "churn")
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	zero := AlignedBuffer(inFile * bs)
	if _, err := f.WriteAt(zero, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	var (
		emu  sync.Mutex
		want = map[int]byte{} // block: the fill it must hold
	)
	var wg sync.WaitGroup
	errs := make(chan error, contexts)
	for ci := range contexts {
		c, mb := h5Context(t, Config{MaxRequests: 2 * batch})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h7Churn(c, mb, f, ci, contexts, rounds, batch, inFile, &emu, want)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	got := AlignedBuffer(int(st.Size()))
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	for blk, fill := range want {
		b := got[blk*bs : (blk+1)*bs]
		if i := h7Differs(b, fill); i >= 0 {
			t.Fatalf("block %d holds %#x at byte %d; the last write not canceled there wrote %#x", blk, b[i], i, fill)
		}
	}
}

// h7Churn is one context's part of TestH7RerouteChurn.
func h7Churn(c *Context, mb *mixedBackend, f *os.File, ci, contexts, rounds, batch, inFile int, emu *sync.Mutex, want map[int]byte) error {
	rng := rand.New(rand.NewPCG(uint64(ci), 7))
	reqs := h5Requests(batch)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = AlignedBuffer(2 * h5Block)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // Wakeups all along
		for {
			select {
			case <-stop:
				return
			default:
				_ = c.Wakeup()
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	submitted, returned := 0, 0
	fill := byte(ci*50 + 1)
	for round := range rounds {
		// Blocks of this context: ci, ci+contexts, ...; half within the
		// file, half past its end (which grows each round).
		used := map[int]bool{}
		pick := func() int {
			for {
				var blk int
				if rng.IntN(2) == 0 {
					blk = ci + contexts*rng.IntN(inFile/contexts)
				} else {
					blk = ci + contexts*(inFile/contexts+round*2*batch+rng.IntN(2*batch))
				}
				if !used[blk] {
					used[blk] = true
					return blk
				}
			}
		}
		prepare := func(i int) (*h7Write, error) {
			fill++
			if fill == 0 {
				fill = 1
			}
			w := &h7Write{blk: pick(), fill: fill}
			buf := bufs[i][:h5Block]
			for j := range buf {
				buf[j] = w.fill
			}
			off := int64(w.blk * h5Block)
			if rng.IntN(3) == 0 {
				return w, reqs[i].PrepareWritev(f, off, [][]byte{buf[:1024], nil, buf[1024:]}, w)
			}
			return w, reqs[i].PrepareWrite(f, off, buf, w)
		}
		for i := range reqs {
			if _, err := prepare(i); err != nil {
				return err
			}
		}
		if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
			return fmt.Errorf("context %d round %d: Submit = %d, %v", ci, round, n, err)
		}
		submitted += len(reqs)
		var cwg sync.WaitGroup
		for _, r := range reqs {
			if rng.IntN(3) == 0 {
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					err := r.Cancel()
					w := r.User().(*h7Write)
					w.cancel.Store(&err)
				}()
			}
		}
		resubmits := batch / 2
		out := make([]*Request, batch)
		for pending := len(reqs) + resubmits; pending > 0; {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
			n, err := c.Wait(ctx, 1, out)
			cancel()
			switch {
			case err == nil, errors.Is(err, ErrInterrupted), errors.Is(err, context.DeadlineExceeded):
			default:
				return fmt.Errorf("context %d round %d: Wait = %d, %v", ci, round, n, err)
			}
			for _, r := range out[:n] {
				pending--
				returned++
				cwg.Wait() // the Cancel's answer is stored
				if err := h7Check(r, emu, want); err != nil {
					return fmt.Errorf("context %d round %d: %w", ci, round, err)
				}
				if resubmits > 0 {
					resubmits--
					i := indexOf(reqs, r)
					if _, err := prepare(i); err != nil {
						return err
					}
					if n, err := c.Submit(r); n != 1 || err != nil {
						return fmt.Errorf("context %d round %d: Submit again = %d, %v", ci, round, n, err)
					}
					submitted++
				}
			}
			clear(out)
		}
		cwg.Wait()
	}
	for c.InFlight() > 0 {
		return fmt.Errorf("context %d: InFlight %d after every request came back", ci, c.InFlight())
	}
	if k := mb.kin.Load(); k != 0 {
		return fmt.Errorf("context %d: the kernel engine counts %d in flight at the end", ci, k)
	}
	if s := c.Stats(); s.Kernel+s.Goroutines != uint64(submitted) || returned != submitted {
		return fmt.Errorf("context %d: %d submitted, %d returned, Stats %+v", ci, submitted, returned, s)
	}
	// Writes that extend the file are always refused (RWF_NOWAIT) and go
	// to goroutines; how many within the file the kernel keeps depends on
	// timing (ext4 refuses one too while another write holds the inode's
	// lock), and may be none.
	if s := c.Stats(); s.Goroutines == 0 {
		return fmt.Errorf("context %d: Stats %+v: no write was re-routed to goroutines", ci, s)
	}
	return nil
}

// h7Differs returns the index of the first byte of b that is not fill, or
// -1.
func h7Differs(b []byte, fill byte) int {
	for i, c := range b {
		if c != fill {
			return i
		}
	}
	return -1
}

func indexOf(reqs []*Request, r *Request) int {
	for i, q := range reqs {
		if q == r {
			return i
		}
	}
	panic("request not in its batch")
}

// h7Check checks a write just returned by Wait and records what its block
// must now hold.
func h7Check(r *Request, emu *sync.Mutex, want map[int]byte) error {
	w := r.User().(*h7Write)
	if w.seen.Add(1) != 1 {
		return fmt.Errorf("write of block %d returned %d times", w.blk, w.seen.Load())
	}
	n, err := r.Result()
	var cerr error = errors.New("not called")
	if p := w.cancel.Load(); p != nil {
		cerr = *p
	}
	switch {
	case cerr == nil:
		if n != 0 || !errors.Is(err, ErrCanceled) {
			return fmt.Errorf("write of block %d: Cancel said canceled, Result = %d, %v", w.blk, n, err)
		}
		return nil
	case n != h5Block || err != nil:
		if errors.Is(err, syscall.ECANCELED) {
			return fmt.Errorf("write of block %d canceled, but Cancel said %v", w.blk, cerr)
		}
		return fmt.Errorf("write of block %d (Cancel: %v) = %d, %v", w.blk, cerr, n, err)
	}
	emu.Lock()
	want[w.blk] = w.fill
	emu.Unlock()
	return nil
}

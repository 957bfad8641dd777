package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// aioSlot is one request of the queue with everything it reuses.
type aioSlot struct {
	req   *aio.Request
	buf   []byte
	off   int64
	write bool
	start time.Time // when it was last submitted (monotonic)
}

// aioRun keeps qd requests of one aio.Context in flight: every request Wait
// returns is refilled at once, and all refills of one Wait go back in one
// Submit. In steady state it allocates nothing.
type aioRun struct {
	c     *aio.Context
	f     *os.File
	gen   *generator
	hist  *histogram
	slots []aioSlot
	out   []*aio.Request // Wait's output, len qd
	batch []*aio.Request // prepared, to submit; cap qd

	inflight int
	ops      atomic.Int64 // completed requests (read by the progress line)
	err      error        // the first request error; ends the refilling
}

func newAIORun(s *runSpec, backend aio.Backend) (*aioRun, error) {
	c, err := aio.NewContext(aio.Config{MaxRequests: s.qd, Backend: backend})
	if err != nil {
		return nil, err
	}
	if c.MaxRequests() < s.qd {
		c.Close()
		return nil, fmt.Errorf("queue depth %d is above this system's limit of %d requests", s.qd, c.MaxRequests())
	}
	a := &aioRun{
		c:     c,
		f:     s.f,
		gen:   s.w.generator(0),
		hist:  new(histogram),
		slots: make([]aioSlot, s.qd),
		out:   make([]*aio.Request, s.qd),
		batch: make([]*aio.Request, 0, s.qd),
	}
	for i := range a.slots {
		a.slots[i] = aioSlot{req: aio.NewRequest(), buf: s.buffer(i)}
	}
	return a, nil
}

// prepare gives slot s its next offset.
func (a *aioRun) prepare(s *aioSlot) error {
	off, write := a.gen.next()
	s.off, s.write = off, write
	if write {
		return s.req.PrepareWrite(a.f, off, s.buf, s)
	}
	return s.req.PrepareRead(a.f, off, s.buf, s)
}

// fill prepares every slot and submits the whole queue.
func (a *aioRun) fill() error {
	for i := range a.slots {
		if err := a.prepare(&a.slots[i]); err != nil {
			return err
		}
		a.batch = append(a.batch, a.slots[i].req)
	}
	return a.submit()
}

// submit stamps and submits the batch. Requests refused for lack of
// resources stay Prepared and wait in the batch for the next round.
func (a *aioRun) submit() error {
	if len(a.batch) == 0 {
		return nil
	}
	now := time.Now()
	for _, r := range a.batch {
		r.User().(*aioSlot).start = now
	}
	n, err := a.c.Submit(a.batch...)
	a.inflight += n
	if err == nil {
		a.batch = a.batch[:0]
		return nil
	}
	if !errors.Is(err, aio.ErrAgain) || a.inflight == 0 {
		return err
	}
	kept := a.batch[:0]
	for _, r := range a.batch {
		if r.State() == aio.Prepared {
			kept = append(kept, r)
		}
	}
	clear(a.batch[len(kept):])
	a.batch = kept
	return nil
}

// step harvests what one Wait returns (at least one request), records the
// latencies and, if refill, prepares each of them again and resubmits them
// all in one Submit.
func (a *aioRun) step(refill bool) error {
	n, err := a.c.Wait(context.Background(), 1, a.out)
	now := time.Now()
	for _, r := range a.out[:n] {
		a.inflight--
		s := r.User().(*aioSlot)
		a.hist.record(now.Sub(s.start))
		got, rerr := r.Result()
		if rerr == nil && got != len(s.buf) {
			rerr = fmt.Errorf("short transfer: %d bytes", got)
		}
		if rerr != nil {
			rerr = transferError(s.write, len(s.buf), s.off, rerr)
			if a.err == nil {
				a.err = rerr
			}
			continue
		}
		if refill && a.err == nil {
			if perr := a.prepare(s); perr != nil {
				a.err = perr
				continue
			}
			a.batch = append(a.batch, r)
		}
	}
	a.ops.Add(int64(n))
	if err != nil {
		return err
	}
	if refill && a.err == nil {
		return a.submit()
	}
	return nil
}

// run keeps the queue full for d, or until ctx is done, then completes
// what is in flight.
func (a *aioRun) run(ctx context.Context, d time.Duration) (time.Duration, error) {
	start := time.Now()
	err := a.fill()
	for err == nil && a.err == nil && ctx.Err() == nil && time.Since(start) < d {
		err = a.step(true)
	}
	for a.inflight > 0 {
		if werr := a.step(false); werr != nil {
			if err == nil {
				err = werr
			}
			break
		}
	}
	elapsed := time.Since(start)
	if err == nil {
		err = a.err
	}
	return elapsed, err
}

func (a *aioRun) close() error { return a.c.Close() }

// runAIO runs the workload through an aio.Context with the given backend.
func runAIO(s *runSpec, backend aio.Backend) (result, error) {
	a, err := newAIORun(s, backend)
	if err != nil {
		return result{}, err
	}
	defer a.close()
	p := s.startProgress(a.ops.Load)
	cpu0 := cpuTime()
	elapsed, err := a.run(s.ctx, s.dur)
	cpu := cpuTime() - cpu0
	p.stop()
	if err != nil {
		return result{}, err
	}
	return s.result(servedBy(a.c), a.ops.Load(), elapsed, cpu, a.hist), nil
}

// servedBy names the engines that served a context's requests.
func servedBy(c *aio.Context) string {
	st := c.Stats()
	switch {
	case st.Goroutines == 0:
		return c.Kernel()
	case st.Kernel == 0:
		return "goroutines"
	}
	return c.Kernel() + "+goroutines"
}

package main

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// viaGoroutines is what serves the goroutines backend: plain *os.File calls.
const viaGoroutines = "os.File"

// goWorker is one of the -qd goroutines of the baseline: a plain loop of
// (*os.File).ReadAt / WriteAt, which is what Go code does today without aio
// (or the same loop on one aio.File that all workers share).
// Each worker has its own counter, histogram and generator, so the workers
// share nothing on the I/O path but the file and the stop flag.
type goWorker struct {
	ops  atomic.Int64
	_    [56]byte // keep the counters of neighbouring workers apart
	hist histogram
	gen  *generator
	buf  []byte
	err  error
}

// readerWriterAt is what the workers call: an *os.File or an *aio.File.
type readerWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

func (w *goWorker) loop(f readerWriterAt, stop *atomic.Bool) {
	for !stop.Load() {
		off, write := w.gen.next()
		t := time.Now()
		var err error
		if write {
			_, err = f.WriteAt(w.buf, off)
		} else {
			_, err = f.ReadAt(w.buf, off) // a short read is io.EOF
		}
		w.hist.record(time.Since(t))
		if err != nil {
			w.err = transferError(write, len(w.buf), off, err)
			stop.Store(true)
			return
		}
		w.ops.Add(1)
	}
}

// runGoroutines runs the workload on -qd goroutines for the duration, or
// until the run's context is done; each finishes the request it is doing
// when time is up.
func runGoroutines(s *runSpec) (result, error) {
	return runWorkers(s, s.f, func() string { return viaGoroutines })
}

// runWorkers runs the workload on -qd goroutines calling f; via names what
// served them, asked once the run is over.
func runWorkers(s *runSpec, f readerWriterAt, via func() string) (result, error) {
	workers := make([]*goWorker, s.qd)
	for i := range workers {
		workers[i] = &goWorker{gen: s.w.generator(uint64(i)), buf: s.buffer(i)}
	}
	count := func() int64 {
		var n int64
		for _, w := range workers {
			n += w.ops.Load()
		}
		return n
	}
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	// The workers wait for begin before their first request: started one by
	// one, the first would keep the CPUs busy while the goroutine starting
	// the others (and arming the timer) waited its turn behind them, so a
	// large -qd ran for many times the duration.
	begin := make(chan struct{})
	for _, w := range workers {
		wg.Go(func() {
			<-begin
			w.loop(f, &stop)
		})
	}
	p := s.startProgress(count)
	cpu0 := cpuTime()
	start := time.Now()
	timer := time.AfterFunc(s.dur, func() { stop.Store(true) })
	unhook := context.AfterFunc(s.ctx, func() { stop.Store(true) })
	close(begin)
	wg.Wait()
	unhook()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	timer.Stop()
	p.stop()

	hist := new(histogram)
	for _, w := range workers {
		if w.err != nil {
			return result{}, w.err
		}
		hist.merge(&w.hist)
	}
	return s.result(via(), count(), elapsed, cpu, hist), nil
}

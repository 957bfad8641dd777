package main

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// fileWorker is one of the -qd goroutines of the file backend: the same
// loop as goWorker, on one aio.File that all workers share.
type fileWorker struct {
	ops  atomic.Int64
	_    [56]byte // keep the counters of neighbouring workers apart
	hist histogram
	gen  *generator
	buf  []byte
	err  error
}

func (w *fileWorker) loop(f *aio.File, stop *atomic.Bool) {
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
			w.err = err
			stop.Store(true)
			return
		}
		w.ops.Add(1)
	}
}

// runFile runs the workload on -qd goroutines sharing one aio.File, opened
// on the run's data file with the run's flags (a descriptor of its own, so
// that closing it leaves s.f open); each finishes the call it is making
// when time is up.
func runFile(s *runSpec) (result, error) {
	flag := os.O_RDONLY
	if s.w.mode.writes() {
		flag = os.O_RDWR
	}
	if s.direct {
		flag |= aio.O_DIRECT
	}
	f, err := aio.OpenFile(s.f.Name(), flag, 0)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	workers := make([]*fileWorker, s.qd)
	for i := range workers {
		workers[i] = &fileWorker{gen: s.w.generator(uint64(i)), buf: s.buffer(i)}
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
	p := s.startProgress(count)
	cpu0 := cpuTime()
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() { w.loop(f, &stop) })
	}
	timer := time.AfterFunc(s.dur, func() { stop.Store(true) })
	wg.Wait()
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
	return s.result(f.Kernel(), count(), elapsed, cpu, hist), nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// runSpec is what every runner needs for one run.
type runSpec struct {
	ctx     context.Context // done: stop early (the run is then not reported)
	backend string
	f       *os.File
	w       *workload
	qd      int
	direct  bool
	dur     time.Duration

	progress io.Writer // where the progress line goes; nil for none
}

// buffer returns request buffer i: bs bytes of random data (what writes
// write), aligned for O_DIRECT when the run is direct.
func (s *runSpec) buffer(i int) []byte {
	var b []byte
	if s.direct {
		b = aio.AlignedBuffer(int(s.w.bs))
	} else {
		b = make([]byte, s.w.bs)
	}
	rand.NewChaCha8(bufferSeed(s.w.seed, i)).Read(b)
	return b
}

func bufferSeed(seed uint64, i int) (k [32]byte) {
	for j := range 8 {
		k[j] = byte(seed >> (8 * j))
		k[8+j] = byte(uint64(i) >> (8 * j))
	}
	return k
}

func (s *runSpec) startProgress(count func() int64) *progress {
	if s.progress == nil {
		return nil
	}
	return startProgress(s.progress, s.backend+" "+s.w.mode.String(), s.dur, count)
}

// result turns what a runner measured into the reported numbers.
func (s *runSpec) result(via string, ops int64, elapsed, cpu time.Duration, h *histogram) result {
	return result{
		backend: s.backend,
		via:     via,
		rw:      s.w.mode,
		bs:      s.w.bs,
		qd:      s.qd,
		direct:  s.direct,
		ops:     ops,
		elapsed: elapsed,
		cpu:     cpu,
		p50:     h.quantile(0.50),
		p99:     h.quantile(0.99),
		p999:    h.quantile(0.999),
	}
}

// transferError names the transfer of n bytes at off that failed with err
// (io.EOF for a read of a file shorter than the run's region).
func transferError(write bool, n int, off int64, err error) error {
	op := "read"
	if write {
		op = "write"
	}
	return fmt.Errorf("%s of %d bytes at offset %d: %w", op, n, off, err)
}

package main

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// rwMode is the -rw workload.
type rwMode int

const (
	randRead rwMode = iota
	randWrite
	seqRead
	seqWrite
	randRW
)

var rwNames = [...]string{"randread", "randwrite", "read", "write", "randrw"}

func (m rwMode) String() string { return rwNames[m] }

func parseRW(s string) (rwMode, error) {
	for i, n := range rwNames {
		if s == n {
			return rwMode(i), nil
		}
	}
	return 0, fmt.Errorf("-rw %q: want randread, randwrite, read, write or randrw", s)
}

// writes reports whether the workload writes at all (the file must then be
// opened for writing).
func (m rwMode) writes() bool { return m == randWrite || m == seqWrite || m == randRW }

// workload is the region a run covers: blocks of bs bytes from offset 0.
type workload struct {
	mode   rwMode
	bs     int64
	blocks int64 // the region is blocks*bs bytes
	seed   uint64
	seq    atomic.Int64 // next block of a sequential workload, shared by its generators
}

func newWorkload(mode rwMode, bs, size int64, seed uint64) *workload {
	return &workload{mode: mode, bs: bs, blocks: size / bs, seed: seed}
}

// generator hands out the offsets of one submitter. Random workloads give
// each generator its own stream (stream i of the seed); sequential ones
// share the workload's cursor, so any number of generators sweep the
// region once in order between wraps. next never allocates.
type generator struct {
	w   *workload
	rng *rand.Rand
}

func (w *workload) generator(stream uint64) *generator {
	return &generator{w: w, rng: rand.New(rand.NewPCG(w.seed, stream))}
}

// next returns the offset of the next request and whether it writes.
func (g *generator) next() (off int64, write bool) {
	w := g.w
	switch w.mode {
	case seqRead, seqWrite:
		block := (w.seq.Add(1) - 1) % w.blocks
		return block * w.bs, w.mode == seqWrite
	case randRW:
		write = g.rng.Uint64()&1 == 1
		return g.rng.Int64N(w.blocks) * w.bs, write
	default:
		return g.rng.Int64N(w.blocks) * w.bs, w.mode == randWrite
	}
}

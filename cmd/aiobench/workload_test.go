package main

import (
	"testing"
)

// TestGeneratorOffsets checks every workload: offsets are multiples of bs,
// whole requests lie inside the region, and writes are what the mode says.
func TestGeneratorOffsets(t *testing.T) {
	const bs, size = 4096, 1<<20 + 100 // the tail past the last whole block is never touched
	for _, mode := range []rwMode{randRead, randWrite, seqRead, seqWrite, randRW} {
		w := newWorkload(mode, bs, size, 42)
		g := w.generator(0)
		writes := 0
		const n = 20000
		for range n {
			off, write := g.next()
			if off%bs != 0 {
				t.Fatalf("%v: offset %d is not a multiple of %d", mode, off, bs)
			}
			if off < 0 || off+bs > size {
				t.Fatalf("%v: request [%d, %d) is outside the region of %d bytes", mode, off, off+bs, size)
			}
			if write {
				writes++
			}
		}
		switch mode {
		case randRead, seqRead:
			if writes != 0 {
				t.Errorf("%v: %d writes", mode, writes)
			}
		case randWrite, seqWrite:
			if writes != n {
				t.Errorf("%v: %d of %d requests write", mode, writes, n)
			}
		case randRW:
			if writes < n*45/100 || writes > n*55/100 {
				t.Errorf("%v: %d of %d requests write, want about half", mode, writes, n)
			}
		}
	}
}

// TestSequentialWraps checks that a sequential workload sweeps the region
// in order and starts again at 0, and that several generators share one
// cursor (the goroutine runner's workers together sweep once).
func TestSequentialWraps(t *testing.T) {
	const bs, blocks = 512, 5
	w := newWorkload(seqRead, bs, blocks*bs, 1)
	g1, g2 := w.generator(0), w.generator(1)
	for i := range 3 * blocks {
		g := g1
		if i%3 == 2 {
			g = g2
		}
		if off, _ := g.next(); off != int64(i%blocks)*bs {
			t.Fatalf("request %d at %d, want %d", i, off, int64(i%blocks)*bs)
		}
	}
}

// TestRandomCoversAndRepeats checks that random offsets reach the whole
// region, and that a seed and stream give the same offsets again while
// other streams differ.
func TestRandomCoversAndRepeats(t *testing.T) {
	const bs, blocks = 4096, 64
	w := newWorkload(randRead, bs, blocks*bs, 7)
	seen := map[int64]bool{}
	a, b, other := w.generator(3), w.generator(3), w.generator(4)
	same := 0
	for range 5000 {
		x, _ := a.next()
		y, _ := b.next()
		z, _ := other.next()
		if x != y {
			t.Fatal("two generators of one seed and stream differ")
		}
		if x == z {
			same++
		}
		seen[x] = true
	}
	if len(seen) != blocks {
		t.Errorf("random offsets reached %d of %d blocks", len(seen), blocks)
	}
	if same > 5000/blocks*3 {
		t.Errorf("streams 3 and 4 agree on %d of 5000 offsets", same)
	}
}

func TestGeneratorAllocs(t *testing.T) {
	for _, mode := range []rwMode{randRead, seqWrite, randRW} {
		g := newWorkload(mode, 4096, 1<<30, 1).generator(0)
		if n := testing.AllocsPerRun(1000, func() { g.next() }); n != 0 {
			t.Errorf("%v: next allocates %.0f times", mode, n)
		}
	}
}

func TestParseRW(t *testing.T) {
	for i, name := range rwNames {
		if m, err := parseRW(name); err != nil || m != rwMode(i) || m.String() != name {
			t.Errorf("parseRW(%q) = %v, %v", name, m, err)
		}
	}
	if _, err := parseRW("randwrites"); err == nil {
		t.Error("parseRW accepted randwrites")
	}
}

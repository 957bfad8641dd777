package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBucketRanges checks that every value lands in a bucket whose range
// holds it and is at most 1/64 of its values wide, over the whole int64
// range of durations.
func TestBucketRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v uint64) {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("bucketOf(%d) = %d, whose range is [%d, %d]", v, i, lo, hi)
		}
		if float64(hi-lo) > float64(lo)/64 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/64 of its values", i, lo, hi)
		}
	}
	for v := range uint64(1 << 12) {
		check(v)
	}
	for range 100000 {
		check(rng.Uint64N(math.MaxInt64) >> rng.UintN(63))
	}
	check(math.MaxInt64)
	check(math.MaxUint64)
	// Buckets are contiguous: each starts right after the previous one.
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		if lo, _ := bucketRange(i); lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
}

// TestQuantilesAgainstSorted compares the histogram's percentiles with the
// exact ones of the sorted data, on random latencies of several shapes.
func TestQuantilesAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := map[string]func() time.Duration{
		"uniform 0-100µs": func() time.Duration { return time.Duration(rng.Int64N(100_000)) },
		"small exact":     func() time.Duration { return time.Duration(rng.Int64N(120)) },
		"lognormal":       func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*1.5 + 10)) },
		"bimodal with a tail": func() time.Duration {
			switch p := rng.Float64(); {
			case p < 0.7:
				return time.Duration(2000 + rng.Int64N(500))
			case p < 0.995:
				return time.Duration(50_000 + rng.Int64N(20_000))
			default:
				return time.Duration(5_000_000 + rng.Int64N(50_000_000))
			}
		},
	}
	for name, gen := range shapes {
		for _, n := range []int{1, 7, 1000, 200_000} {
			h := new(histogram)
			vals := make([]time.Duration, n)
			for i := range vals {
				vals[i] = gen()
				h.record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(math.Ceil(q * float64(n)))
				want := vals[max(rank, 1)-1]
				got := h.quantile(q)
				if diff := math.Abs(float64(got - want)); diff > float64(want)*0.01 && diff > 0.5 {
					t.Errorf("%s, n=%d: q%.3f = %v, sorted reference %v (off by %.2f%%)",
						name, n, q, got, want, 100*diff/float64(want))
				}
			}
		}
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var a, b, all histogram
	if got := a.quantile(0.5); got != 0 {
		t.Errorf("empty histogram: p50 = %v, want 0", got)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 10000 {
		d := time.Duration(rng.Int64N(1_000_000))
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
		all.record(d)
	}
	a.merge(&b)
	if a != all {
		t.Fatal("merging two halves differs from recording everything in one histogram")
	}
	a.record(-time.Second) // a clock that went backwards counts as 0
	if a.counts[0] != all.counts[0]+1 {
		t.Error("a negative duration was not counted as 0")
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	h := new(histogram)
	if n := testing.AllocsPerRun(100, func() { h.record(123456) }); n != 0 {
		t.Errorf("record allocates %.0f times", n)
	}
}

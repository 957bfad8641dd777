package main

import (
	"math/bits"
	"time"
)

// histogram is a fixed, log-linear latency histogram in the manner of
// HdrHistogram, in nanoseconds: values below 2^subBits are counted exactly,
// larger ones in 2^(subBits-1) buckets per octave, so a bucket is narrower
// than 1/64 of its values (subBits 7) and its midpoint is within 0.8% of
// any value in it. It is one array, allocated with the histogram: recording
// never allocates.
type histogram struct {
	total  uint64
	counts [numBuckets]uint64
}

const (
	subBits    = 7
	subCount   = 1 << subBits // exact values 0..subCount-1
	halfCount  = subCount / 2 // buckets per octave above subCount
	maxShift   = 64 - subBits // shift of the largest uint64 values
	numBuckets = subCount + maxShift*halfCount
)

// bucketOf returns the bucket counting v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // >= 1; v>>shift is in [halfCount, subCount)
	return subCount + (shift-1)*halfCount + int(v>>shift) - halfCount
}

// bucketRange returns the smallest and largest value counted by bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := uint((i-subCount)/halfCount + 1)
	lo = uint64((i-subCount)%halfCount+halfCount) << shift
	return lo, lo + (1<<shift - 1)
}

// record counts one latency; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)))]++
	h.total++
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the latency below or at which a fraction q (0 < q <= 1)
// of the recorded values lie: the midpoint of the bucket holding the value
// of rank ceil(q*total). It is 0 for an empty histogram.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	if float64(rank) < q*float64(h.total) {
		rank++
	}
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			return time.Duration(lo + (hi-lo)/2)
		}
	}
	return 0 // unreachable: the counts add up to total
}

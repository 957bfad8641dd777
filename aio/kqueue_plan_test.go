package aio

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanKqueueCalls(t *testing.T) {
	// ops: r read, w write, v readv, V writev, f flush, d datasync.
	// want: L list, S single vectored, F fsync; each followed by its indices.
	cases := []struct {
		name     string
		ops      string
		from     int
		vecLists bool
		maxList  int
		want     string
	}{
		{"empty", "", 0, true, 8, ""},
		{"reads and writes in one list", "rwrw", 0, true, 8, "L0-4"},
		{"vectored in lists on 14+", "rvwV", 0, true, 8, "L0-4"},
		{"vectored alone on 13.x", "rvwV", 0, false, 8, "L0-1 S1 L2-3 S3"},
		{"13.x, only vectored", "vVv", 0, false, 8, "S0 S1 S2"},
		{"flush follows the requests before it", "rwfr", 0, true, 8, "L0-2 F2 L3-4"},
		{"13.x, flush after a vectored write", "Vdw", 0, false, 8, "S0 F1 L2-3"},
		{"flushes only", "fd", 0, false, 8, "F0 F1"},
		{"lists cut at maxList", "rrrrrrr", 0, true, 3, "L0-3 L3-6 L6-7"},
		{"cut, 13.x and a flush", "rrrvrrfrr", 0, false, 2, "L0-2 L2-3 S3 L4-6 F6 L7-9"},
		{"maxList below 1 counts as 1", "rr", 0, true, 0, "L0-1 L1-2"},
		{"replan from the middle", "rrrrrr", 2, true, 2, "L2-4 L4-6"},
		{"replan from a vectored request", "rrvr", 2, false, 8, "S2 L3-4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			batch := make([]*Request, len(c.ops))
			for i, ch := range c.ops {
				batch[i] = &Request{op: map[rune]opcode{'r': opRead, 'w': opWrite, 'v': opReadv, 'V': opWritev, 'f': opFlush, 'd': opDataSync}[ch]}
			}
			calls := make([]kqCall, 0, len(batch))
			calls = planKqueueCalls(calls, batch, c.from, c.vecLists, c.maxList)
			var got []string
			for _, k := range calls {
				switch k.kind {
				case kqCallList:
					got = append(got, "L"+strconv.Itoa(k.start)+"-"+strconv.Itoa(k.end))
				case kqCallVectored:
					got = append(got, "S"+strconv.Itoa(k.start))
				case kqCallSync:
					got = append(got, "F"+strconv.Itoa(k.start))
				}
				if k.kind != kqCallList && k.end != k.start+1 {
					t.Errorf("single call %+v covers more than one request", k)
				}
			}
			if diff := cmp.Diff(c.want, strings.Join(got, " ")); diff != "" {
				t.Fatalf("plan of %q from %d (-want +got):\n%s", c.ops, c.from, diff)
			}
		})
	}
}

// Every request is in exactly one call, in batch order, and no list is
// longer than maxList, whatever the mix.
func TestPlanKqueueCallsCoverBatch(t *testing.T) {
	ops := []opcode{opRead, opWrite, opReadv, opWritev, opFlush, opDataSync}
	for seed := range 2000 {
		n := seed % 23
		batch := make([]*Request, n)
		x := uint32(seed)*2654435761 + 1
		for i := range batch {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			batch[i] = &Request{op: ops[x%uint32(len(ops))]}
		}
		maxList := seed%5 + 1
		vec := seed%2 == 0
		calls := planKqueueCalls(make([]kqCall, 0, n), batch, 0, vec, maxList)
		next := 0
		for _, k := range calls {
			if k.start != next || k.end <= k.start || k.end-k.start > maxList {
				t.Fatalf("seed %d: call %+v after index %d (maxList %d)", seed, k, next, maxList)
			}
			for _, r := range batch[k.start:k.end] {
				isSync := r.op == opFlush || r.op == opDataSync
				isVec := r.op == opReadv || r.op == opWritev
				switch {
				case isSync && k.kind != kqCallSync, !vec && isVec && k.kind != kqCallVectored:
					t.Fatalf("seed %d: %v in a %v call", seed, r.op, k.kind)
				case k.kind == kqCallList && (isSync || !vec && isVec):
					t.Fatalf("seed %d: %v in a list", seed, r.op)
				}
			}
			next = k.end
		}
		if next != n {
			t.Fatalf("seed %d: calls cover %d of %d requests", seed, next, n)
		}
	}
}

func TestKqueueRelease(t *testing.T) {
	for _, c := range []struct {
		osreldate   int
		vec, kqueue bool
	}{
		{0, false, false}, {1300000, false, false}, {1302000, false, false}, {1305000, false, false},
		{1399999, false, false}, {1400000, true, false}, {1403000, true, false}, {1499999, true, false},
		{1500000, true, true}, {1500030, true, true},
	} {
		vec, kqx := kqueueRelease(c.osreldate)
		if vec != c.vec || kqx != c.kqueue {
			t.Errorf("kqueueRelease(%d) = %v, %v; want %v, %v", c.osreldate, vec, kqx, c.vec, c.kqueue)
		}
	}
}

//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"testing"
	"unsafe"

	"github.com/fileaio/fileaio/sys"
)

// testRing is an aioRing header with its events behind it, as the kernel
// maps them.
type testRing struct {
	hdr aioRing
	evs [8]sys.IoEvent
}

func TestRingDoneSince(t *testing.T) {
	var cbs [3]sys.Iocb
	obj := func(i int) uint64 { return uint64(uintptr(unsafe.Pointer(&cbs[i]))) }
	var ring testRing
	ring.hdr.nr = uint32(len(ring.evs))
	// Events of cbs[0] at 6, cbs[1] at 7 and cbs[2] at 1, with 0 between:
	// the ring wrapped after 7.
	ring.evs[6].Obj, ring.evs[7].Obj, ring.evs[0].Obj, ring.evs[1].Obj = obj(0), obj(1), 0, obj(2)
	for _, tc := range []struct {
		name      string
		from, end uint32
		cb        int
		want      bool
	}{
		{"newest", 6, 2, 2, true},
		{"oldest", 6, 2, 0, true},
		{"before the wrap", 6, 2, 1, true},
		{"added before from", 7, 2, 0, false},
		{"not added yet", 6, 1, 2, false},
		{"nothing added", 2, 2, 2, false},
		{"from out of range", 9, 2, 2, false},
		{"end out of range", 6, 8, 0, false},
	} {
		ring.hdr.tail = tc.end
		if got := ring.hdr.doneSince(tc.from, &cbs[tc.cb]); got != tc.want {
			t.Errorf("%s: doneSince(%d, cb %d) with tail %d = %v, want %v", tc.name, tc.from, tc.cb, tc.end, got, tc.want)
		}
	}
}

package pin

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestSetCountsAndReleases(t *testing.T) {
	base := Live()
	var s Set
	b := make([]byte, 64)
	x := new([160]byte)
	s.Bytes(b)
	s.Bytes(nil)
	s.Bytes(b[:0])
	s.Pin(unsafe.Pointer(x), unsafe.Sizeof(*x))
	if got := s.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2 (empty buffers need no pin)", got)
	}
	if got := Live() - base; got != 2 {
		t.Fatalf("Live grew by %d, want 2", got)
	}
	if !Covers(uintptr(unsafe.Pointer(&b[10])), 8) {
		t.Fatal("Covers does not see a pinned buffer")
	}
	s.Unpin()
	s.Unpin()
	if got := Live() - base; got != 0 {
		t.Fatalf("Live after Unpin = %d, want 0", got)
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(x)
}

func TestSetReuse(t *testing.T) {
	base := Live()
	var s Set
	b := make([]byte, 8)
	for range 100 {
		s.Bytes(b)
		s.Unpin()
	}
	if Live() != base {
		t.Fatalf("Live = %d, want %d", Live(), base)
	}
}

package aio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAlignedBufferTooLarge: a size for which no buffer can be made (n plus
// the alignment slack overflows int, or make refuses it) panics with a
// message naming AlignedBuffer and n, and never returns a buffer, let alone
// one shorter than n.
func TestAlignedBufferTooLarge(t *testing.T) {
	sizes := []int{math.MaxInt, math.MaxInt - 1, math.MaxInt - pageSize + 1}
	if strconv.IntSize == 64 {
		// No overflow, but beyond any allocation; where int has 32 bits
		// make may well give 2 GiB.
		sizes = append(sizes, math.MaxInt-alignment(), math.MaxInt/2+1)
	}
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var b []byte
			msg := func() (msg string) {
				defer func() {
					if r := recover(); r != nil {
						msg = fmt.Sprint(r)
					}
				}()
				b = AlignedBuffer(n)
				return ""
			}()
			if msg == "" {
				t.Fatalf("AlignedBuffer(%d) returned a buffer of len %d, want a panic", n, len(b))
			}
			if !strings.Contains(msg, "AlignedBuffer") || !strings.Contains(msg, strconv.Itoa(n)) {
				t.Errorf("AlignedBuffer(%d) panicked with %q, want a message naming AlignedBuffer and %d", n, msg, n)
			}
		})
	}
}

// TestAlignedBufferSizes: around the alignment and the page size, the
// buffer is n bytes long, with no room beyond them, and aligned.
func TestAlignedBufferSizes(t *testing.T) {
	a := alignment()
	for _, n := range []int{1, a - 1, a, a + 1, pageSize - 1, pageSize, pageSize + 1, 3*pageSize + 7} {
		if n <= 0 {
			continue
		}
		b := AlignedBuffer(n)
		if len(b) != n || cap(b) != n {
			t.Errorf("AlignedBuffer(%d): len %d cap %d, want %d", n, len(b), cap(b), n)
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%uintptr(a) != 0 {
			t.Errorf("AlignedBuffer(%d) starts at %#x, not aligned to %d", n, p, a)
		}
	}
}

package aio

import (
	"errors"
	"math"
	"os"
	"syscall"
	"testing"
)

// TestH9VectoredLengthOverflow: buffers whose lengths add up past the
// largest int (one buffer listed many times) fail ReadvAt and WritevAt
// with an *os.PathError matching os.ErrInvalid and syscall.EINVAL, as
// readv(2) fails a total past SSIZE_MAX, and move nothing: the count is
// not taken as 0 ("nothing to do", success) or as a negative length.
// Such buffers fit in memory only where int has 32 bits: run it with
// GOARCH=386 (or arm); with a 64-bit int it has nothing to test.
func TestH9VectoredLengthOverflow(t *testing.T) {
	if math.MaxInt > math.MaxInt32 {
		t.Skip("a 64-bit int cannot be overflowed by buffers that fit in memory; run with GOARCH=386")
	}
	const piece = 64 << 20
	buf := AlignedBuffer(piece)
	for i := range buf {
		buf[i] = 'X'
	}
	forEachSetup(t, fileBlock, func(t *testing.T, s fileSetup, f *File) {
		for _, count := range []int{64, 33} { // 2^32 bytes, which wraps to 0; 2^31+64 MiB, negative
			bufs := make([][]byte, count)
			for i := range bufs {
				bufs[i] = buf
			}
			for name, call := range map[string]func() (int, error){
				"WritevAt": func() (int, error) { return f.WritevAt(bufs, 0) },
				"ReadvAt":  func() (int, error) { return f.ReadvAt(bufs, 0) },
			} {
				n, err := call()
				var pe *os.PathError
				if n != 0 || !errors.As(err, &pe) || !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
					t.Errorf("%s of %d buffers of %d bytes (%d in all) = %d, %v; want 0, an *os.PathError matching os.ErrInvalid and syscall.EINVAL",
						name, count, piece, int64(count)*piece, n, err)
				}
			}
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != fileBlock {
			t.Errorf("after the refused calls the file holds %v bytes (%v), want %d", fi.Size(), err, fileBlock)
		}
	})
}

// TestVectoredRequestLengthOverflow: PrepareReadv and PrepareWritev refuse
// buffers whose lengths add up past the largest int with an error matching
// syscall.EINVAL, and leave the request as it was (Idle here): a total
// taken as negative had the goroutine engine write 2 GiB while the request
// reported 0 bytes. As TestH9VectoredLengthOverflow, it needs a 32-bit int.
func TestVectoredRequestLengthOverflow(t *testing.T) {
	if math.MaxInt > math.MaxInt32 {
		t.Skip("a 64-bit int cannot be overflowed by buffers that fit in memory; run with GOARCH=386")
	}
	buf := make([]byte, 64<<20)
	f, err := os.CreateTemp(t.TempDir(), "veclen")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, count := range []int{64, 33} {
		bufs := make([][]byte, count)
		for i := range bufs {
			bufs[i] = buf
		}
		var r Request
		for name, prep := range map[string]func() error{
			"PrepareReadv":  func() error { return r.PrepareReadv(f, 0, bufs, nil) },
			"PrepareWritev": func() error { return r.PrepareWritev(f, 0, bufs, nil) },
		} {
			if err := prep(); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%s of %d buffers of 64 MiB = %v; want an error matching syscall.EINVAL", name, count, err)
			}
			if st := r.State(); st != Idle {
				t.Errorf("after the refused %s the request is %v, want Idle", name, st)
			}
		}
	}
}

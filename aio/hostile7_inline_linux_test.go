//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestH7InlineReadEdges: reads of a buffered file, which the waiter or a
// worker first tries with preadv2(RWF_NOWAIT) (a raw call up to
// rawReadMax bytes), give what pread gives, byte for byte and errno for
// errno: at and around rawReadMax, short at the end of the file, at and
// past it, at offsets whose end overflows, from the page cache and not.
func TestH7InlineReadEdges(t *testing.T) {
	const size = 3*rawReadMax + 100
	path := filepath.Join(h5Dir(t), "edges")
	want := make([]byte, size)
	for i := range want {
		want[i] = h3Byte(int64(i))
	}
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type read struct {
		off int64
		n   int
	}
	var reads []read
	for _, n := range []int{1, rawReadMax - 1, rawReadMax, rawReadMax + 1, 2 * rawReadMax} {
		reads = append(reads, read{0, n}, read{1, n}, read{size - int64(n) + 1, n}, read{size - 1, n}, read{size, n}, read{size + 1, n})
	}
	reads = append(reads, read{math.MaxInt64 - 10, 4096}, read{math.MaxInt64, 1}, read{1 << 62, rawReadMax}, read{math.MaxInt64 - rawReadMax, rawReadMax + 1})
	for _, be := range []Backend{PortableBackend, DefaultBackend} {
		for _, cached := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/cached=%v", be, cached), func(t *testing.T) {
				c := h3Context(t, Config{MaxRequests: len(reads)}, be)
				if !cached {
					if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
						t.Fatal(err)
					}
				}
				reqs := h5Requests(len(reads))
				bufs := make([][]byte, len(reads))
				for i, rd := range reads {
					bufs[i] = make([]byte, rd.n)
					for j := range bufs[i] {
						bufs[i][j] = h5Sentinel
					}
					if err := reqs[i].PrepareRead(f, rd.off, bufs[i], i); err != nil {
						t.Fatal(err)
					}
				}
				h5Submit(t, c, reqs...)
				for _, r := range h5Gather(t, c, len(reads)) {
					i := r.User().(int)
					rd := reads[i]
					n, err := r.Result()
					ref := make([]byte, rd.n)
					rn, rerr := unix.Pread(int(f.Fd()), ref, rd.off)
					rn = max(rn, 0)
					var got syscall.Errno
					if err != nil && !errors.As(err, &got) {
						t.Fatalf("read of %d at %d: %v, without an errno", rd.n, rd.off, err)
					}
					if n != rn || (rerr == nil) != (err == nil) || rerr != nil && got != rerr {
						t.Fatalf("read of %d at %d = %d, %v; pread = %d, %v", rd.n, rd.off, n, err, rn, rerr)
					}
					if !bytes.Equal(bufs[i][:n], ref[:rn]) {
						t.Fatalf("read of %d at %d: the %d bytes differ from pread's", rd.n, rd.off, n)
					}
					if i := h5Written(bufs[i][n:]); i >= 0 {
						t.Fatalf("read of %d at %d = %d bytes, but byte %d past them was written", rd.n, rd.off, n, n+i)
					}
				}
			})
		}
	}
}

// TestH7InlineReadsFileTruncatedWhileQueued: buffered reads are submitted,
// then the file is cut short before Wait runs (or the workers reach) them:
// each read gives the file's bytes up to its end at the time it ran (before
// the cut, after it, or in between for one that ran across it), and writes
// nothing past its count.
func TestH7InlineReadsFileTruncatedWhileQueued(t *testing.T) {
	const size, cut, reads = 4 * rawReadMax, rawReadMax + 7, 32
	path := filepath.Join(h5Dir(t), "cut")
	want := make([]byte, size)
	for i := range want {
		want[i] = h3Byte(int64(i))
	}
	for _, be := range []Backend{PortableBackend, DefaultBackend} {
		t.Run(be.String(), func(t *testing.T) {
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			c := h3Context(t, Config{MaxRequests: reads, Workers: 1}, be)
			reqs := h5Requests(reads)
			bufs := make([][]byte, reads)
			for i, r := range reqs {
				bufs[i] = make([]byte, rawReadMax+1)
				for j := range bufs[i] {
					bufs[i][j] = h5Sentinel
				}
				if err := r.PrepareRead(f, int64(i*(size/reads)), bufs[i], i); err != nil {
					t.Fatal(err)
				}
			}
			h5Submit(t, c, reqs...)
			if err := f.Truncate(cut); err != nil {
				t.Fatal(err)
			}
			for _, r := range h5Gather(t, c, reads) {
				i := r.User().(int)
				off := i * (size / reads)
				n, err := r.Result()
				if err != nil {
					t.Fatalf("read at %d: %v", off, err)
				}
				before, after := min(rawReadMax+1, size-off), max(min(rawReadMax+1, cut-off), 0)
				if n < after || n > before {
					t.Fatalf("read of %d at %d across a cut to %d = %d bytes; want from %d (after the cut) to %d (before it)", rawReadMax+1, off, cut, n, after, before)
				}
				if !bytes.Equal(bufs[i][:n], want[off:off+n]) {
					t.Fatalf("read at %d: its %d bytes differ from the file's", off, n)
				}
				if j := h5Written(bufs[i][n:]); j >= 0 {
					t.Fatalf("read at %d = %d bytes, but byte %d past them was written", off, n, n+j)
				}
			}
		})
	}
}

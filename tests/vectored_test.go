package tests

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// swappedHalves splits buf like FreeBSD's aio_writev_test and
// aio_readv_test: two pieces of dissimilar size (3/4 and 1/4) with their
// positions swapped, so that the file holds buf[len1:] then buf[:len1].
func swappedHalves(buf []byte) [][]byte {
	len1 := len(buf) / 4
	return [][]byte{buf[len1:], buf[:len1]}
}

// TestVectoredSwappedHalves writes a buffer as two swapped pieces with
// Writev, checks the file, then reads it back with Readv through the same
// layout into a zeroed buffer, which must equal the original.
func TestVectoredSwappedHalves(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		rng := newRand(t)
		for _, size := range []int{4, 1001, 16384, 65536 + 3, 1 << 20} {
			f := tempFile(t)
			want := randBytes(rng, size)
			buf := append([]byte(nil), want...)
			r := aio.NewRequest()
			mustPrepare(t, r.PrepareWritev(f, 0, swappedHalves(buf), size))
			run(t, c, r)
			expectResult(t, r, size)
			len1 := size / 4
			compare(t, user("file after writev of %d", size), readFile(t, f.Name()), append(append([]byte(nil), want[len1:]...), want[:len1]...))

			clear(buf)
			mustPrepare(t, r.PrepareReadv(f, 0, swappedHalves(buf), size))
			run(t, c, r)
			expectResult(t, r, size)
			compare(t, user("buffer after readv of %d", size), buf, want)
		}
	})
}

// TestVectoredManyBuffers gathers IOV_MAX (1024) buffers of random sizes,
// some empty, into one write at a random offset, and scatters them back.
func TestVectoredManyBuffers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		rng := newRand(t)
		for _, count := range []int{3, 64, 1000, 1024} {
			off := int64(rng.IntN(1 << 16))
			bufs := make([][]byte, count)
			var want []byte
			for i := range bufs {
				n := rng.IntN(700)
				if rng.IntN(10) == 0 {
					n = 0
				}
				bufs[i] = randBytes(rng, n)
				want = append(want, bufs[i]...)
			}
			w := aio.NewRequest()
			mustPrepare(t, w.PrepareWritev(f, off, bufs, nil))
			run(t, c, w)
			expectResult(t, w, len(want))
			if len(want) > 0 { // a write of nothing does not extend the file to off
				whole := readFile(t, f.Name())
				compare(t, user("file after writev of %d buffers", count), whole[off:off+int64(len(want))], want)
			}

			back := make([][]byte, count)
			for i := range back {
				back[i] = make([]byte, len(bufs[i]))
			}
			r := aio.NewRequest()
			mustPrepare(t, r.PrepareReadv(f, off, back, nil))
			run(t, c, r)
			expectResult(t, r, len(want))
			compare(t, user("readv of %d buffers", count), bytes.Join(back, nil), want)
		}
	})
}

// TestVectoredTooManyBuffers: more than IOV_MAX (1024) buffers can never
// work; Prepare refuses with EINVAL and leaves the request as it was (the
// Go form of FreeBSD's aio_writev_dos_iovcnt).
func TestVectoredTooManyBuffers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		bufs := make([][]byte, 1025)
		for i := range bufs {
			bufs[i] = []byte{byte(i)}
		}
		r := aio.NewRequest()
		if err := r.PrepareWritev(f, 0, bufs, nil); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("PrepareWritev with 1025 buffers: %v, want EINVAL", err)
		}
		if s := r.State(); s != aio.Idle {
			t.Fatalf("request is %v after a refused Prepare, want Idle", s)
		}
		mustPrepare(t, r.PrepareWrite(f, 0, []byte("ok"), "kept"))
		if err := r.PrepareReadv(f, 0, bufs, nil); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("PrepareReadv with 1025 buffers: %v, want EINVAL", err)
		}
		if s, u := r.State(), r.User(); s != aio.Prepared || u != "kept" {
			t.Fatalf("request is %v with user %v after a refused Prepare, want Prepared with user kept", s, u)
		}
		run(t, c, r)
		expectResult(t, r, 2)
		compare(t, "file", readFile(t, f.Name()), []byte("ok"))
	})
}

// TestVectoredEmptyFile: a writev with no buffers on an empty file is
// accepted and completes with 0 (FreeBSD's aio_writev_empty_file_poll).
func TestVectoredEmptyFile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareWritev(f, 0, nil, nil))
		run(t, c, r)
		expectResult(t, r, 0)
		mustPrepare(t, r.PrepareReadv(f, 0, [][]byte{make([]byte, 10)}, nil))
		run(t, c, r)
		expectResult(t, r, 0)
		if sz := fileSize(t, f); sz != 0 {
			t.Fatalf("file size %d, want 0", sz)
		}
	})
}

// TestVectoredUnaligned: pieces that are not multiples of a sector (4096,
// 256, 3840) adding up to 8 KiB, as in FreeBSD's vectored_unaligned, here
// on a regular file.
func TestVectoredUnaligned(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		want := randBytes(newRand(t), 8192)
		buf := append([]byte(nil), want...)
		split := func(p []byte) [][]byte { return [][]byte{p[:4096], p[4096 : 4096+256], p[4096+256:]} }
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareWritev(f, 0, split(buf), nil))
		run(t, c, r)
		expectResult(t, r, len(want))
		clear(buf)
		mustPrepare(t, r.PrepareReadv(f, 0, split(buf), nil))
		run(t, c, r)
		expectResult(t, r, len(want))
		compare(t, "readv", buf, want)
	})
}

// TestVectoredShortRead: a readv that reaches the end of the file fills
// the buffers in order up to the end and reports the bytes read, without
// error.
func TestVectoredShortRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		content := randBytes(newRand(t), 5000)
		if _, err := f.WriteAt(content, 0); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			off   int64
			sizes []int
			wantN int
		}{
			{0, []int{4096, 4096}, 5000},
			{4096, []int{1000, 1000}, 904},
			{4000, []int{1000, 10}, 1000},
			{4999, []int{0, 1, 1}, 1},
			{5000, []int{10, 10}, 0},
		}
		r := aio.NewRequest()
		for _, cs := range cases {
			bufs := make([][]byte, len(cs.sizes))
			for i, n := range cs.sizes {
				bufs[i] = make([]byte, n)
			}
			mustPrepare(t, r.PrepareReadv(f, cs.off, bufs, nil))
			run(t, c, r)
			n, err := r.Result()
			if err != nil || n != cs.wantN {
				t.Fatalf("readv %v at %d of a 5000-byte file: Result() = %d, %v; want %d, nil", cs.sizes, cs.off, n, err, cs.wantN)
			}
			got := bytes.Join(bufs, nil)
			compare(t, user("readv %v at %d", cs.sizes, cs.off), got[:n], content[cs.off:cs.off+int64(n)])
		}
	})
}

// TestVectoredMixedBatch puts readv, writev, read and write requests on
// distinct regions into one batch.
func TestVectoredMixedBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		rng := newRand(t)
		const regions, size = 64, 3000
		old := randBytes(rng, regions*size)
		if _, err := f.WriteAt(old, 0); err != nil {
			t.Fatal(err)
		}
		want := append([]byte(nil), old...)
		reqs := make([]*aio.Request, regions)
		reads := make([][]byte, regions)
		for i := range reqs {
			off := int64(i * size)
			reqs[i] = aio.NewRequest()
			var err error
			switch i % 4 {
			case 0:
				data := randBytes(rng, size)
				copy(want[off:], data)
				err = reqs[i].PrepareWrite(f, off, data, i)
			case 1:
				data := randBytes(rng, size)
				copy(want[off:], data)
				err = reqs[i].PrepareWritev(f, off, [][]byte{data[:7], data[7:1000], data[1000:]}, i)
			case 2:
				reads[i] = make([]byte, size)
				err = reqs[i].PrepareRead(f, off, reads[i], i)
			case 3:
				reads[i] = make([]byte, size)
				err = reqs[i].PrepareReadv(f, off, [][]byte{reads[i][:size/2], reads[i][size/2:]}, i)
			}
			mustPrepare(t, err)
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, size)
		}
		for i, got := range reads {
			if got != nil {
				compare(t, user("read of region %d", i), got, old[i*size:(i+1)*size])
			}
		}
		compare(t, "file", readFile(t, f.Name()), want)
	})
}

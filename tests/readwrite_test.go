package tests

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/fileaio/fileaio/aio"
)

// ioSizes are the transfer sizes every round trip covers.
var ioSizes = []int{0, 1, 2, 511, 512, 513, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20}

// region is one write and its read-back.
type region struct {
	off  int64
	data []byte
}

// randomRegions lays out one non-overlapping region per size, at random
// (and so mostly unaligned) offsets with random gaps between them.
func randomRegions(t *testing.T, sizes []int) []region {
	rng := newRand(t)
	regions := make([]region, len(sizes))
	off := int64(rng.IntN(8192))
	for _, i := range rng.Perm(len(sizes)) {
		regions[i] = region{off: off, data: randBytes(rng, sizes[i])}
		off += int64(sizes[i]) + int64(rng.IntN(70000))
	}
	return regions
}

// TestReadWriteRoundTrip writes regions of every size at random offsets in
// one batch, reads them back in another, and compares the bytes, both
// through the reads and through the file itself.
func TestReadWriteRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		regions := randomRegions(t, ioSizes)

		writes := make([]*aio.Request, len(regions))
		for i, rg := range regions {
			writes[i] = aio.NewRequest()
			mustPrepare(t, writes[i].PrepareWrite(f, rg.off, rg.data, i))
		}
		for _, r := range run(t, c, writes...) {
			expectResult(t, r, len(regions[r.User().(int)].data))
		}

		reads := make([]*aio.Request, len(regions))
		bufs := make([][]byte, len(regions))
		for i, rg := range regions {
			bufs[i] = make([]byte, len(rg.data))
			reads[i] = aio.NewRequest()
			mustPrepare(t, reads[i].PrepareRead(f, rg.off, bufs[i], i))
		}
		for _, r := range run(t, c, reads...) {
			i := r.User().(int)
			expectResult(t, r, len(regions[i].data))
			compare(t, user("read of %d bytes at %d", len(bufs[i]), regions[i].off), bufs[i], regions[i].data)
		}

		whole := readFile(t, f.Name())
		for _, rg := range regions {
			if len(rg.data) == 0 {
				continue // may lie past the end: a write of nothing does not extend the file
			}
			compare(t, user("file at %d", rg.off), whole[rg.off:rg.off+int64(len(rg.data))], rg.data)
		}
	})
}

// TestReadWriteOneAtATime does the same round trips one request at a time,
// reusing a single request (the allocation-free path), and checks the state
// and result at every step.
func TestReadWriteOneAtATime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 1})
		f := tempFile(t)
		r := aio.NewRequest()
		for _, rg := range randomRegions(t, ioSizes) {
			mustPrepare(t, r.PrepareWrite(f, rg.off, rg.data, "write"))
			run(t, c, r)
			expectResult(t, r, len(rg.data))
			got := make([]byte, len(rg.data))
			mustPrepare(t, r.PrepareRead(f, rg.off, got, "read"))
			if r.User() != "read" {
				t.Fatalf("User() = %v after PrepareRead with user \"read\"", r.User())
			}
			run(t, c, r)
			expectResult(t, r, len(rg.data))
			compare(t, user("read of %d bytes at %d", len(rg.data), rg.off), got, rg.data)
		}
	})
}

// TestReadWriteManyFiles runs writes to several files, and then reads from
// them, in the same batches of one context.
func TestReadWriteManyFiles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		rng := newRand(t)
		const files, perFile, size = 8, 16, 8192
		fs := make([]*os.File, files)
		want := make([][]byte, files)
		var reqs []*aio.Request
		for i := range fs {
			fs[i] = tempFile(t)
			want[i] = randBytes(rng, perFile*size)
			for j := range perFile {
				r := aio.NewRequest()
				mustPrepare(t, r.PrepareWrite(fs[i], int64(j*size), want[i][j*size:(j+1)*size], [2]int{i, j}))
				reqs = append(reqs, r)
			}
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, size)
		}
		got := make([][]byte, files)
		for k, r := range reqs {
			i, j := k/perFile, k%perFile
			if got[i] == nil {
				got[i] = make([]byte, perFile*size)
			}
			mustPrepare(t, r.PrepareRead(fs[i], int64(j*size), got[i][j*size:(j+1)*size], [2]int{i, j}))
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, size)
		}
		for i := range fs {
			compare(t, fs[i].Name(), got[i], want[i])
			compare(t, fs[i].Name()+" on disk", readFile(t, fs[i].Name()), want[i])
		}
	})
}

// TestReadPastEOF: a read that reaches the end of the file completes with
// the bytes it got and no error; one that starts at or after the end
// completes with 0 bytes and no error.
func TestReadPastEOF(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		rng := newRand(t)
		content := randBytes(rng, 1000)
		if _, err := f.WriteAt(content, 0); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			off   int64
			n     int
			wantN int
		}{
			{0, 4096, 1000},
			{1, 1000, 999},
			{999, 2, 1},
			{500, 1 << 20, 500},
			{1000, 10, 0},
			{1000, 0, 0},
			{1 << 30, 4096, 0},
		}
		reqs := make([]*aio.Request, len(cases))
		bufs := make([][]byte, len(cases))
		for i, cs := range cases {
			bufs[i] = make([]byte, cs.n)
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareRead(f, cs.off, bufs[i], i))
		}
		for _, r := range run(t, c, reqs...) {
			i := r.User().(int)
			cs := cases[i]
			n, err := r.Result()
			if err != nil || n != cs.wantN {
				t.Errorf("read of %d at %d from a 1000-byte file: Result() = %d, %v; want %d, nil", cs.n, cs.off, n, err, cs.wantN)
				continue
			}
			if cs.wantN > 0 {
				compare(t, user("read at %d", cs.off), bufs[i][:n], content[cs.off:cs.off+int64(n)])
			}
			for _, x := range bufs[i][n:] {
				if x != 0 {
					t.Errorf("read at %d wrote past the %d bytes it reported", cs.off, n)
					break
				}
			}
		}
	})
}

// TestZeroLengthIO: reads and writes of no bytes (nil and empty buffers,
// vectored with no buffers and with empty buffers) complete with 0 and no
// error, and a zero-length write past the end does not extend the file.
func TestZeroLengthIO(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		if _, err := f.WriteAt([]byte("0123456789"), 0); err != nil {
			t.Fatal(err)
		}
		type op struct {
			name    string
			prepare func(r *aio.Request) error
		}
		ops := []op{
			{"read nil", func(r *aio.Request) error { return r.PrepareRead(f, 3, nil, nil) }},
			{"read empty", func(r *aio.Request) error { return r.PrepareRead(f, 3, []byte{}, nil) }},
			{"read empty past EOF", func(r *aio.Request) error { return r.PrepareRead(f, 1<<20, []byte{}, nil) }},
			{"write nil", func(r *aio.Request) error { return r.PrepareWrite(f, 3, nil, nil) }},
			{"write empty past EOF", func(r *aio.Request) error { return r.PrepareWrite(f, 1<<20, []byte{}, nil) }},
			{"readv none", func(r *aio.Request) error { return r.PrepareReadv(f, 0, nil, nil) }},
			{"readv empties", func(r *aio.Request) error { return r.PrepareReadv(f, 0, [][]byte{{}, nil, {}}, nil) }},
			{"writev none past EOF", func(r *aio.Request) error { return r.PrepareWritev(f, 1<<20, nil, nil) }},
			{"writev empties", func(r *aio.Request) error { return r.PrepareWritev(f, 2, [][]byte{nil, {}}, nil) }},
		}
		reqs := make([]*aio.Request, len(ops))
		for i, o := range ops {
			reqs[i] = aio.NewRequest()
			if err := o.prepare(reqs[i]); err != nil {
				t.Fatalf("%s: prepare: %v", o.name, err)
			}
		}
		// Together in one batch, and each alone.
		run(t, c, reqs...)
		for i, r := range reqs {
			if n, err := r.Result(); n != 0 || err != nil {
				t.Errorf("%s in a batch: Result() = %d, %v; want 0, nil", ops[i].name, n, err)
			}
		}
		for i, o := range ops {
			r := aio.NewRequest()
			mustPrepare(t, o.prepare(r))
			run(t, c, r)
			if n, err := r.Result(); n != 0 || err != nil {
				t.Errorf("%s: Result() = %d, %v; want 0, nil", ops[i].name, n, err)
			}
		}
		if sz := fileSize(t, f); sz != 10 {
			t.Errorf("file size %d after zero-length I/O, want 10", sz)
		}
		compare(t, "file", readFile(t, f.Name()), []byte("0123456789"))
	})
}

// TestOverwrite: a later write over an earlier one (completed first) wins,
// and partial overlaps land where they should.
func TestOverwrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		rng := newRand(t)
		model := make([]byte, 256<<10)
		r := aio.NewRequest()
		for range 200 {
			off := rng.IntN(len(model) - 1)
			n := 1 + rng.IntN(min(len(model)-off, 20000))
			data := randBytes(rng, n)
			mustPrepare(t, r.PrepareWrite(f, int64(off), data, nil))
			run(t, c, r)
			expectResult(t, r, n)
			copy(model[off:], data)
		}
		got := readFile(t, f.Name())
		compare(t, "file", got, model[:len(got)])
	})
}

// directAlignment is the alignment O_DIRECT needs here.
func directAlignment(t *testing.T) int {
	t.Helper()
	if l, err := aio.SystemLimits(); err == nil && l.BufferAlignment > 0 {
		return l.BufferAlignment
	}
	return 4096
}

// openDirect opens a new file with O_DIRECT in the first scratch directory
// whose file system accepts it. It skips the test if every one refuses
// O_DIRECT with EINVAL (tmpfs, for instance).
func openDirect(t *testing.T) *os.File {
	t.Helper()
	if !haveODirect {
		t.Skip("no O_DIRECT on " + runtime.GOOS)
	}
	var errs []error
	for _, dir := range scratchDirs(t) {
		name := dir + "/direct.dat"
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|oDirect, 0o600)
		if err == nil {
			t.Cleanup(func() { f.Close() })
			return f
		}
		if !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("open with O_DIRECT: %v", err)
		}
		errs = append(errs, err)
	}
	t.Skipf("O_DIRECT is refused with EINVAL by every scratch file system tried: %v", errors.Join(errs...))
	return nil
}

// openDirectName opens an existing file again with O_DIRECT.
func openDirectName(t *testing.T, name string) *os.File {
	t.Helper()
	return openFile(t, name, os.O_RDWR|oDirect)
}

// TestODirect writes and reads back through O_DIRECT with buffers from
// aio.AlignedBuffer, in single and vectored requests, and checks that
// AlignedBuffer's buffers are aligned.
func TestODirect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		f := openDirect(t)
		align := directAlignment(t)
		c := newContext(t, b, aio.Config{})
		rng := newRand(t)
		const blocks, block = 64, 16 << 10
		if block%align != 0 {
			t.Fatalf("block %d is not a multiple of the alignment %d", block, align)
		}
		for _, n := range []int{1, align, block, 1 << 20, 3*align + 1} {
			buf := aio.AlignedBuffer(n)
			if len(buf) != n || cap(buf) != n {
				t.Fatalf("AlignedBuffer(%d): len %d cap %d", n, len(buf), cap(buf))
			}
			if p := uintptr(unsafe.Pointer(&buf[0])); p%uintptr(align) != 0 {
				t.Fatalf("AlignedBuffer(%d) starts at %#x, not aligned to %d", n, p, align)
			}
		}
		if n := len(aio.AlignedBuffer(0)); n != 0 {
			t.Fatalf("AlignedBuffer(0) has %d bytes", n)
		}

		want := make([]byte, blocks*block)
		fillRand(rng, want)
		reqs := make([]*aio.Request, blocks)
		for i := range reqs {
			buf := aio.AlignedBuffer(block)
			copy(buf, want[i*block:])
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*block), buf, i))
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, block)
		}

		got := make([][]byte, blocks)
		for i, r := range reqs {
			got[i] = aio.AlignedBuffer(block)
			mustPrepare(t, r.PrepareRead(f, int64(i*block), got[i], i))
		}
		for _, r := range run(t, c, reqs...) {
			i := r.User().(int)
			expectResult(t, r, block)
			compare(t, user("O_DIRECT read of block %d", i), got[i], want[i*block:(i+1)*block])
		}

		// Vectored: each block in two aligned pieces.
		half := block / 2
		for i, r := range reqs {
			lo, hi := aio.AlignedBuffer(half), aio.AlignedBuffer(half)
			mustPrepare(t, r.PrepareReadv(f, int64(i*block), [][]byte{lo, hi}, [2][]byte{lo, hi}))
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, block)
		}
		for i, r := range reqs {
			lohi := r.User().([2][]byte)
			compare(t, user("O_DIRECT readv of block %d, first half", i), lohi[0], want[i*block:i*block+half])
			compare(t, user("O_DIRECT readv of block %d, second half", i), lohi[1], want[i*block+half:(i+1)*block])
		}

		// A read that reaches the end of the file is short, without error.
		tail := aio.AlignedBuffer(4 * block)
		r := reqs[0]
		mustPrepare(t, r.PrepareRead(f, int64((blocks-1)*block), tail, nil))
		run(t, c, r)
		expectResult(t, r, block)
		compare(t, "O_DIRECT read at the end", tail[:block], want[(blocks-1)*block:])

		// A flush through the same descriptor.
		mustPrepare(t, r.PrepareFlush(f, nil))
		run(t, c, r)
		expectResult(t, r, 0)
	})
}

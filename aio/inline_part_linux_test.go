//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInlinePartThenCut: a read the page cache holds only in part, whose
// first bytes the waiter's read that does not wait has put in the buffer,
// goes on from there in a worker; when the file is cut to the read's
// offset before the worker runs, the read reports the bytes already in
// its buffer, and no byte past its count is written.
func TestInlinePartThenCut(t *testing.T) {
	const off, size, page = 64 << 10, 128 << 10, 4096
	path := filepath.Join(h5Dir(t), "part")
	want := make([]byte, size)
	for i := range want {
		want[i] = h3Byte(int64(i))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(want); err != nil {
		t.Fatal(err)
	}
	// Only the read's first page in the cache: no read-ahead, every page
	// written back and dropped, then that page read again.
	fd := int(f.Fd())
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_RANDOM); err != nil {
		t.Skip(err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Skip(err)
	}
	if _, err := unix.Pread(fd, make([]byte, page), off); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size-off)
	for i := range buf {
		buf[i] = h5Sentinel
	}
	r := NewRequest()
	if err := r.PrepareRead(f, off, buf, nil); err != nil {
		t.Fatal(err)
	}
	r.class = classify(uintptr(fd))
	if !canInline(r) {
		// The filesystem, or an emulator such as qemu-user, refused
		// RWF_NOWAIT before (noInline), or the OS has no such read.
		t.Skipf("reads that do not wait are not used here: class %+v", r.class)
	}
	// As the waiter (or a worker) does it: the read that does not wait,
	// then the file cut, then the worker's read.
	r.runInline(uintptr(fd))
	if r.pj.ran || r.pj.part != page {
		t.Skipf("the read that does not wait read %d bytes (done: %v); want the one page cached: the cache keeps more here, or the filesystem refuses", max(r.pj.n, r.pj.part), r.pj.ran)
	}
	if err := f.Truncate(off); err != nil {
		t.Fatal(err)
	}
	n, errno := portableIO(r, fd)
	if errno != 0 || n != page {
		t.Errorf("read of %d at %d, its first page cached, the file cut to %d after that page was read = %d, %v; want %d, no error", len(buf), off, off, n, errno, page)
	}
	if n >= 0 && n <= len(buf) {
		if !bytes.Equal(buf[:n], want[off:off+n]) {
			t.Errorf("its %d bytes differ from the file's", n)
		}
		if j := h5Written(buf[n:]); j >= 0 {
			t.Errorf("read = %d bytes, but byte %d past them was written", n, n+j)
		}
	}
}

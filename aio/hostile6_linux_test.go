//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Attacks on full devices and filesystems, sealed files and limits, made
// through aio.File and Contexts.

// h6Opener opens a File on the shared engine or on an engine of its own.
type h6Opener struct {
	name string
	open func(t *testing.T, path string, flag int) *File
}

// h6Openers are the shared engine and an engine of each backend.
func h6Openers() []h6Opener {
	withEngine := func(be Backend) func(t *testing.T, path string, flag int) *File {
		return func(t *testing.T, path string, flag int) *File {
			if be == KernelBackend {
				smSkipWithoutKernelAIO(t, Config{Backend: be})
			}
			e, err := NewEngine(Config{Backend: be, MaxRequests: 8})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := e.Close(); err != nil {
					t.Errorf("Engine.Close: %v", err)
				}
			})
			f, err := e.OpenFile(path, flag, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}
	}
	return []h6Opener{
		{"shared", func(t *testing.T, path string, flag int) *File {
			f, err := OpenFile(path, flag, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
		{"default", withEngine(DefaultBackend)},
		{"portable", withEngine(PortableBackend)},
		{"kernel", withEngine(KernelBackend)},
	}
}

// h6ForEachOpener runs fn for each opener in a subtest.
func h6ForEachOpener(t *testing.T, fn func(t *testing.T, o h6Opener)) {
	for _, o := range h6Openers() {
		t.Run(o.name, func(t *testing.T) { fn(t, o) })
	}
}

// TestH6FileDevFull: every write call of a File on /dev/full fails with
// ENOSPC, a *os.PathError keeping the errno, having written 0 bytes (never
// a negative count); a read gives zeros, as from /dev/zero.
func TestH6FileDevFull(t *testing.T) {
	h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skipf("no /dev/full: %v", err)
		}
		f := o.open(t, "/dev/full", os.O_RDWR)
		p := make([]byte, 4096)
		for name, call := range map[string]func() (int, error){
			"WriteAt":               func() (int, error) { return f.WriteAt(p, 0) },
			"WritevAt":              func() (int, error) { return f.WritevAt([][]byte{p}, 0) },
			"WritevAt, empty first": func() (int, error) { return f.WritevAt([][]byte{nil, p[:10], p}, 4096) },
			"WriteAt at 1 TiB":      func() (int, error) { return f.WriteAt(p[:1], 1<<40) },
		} {
			n, err := call()
			if n != 0 {
				t.Errorf("%s on /dev/full = %d, %v; want 0 bytes", name, n, err)
			}
			h3Errno(t, name+" on /dev/full", err, syscall.ENOSPC)
		}
		for i := range p {
			p[i] = 0xee
		}
		if n, err := f.ReadvAt([][]byte{p[:100], p[100:]}, 0); n != len(p) || err != nil {
			t.Fatalf("ReadvAt of /dev/full = %d, %v", n, err)
		}
		for i, b := range p {
			if b != 0 {
				t.Fatalf("byte %d read from /dev/full is %#x", i, b)
			}
		}
	})
}

// TestH6FileVectoredErrorCount: ReadvAt on a file opened for writing only,
// and WritevAt on one opened for reading only, fail with EBADF having
// moved 0 bytes, not a negative count.
func TestH6FileVectoredErrorCount(t *testing.T) {
	h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
			t.Fatal(err)
		}
		wo, ro := o.open(t, path, os.O_WRONLY), o.open(t, path, os.O_RDONLY)
		bufs := [][]byte{make([]byte, 100), make([]byte, 4000)}
		n, err := wo.ReadvAt(bufs, 0)
		if n != 0 {
			t.Errorf("ReadvAt of an O_WRONLY file = %d, %v; want 0 bytes", n, err)
		}
		h3Errno(t, "ReadvAt of an O_WRONLY file", err, syscall.EBADF)
		n, err = ro.WritevAt(bufs, 0)
		if n != 0 {
			t.Errorf("WritevAt of an O_RDONLY file = %d, %v; want 0 bytes", n, err)
		}
		h3Errno(t, "WritevAt of an O_RDONLY file", err, syscall.EBADF)
	})
}

// TestH6FileWritevFullFilesystem: a WritevAt of more than a 256 KiB tmpfs
// holds returns the bytes it wrote, exactly, with ENOSPC: n bytes are in
// the file and the count is not one short of them.
func TestH6FileWritevFullFilesystem(t *testing.T) {
	h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
		f := o.open(t, filepath.Join(h3SmallFS(t), "big"), os.O_RDWR|os.O_CREATE)
		const size = 64 << 10
		bufs := make([][]byte, 6) // 384 KiB for 256
		for i := range bufs {
			bufs[i] = h3Pattern(i, size)
		}
		n, err := f.WritevAt(bufs, 0)
		if n <= 0 || n >= len(bufs)*size {
			t.Fatalf("WritevAt of %d bytes into 256 KiB = %d, %v", len(bufs)*size, n, err)
		}
		h3Errno(t, "WritevAt into a full filesystem", err, syscall.ENOSPC)
		st, serr := f.Stat()
		if serr != nil {
			t.Fatal(serr)
		}
		if st.Size() != int64(n) {
			t.Fatalf("WritevAt reported %d bytes; the file holds %d", n, st.Size())
		}
		got := make([]byte, n)
		if k, err := unix.Pread(h6Fd(t, f), got, 0); k != n || err != nil {
			t.Fatalf("pread = %d, %v", k, err)
		}
		want := make([]byte, 0, n)
		for _, b := range bufs {
			want = append(want, b...)
		}
		if string(got) != string(want[:n]) {
			t.Fatalf("the %d bytes in the file are not those written", n)
		}
		if err := f.DataSync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("DataSync after ENOSPC: %v", err)
		}
	})
}

// h6Fd is f's descriptor number, for a system call of the test's own while
// f is open.
func h6Fd(t *testing.T, f *File) int {
	t.Helper()
	fd := -1
	if err := f.rc.Control(func(x uintptr) { fd = int(x) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// h6SmallExt4 mounts an ext4 of 2 MiB (1 KiB blocks, no journal) from a
// loop device for the test and returns its directory, unmounted at the end
// after the test's files are closed. It skips without the right to mount,
// or without mkfs.ext4 or loop devices.
func h6SmallExt4(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full ext4 needs root, to mount a loop device")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skipf("no mkfs.ext4 for a full ext4: %v", err)
	}
	tmp := t.TempDir()
	img, dir := filepath.Join(tmp, "img"), filepath.Join(tmp, "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 2<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-O", "^has_journal", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		t.Skipf("mount -o loop of an ext4 image: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestH6FullExt4: writes of 4 MiB into a 2 MiB ext4, buffered and O_DIRECT
// (which DefaultBackend gives to kernel AIO), on every backend: each comes
// back once, whole, short with no error, or with ENOSPC (a *os.PathError
// keeping the errno) having written nothing; the bytes it reports are in
// the file; then the Context still reads and overwrites what was written,
// and closes.
func TestH6FullExt4(t *testing.T) {
	h3ForEachModeAndBackend(t, func(t *testing.T, direct bool, be Backend) {
		const reqs, size = 16, 256 << 10
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		flag := os.O_RDWR | os.O_CREATE
		if direct {
			flag |= syscall.O_DIRECT
		}
		f, err := os.OpenFile(filepath.Join(h6SmallExt4(t), "big"), flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		rs, data := make([]*Request, reqs), make([][]byte, reqs)
		for i := range rs {
			rs[i], data[i] = NewRequest(), directBuf(size)
			copy(data[i], h3Pattern(i, size))
			if err := rs[i].PrepareWrite(f, int64(i*size), data[i], i); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Submit(rs...); n != reqs || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		h3Wait(t, c, rs, reqs)
		written, full, whole := 0, 0, -1
		for i, r := range rs {
			n, err := r.Result()
			switch {
			case err != nil:
				h3Errno(t, "write into a full ext4", err, syscall.ENOSPC)
				if n != 0 {
					t.Fatalf("write %d: %d bytes with %v", i, n, err)
				}
				full++
			case n <= 0 || n > size:
				t.Fatalf("write %d = %d, nil", i, n)
			case n < size:
				full++
			default:
				whole = i
			}
			written += n
		}
		content, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			n, _ := r.Result()
			if end := i*size + n; n > 0 && (end > len(content) || string(content[i*size:end]) != string(data[i][:n])) {
				t.Fatalf("write %d reported %d bytes; the file (%d bytes) holds others there", i, n, len(content))
			}
		}
		t.Logf("%d bytes written, %d of %d writes short or refused", written, full, reqs)
		if full == 0 || written > 2<<20 {
			t.Fatalf("%d bytes written into a 2 MiB ext4, %d writes short or refused", written, full)
		}
		if whole < 0 {
			t.Fatal("no write was whole")
		}
		// Still usable: read back a whole write, then overwrite it.
		back := directBuf(size)
		r := rs[0]
		if err := r.PrepareRead(f, int64(whole*size), back, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != size || err != nil || string(back) != string(data[whole]) {
			t.Fatalf("read back of write %d = %d, %v (equal: %v)", whole, n, err, string(back) == string(data[whole]))
		}
		if err := r.PrepareWrite(f, int64(whole*size), back, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != size || err != nil {
			t.Fatalf("overwrite of write %d = %d, %v", whole, n, err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// TestH6FileFullExt4: File.WriteAt and WritevAt of 3 MiB into a 2 MiB
// ext4, buffered and O_DIRECT, on the shared engine and an engine of each
// backend: a call returns n < its length only with ENOSPC, the n bytes are
// in the file, and DataSync afterwards succeeds or reports ENOSPC.
func TestH6FileFullExt4(t *testing.T) {
	for _, direct := range []bool{false, true} {
		name := "buffered"
		flag := os.O_RDWR | os.O_CREATE
		if direct {
			name, flag = "direct", flag|syscall.O_DIRECT
		}
		t.Run(name, func(t *testing.T) {
			h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
				f := o.open(t, filepath.Join(h6SmallExt4(t), "big"), flag)
				const calls, size = 6, 512 << 10
				data := make([][]byte, calls)
				ns, errs := make([]int, calls), make([]error, calls)
				done := make(chan struct{})
				for i := range calls {
					data[i] = AlignedBuffer(size)
					copy(data[i], h3Pattern(i, size))
					go func() {
						defer func() { done <- struct{}{} }()
						if i%2 == 0 {
							ns[i], errs[i] = f.WriteAt(data[i], int64(i*size))
							return
						}
						half := size / 2
						ns[i], errs[i] = f.WritevAt([][]byte{data[i][:half], nil, data[i][half:]}, int64(i*size))
					}()
				}
				for range calls {
					<-done
				}
				content, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				refused := 0
				for i := range calls {
					n, err := ns[i], errs[i]
					switch {
					case n == size && err == nil:
					case n >= 0 && n < size && err != nil:
						h3Errno(t, fmt.Sprintf("call %d into a full ext4", i), err, syscall.ENOSPC)
						refused++
					default:
						t.Fatalf("call %d = %d, %v for %d bytes", i, n, err, size)
					}
					if end := i*size + n; n > 0 && (end > len(content) || string(content[i*size:end]) != string(data[i][:n])) {
						t.Fatalf("call %d reported %d bytes; the file (%d bytes) holds others there", i, n, len(content))
					}
				}
				if refused == 0 {
					t.Fatalf("%d calls of %d bytes into a 2 MiB ext4 all succeeded", calls, size)
				}
				if err := f.DataSync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("DataSync: %v", err)
				}
				if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Sync: %v", err)
				}
			})
		})
	}
}

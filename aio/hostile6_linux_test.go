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

// TestH6FileWrongDirection: ReadAt and ReadvAt on a file opened for
// writing only, and WriteAt and WritevAt on one opened for reading only,
// fail with EBADF (a *os.PathError keeping the errno) having moved 0
// bytes, not a negative count; buffered and O_DIRECT, on the shared engine
// and an engine of each backend.
func TestH6FileWrongDirection(t *testing.T) {
	for _, direct := range []bool{false, true} {
		name, flag := "buffered", 0
		if direct {
			name, flag = "direct", syscall.O_DIRECT
		}
		t.Run(name, func(t *testing.T) {
			h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
				path := filepath.Join(h5Dir(t), "f")
				if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
					t.Fatal(err)
				}
				if direct {
					probe, err := os.OpenFile(path, os.O_RDONLY|flag, 0)
					if err != nil {
						t.Skipf("%s refuses O_DIRECT: %v", path, err)
					}
					probe.Close()
				}
				wo, ro := o.open(t, path, os.O_WRONLY|flag), o.open(t, path, os.O_RDONLY|flag)
				buf := AlignedBuffer(8192)
				bufs := [][]byte{buf[:4096], buf[4096:]}
				for what, call := range map[string]func() (int, error){
					"ReadAt of an O_WRONLY file":   func() (int, error) { return wo.ReadAt(buf, 0) },
					"ReadvAt of an O_WRONLY file":  func() (int, error) { return wo.ReadvAt(bufs, 0) },
					"WriteAt of an O_RDONLY file":  func() (int, error) { return ro.WriteAt(buf, 0) },
					"WritevAt of an O_RDONLY file": func() (int, error) { return ro.WritevAt(bufs, 0) },
				} {
					n, err := call()
					if n != 0 {
						t.Errorf("%s = %d, %v; want 0 bytes", what, n, err)
					}
					h3Errno(t, what, err, syscall.EBADF)
				}
			})
		})
	}
}

// TestH6FileWriteFullFilesystem: a WriteAt or WritevAt of more than a
// 256 KiB tmpfs holds returns the bytes it wrote, exactly, with ENOSPC: n
// bytes are in the file, and the count is neither 0 nor one short of them.
func TestH6FileWriteFullFilesystem(t *testing.T) {
	const size = 64 << 10
	for _, vectored := range []bool{false, true} {
		name := "WriteAt"
		if vectored {
			name = "WritevAt"
		}
		t.Run(name, func(t *testing.T) {
			h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
				f := o.open(t, filepath.Join(h3SmallFS(t), "big"), os.O_RDWR|os.O_CREATE)
				bufs := make([][]byte, 6) // 384 KiB for 256
				var want []byte
				for i := range bufs {
					bufs[i] = h3Pattern(i, size)
					want = append(want, bufs[i]...)
				}
				var (
					n   int
					err error
				)
				if vectored {
					n, err = f.WritevAt(bufs, 0)
				} else {
					n, err = f.WriteAt(want, 0)
				}
				if n <= 0 || n >= len(want) {
					t.Fatalf("%s of %d bytes into 256 KiB = %d, %v", name, len(want), n, err)
				}
				h3Errno(t, name+" into a full filesystem", err, syscall.ENOSPC)
				got, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != n || string(got) != string(want[:n]) {
					t.Fatalf("%s reported %d bytes; the file holds %d (the bytes written: %v)", name, n, len(got), string(got) == string(want[:len(got)]))
				}
				if err := f.DataSync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("DataSync after ENOSPC: %v", err)
				}
			})
		})
	}
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
		rs, data := h3WritePatterns(t, c, f, reqs, size)
		written, full, whole := 0, 0, -1
		for i, r := range rs {
			n, ok := h3FullWrite(t, "write into a full ext4", i, r, size)
			if ok {
				whole = i
			} else {
				full++
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
			h6NoneBeyond(t, fmt.Sprintf("write %d", i), content, i*size+n, (i+1)*size)
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
					h6NoneBeyond(t, fmt.Sprintf("call %d", i), content, i*size+n, (i+1)*size)
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

// h6FileSizeLimit lowers this process's soft RLIMIT_FSIZE to limit bytes
// for the test (no test of the package runs in parallel with another),
// and restores it at the end. Go's runtime catches SIGXFSZ, so a write
// past the limit fails with EFBIG instead of killing the process.
func h6FileSizeLimit(t *testing.T, limit uint64) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Max < limit {
		t.Skipf("RLIMIT_FSIZE's hard limit %d is below %d", old.Max, limit)
	}
	low := unix.Rlimit{Cur: limit, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &low); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
			t.Errorf("restoring RLIMIT_FSIZE: %v", err)
		}
	})
}

// TestH6FileSizeLimit: with RLIMIT_FSIZE at 1 MiB, File.WriteAt and
// WritevAt across the limit write up to it and return that count with
// EFBIG (a *os.PathError keeping the errno); at the limit they write
// nothing. Buffered and O_DIRECT, on the shared engine and an engine of
// each backend; the file ends at the limit holding what was written.
func TestH6FileSizeLimit(t *testing.T) {
	const limit = 1 << 20
	for _, direct := range []bool{false, true} {
		name := "buffered"
		flag := os.O_RDWR | os.O_CREATE
		if direct {
			name, flag = "direct", flag|syscall.O_DIRECT
		}
		t.Run(name, func(t *testing.T) {
			h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
				dir := t.TempDir()
				if direct {
					probe, err := os.OpenFile(filepath.Join(dir, "probe"), flag, 0o600)
					if err != nil {
						t.Skipf("%s refuses O_DIRECT: %v", dir, err)
					}
					probe.Close()
				}
				f := o.open(t, filepath.Join(dir, "f"), flag)
				h6FileSizeLimit(t, limit)
				p := AlignedBuffer(512 << 10)
				copy(p, h3Pattern(1, len(p)))
				for _, tc := range []struct {
					name  string
					call  func() (int, error)
					wantN int
				}{
					{"WriteAt across the limit", func() (int, error) { return f.WriteAt(p, limit-256<<10) }, 256 << 10},
					{"WritevAt across the limit", func() (int, error) {
						return f.WritevAt([][]byte{p[:128<<10], nil, p[128<<10:]}, limit-384<<10)
					}, 384 << 10},
					{"WriteAt at the limit", func() (int, error) { return f.WriteAt(p[:4096], limit) }, 0},
					{"WritevAt at the limit", func() (int, error) { return f.WritevAt([][]byte{p[:4096]}, limit) }, 0},
				} {
					n, err := tc.call()
					if n != tc.wantN {
						t.Errorf("%s = %d, %v; want %d bytes", tc.name, n, err, tc.wantN)
					}
					h3Errno(t, tc.name, err, syscall.EFBIG)
				}
				if st, err := f.Stat(); err != nil || st.Size() != limit {
					t.Fatalf("file size %v, %v; want %d", st.Size(), err, limit)
				}
				got, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				if string(got[limit-384<<10:]) != string(p[:384<<10]) {
					t.Fatal("the last 384 KiB of the file are not what WritevAt wrote")
				}
			})
		})
	}
}

// h6NoneBeyond checks that content[from:to] (what a write of a pattern
// with no zero byte did not report written) holds only zeros: a write
// reporting fewer bytes than it put in the file is caught there.
func h6NoneBeyond(t *testing.T, what string, content []byte, from, to int) {
	t.Helper()
	for j := from; j < min(to, len(content)); j++ {
		if content[j] != 0 {
			t.Fatalf("%s reported its bytes up to offset %d; the file holds written bytes at %d", what, from, j)
		}
	}
}

// TestH6SealedMemfd: a memfd sealed against growing takes a write across
// its end only up to the end (a short count, no error), then refuses with
// EPERM; sealed against writing it refuses every write with EPERM. On
// each backend of a Context, and through File.WriteAt, which reports the
// bytes written with the EPERM that stopped it.
func TestH6SealedMemfd(t *testing.T) {
	const size = 8192
	memfd := func(t *testing.T) *os.File {
		fd, err := unix.MemfdCreate("aio-seal", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
		if err != nil {
			t.Skipf("memfd_create: %v", err)
		}
		f := os.NewFile(uintptr(fd), "memfd")
		t.Cleanup(func() { f.Close() })
		if err := unix.Ftruncate(fd, size); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_GROW); err != nil {
			t.Skipf("F_SEAL_GROW: %v", err)
		}
		return f
	}
	seal := func(t *testing.T, f *os.File) {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE); err != nil {
			t.Fatalf("F_SEAL_WRITE: %v", err)
		}
	}
	p := h3Pattern(3, 400)
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		f := memfd(t)
		r := NewRequest()
		if err := r.PrepareWrite(f, size-100, p, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != 100 || err != nil {
			t.Fatalf("write across the end of a memfd sealed against growing = %d, %v; want 100, nil", n, err)
		}
		if err := r.PrepareWrite(f, size, p, nil); err != nil {
			t.Fatal(err)
		}
		_, err := h3RunOne(t, c, r)
		h3Errno(t, "write past the end of a memfd sealed against growing", err, syscall.EPERM)
		seal(t, f)
		if err := r.PrepareWritev(f, 0, [][]byte{nil, p}, nil); err != nil {
			t.Fatal(err)
		}
		n, err := h3RunOne(t, c, r)
		if n != 0 {
			t.Fatalf("writev of a sealed memfd = %d, %v", n, err)
		}
		h3Errno(t, "writev of a memfd sealed against writing", err, syscall.EPERM)
		got := make([]byte, 100)
		if err := r.PrepareRead(f, size-100, got, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != 100 || err != nil || string(got) != string(p[:100]) {
			t.Fatalf("read of a sealed memfd = %d, %v (data equal: %v)", n, err, string(got) == string(p[:100]))
		}
	})
	t.Run("File", func(t *testing.T) {
		h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
			m := memfd(t)
			f := o.open(t, fmt.Sprintf("/proc/self/fd/%d", m.Fd()), os.O_RDWR)
			n, err := f.WriteAt(p, size-100)
			if n != 100 {
				t.Fatalf("File.WriteAt across the end of a memfd sealed against growing = %d, %v; want 100", n, err)
			}
			h3Errno(t, "File.WriteAt across the end of a memfd sealed against growing", err, syscall.EPERM)
			seal(t, m)
			n, err = f.WritevAt([][]byte{p}, 0)
			if n != 0 {
				t.Fatalf("File.WritevAt of a sealed memfd = %d, %v", n, err)
			}
			h3Errno(t, "File.WritevAt of a memfd sealed against writing", err, syscall.EPERM)
		})
	})
}

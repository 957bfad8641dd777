//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Attacks a user can make with the files and settings given to a Context:
// a full filesystem, files opened for the other direction, special files
// (directories, devices, memfd, eventfd, timerfd), files truncated under
// requests, and the Config's and Wait's extremes.

// h3Backends are the backends of a Context.
var h3Backends = []Backend{DefaultBackend, PortableBackend, KernelBackend}

// h3Context opens a Context on be for the test, skipping a KernelBackend
// where the system has no kernel AIO.
func h3Context(t *testing.T, cfg Config, be Backend) *Context {
	t.Helper()
	cfg.Backend = be
	if be == KernelBackend {
		smSkipWithoutKernelAIO(t, cfg)
	}
	return smRealContext(t, cfg)
}

// h3ForEachBackend runs fn for each backend in a subtest.
func h3ForEachBackend(t *testing.T, fn func(t *testing.T, be Backend)) {
	for _, be := range h3Backends {
		t.Run(be.String(), func(t *testing.T) { fn(t, be) })
	}
}

// h3ForEachModeAndBackend runs fn for buffered and O_DIRECT files (direct),
// each on every backend.
func h3ForEachModeAndBackend(t *testing.T, fn func(t *testing.T, direct bool, be Backend)) {
	for _, direct := range []bool{false, true} {
		name := "buffered"
		if direct {
			name = "direct"
		}
		t.Run(name, func(t *testing.T) {
			h3ForEachBackend(t, func(t *testing.T, be Backend) { fn(t, direct, be) })
		})
	}
}

// h3Wait waits for want requests, each of which must be one of reqs and come
// back once, and checks that nothing is left in flight.
func h3Wait(t *testing.T, c *Context, reqs []*Request, want int) []*Request {
	t.Helper()
	got := waitAll(t, c, want)
	seen := map[*Request]bool{}
	for _, r := range got {
		if slicesIndex(reqs, r) < 0 {
			t.Fatalf("Wait returned a request that was not submitted: %p", r)
		}
		if seen[r] {
			t.Fatalf("request %v returned twice", r.User())
		}
		seen[r] = true
		if s := r.State(); s != Completed {
			t.Fatalf("request %v returned %v", r.User(), s)
		}
	}
	if n := c.InFlight(); n != 0 {
		t.Fatalf("InFlight = %d after all %d came back", n, want)
	}
	return got
}

// h3Errno checks that err is a *os.PathError keeping errno.
func h3Errno(t *testing.T, what string, err error, errno syscall.Errno) {
	t.Helper()
	var pe *os.PathError
	if !errors.As(err, &pe) || !errors.Is(err, errno) {
		t.Fatalf("%s: error %#v (%v), want a *os.PathError matching %v", what, err, err, errno)
	}
}

// h3RunOne submits r, waits for it and returns its result.
func h3RunOne(t *testing.T, c *Context, r *Request) (int, error) {
	t.Helper()
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	h3Wait(t, c, []*Request{r}, 1)
	return r.Result()
}

// h3DataFile is a file of size pattern bytes (never 0) opened with flag.
func h3DataFile(t *testing.T, dir string, size int, flag int) (*os.File, []byte) {
	t.Helper()
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i%251) + 1
	}
	path := filepath.Join(dir, "data")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, want
}

// TestWrongDirection: a read of a file opened O_WRONLY and a write of one
// opened O_RDONLY fail with EBADF, kept as a *os.PathError; the request is
// then prepared again on a file opened for it and succeeds.
func TestWrongDirection(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 8}, be)
		dir := t.TempDir()
		wo, want := h3DataFile(t, dir, 4096, os.O_WRONLY)
		ro, err := os.Open(wo.Name())
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		r, buf := NewRequest(), make([]byte, 4096)

		if err := r.PrepareRead(wo, 0, buf, "read of O_WRONLY"); err != nil {
			t.Fatal(err)
		}
		_, err = h3RunOne(t, c, r)
		h3Errno(t, "read of O_WRONLY", err, syscall.EBADF)
		if err := r.PrepareRead(ro, 0, buf, "read again"); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != len(want) || err != nil || string(buf) != string(want) {
			t.Fatalf("read on O_RDONLY after the EBADF = %d, %v (data equal: %v)", n, err, string(buf) == string(want))
		}

		if err := r.PrepareWrite(ro, 0, []byte("x"), "write of O_RDONLY"); err != nil {
			t.Fatal(err)
		}
		_, err = h3RunOne(t, c, r)
		h3Errno(t, "write of O_RDONLY", err, syscall.EBADF)
		if err := r.PrepareWrite(wo, 0, []byte("y"), "write again"); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != 1 || err != nil {
			t.Fatalf("write on O_WRONLY after the EBADF = %d, %v", n, err)
		}
		if st := c.Stats(); st.Kernel+st.Goroutines != 4 {
			t.Fatalf("Stats = %+v after 4 requests", st)
		}
	})
}

// TestDirectoryRead: a read of a directory fails with the kernel's errno:
// EISDIR from pread, EINVAL from io_submit (a directory has no read_iter).
func TestDirectoryRead(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		d, err := os.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r := NewRequest()
		if err := r.PrepareRead(d, 0, make([]byte, 512), nil); err != nil {
			t.Fatal(err)
		}
		_, err = h3RunOne(t, c, r)
		want := syscall.EISDIR
		if be == KernelBackend {
			want = syscall.EINVAL
		}
		h3Errno(t, "read of a directory", err, want)
	})
}

// TestAppendPositionedWrite: a positioned write on a file opened O_APPEND is
// appended at the end on every backend (Linux's pwrite and AIO both ignore
// the offset then); the data before stays as it was. File.WriteAt refuses
// such a file, as *os.File does.
func TestAppendPositionedWrite(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		f, want := h3DataFile(t, t.TempDir(), 1000, os.O_WRONLY|os.O_APPEND)
		r := NewRequest()
		if err := r.PrepareWrite(f, 10, []byte("APPENDED"), nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != 8 || err != nil {
			t.Fatalf("write at 10 of an O_APPEND file = %d, %v", n, err)
		}
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"APPENDED" {
			t.Fatalf("O_APPEND file after a write at 10: %d bytes, first 20 %q, last 8 %q; want the 1000 bytes, then APPENDED", len(got), got[:20], got[max(len(got)-8, 0):])
		}
	})
	t.Run("File", func(t *testing.T) {
		e, err := NewEngine(Config{Backend: PortableBackend})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		f, err := e.OpenFile(filepath.Join(t.TempDir(), "a"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if n, err := f.WriteAt([]byte("x"), 0); n != 0 || !errors.Is(err, os.ErrInvalid) {
			t.Fatalf("File.WriteAt on O_APPEND = %d, %v; want 0 and os.ErrInvalid", n, err)
		}
	})
}

// TestCharDevices: /dev/null and /dev/zero are read and written as pread
// and pwrite do (0 bytes from /dev/null, zeros from /dev/zero, writes
// taken whole) on the backends that run them with goroutines; KernelBackend,
// which does not hand character devices to io_submit, fails them with
// EOPNOTSUPP.
func TestCharDevices(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		for _, dev := range []string{"/dev/null", "/dev/zero"} {
			f, err := os.OpenFile(dev, os.O_RDWR, 0)
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			r, buf := NewRequest(), make([]byte, 4096)
			for i := range buf {
				buf[i] = 0xee
			}
			if err := r.PrepareRead(f, 1<<20, buf, nil); err != nil {
				t.Fatal(err)
			}
			n, err := h3RunOne(t, c, r)
			if be == KernelBackend {
				h3Errno(t, "read of "+dev, err, syscall.EOPNOTSUPP)
				continue
			}
			wantN := len(buf)
			if dev == "/dev/null" {
				wantN = 0
			}
			if n != wantN || err != nil {
				t.Fatalf("read of %s = %d, %v; want %d, nil", dev, n, err, wantN)
			}
			for i, b := range buf[:n] {
				if b != 0 {
					t.Fatalf("%s: byte %d is %#x", dev, i, b)
				}
			}
			if err := r.PrepareWrite(f, 0, buf, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := h3RunOne(t, c, r); n != len(buf) || err != nil {
				t.Fatalf("write of %s = %d, %v", dev, n, err)
			}
		}
	})
}

// TestMemfd: a memfd is a regular file (shmem): written and read back on
// every backend.
func TestMemfd(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		fd, err := unix.MemfdCreate("aio-test", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skipf("memfd_create: %v", err)
		}
		f := os.NewFile(uintptr(fd), "memfd")
		defer f.Close()
		want := []byte("memfd contents, written through the Context")
		w, r := NewRequest(), NewRequest()
		if err := w.PrepareWrite(f, 100, want, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, w); n != len(want) || err != nil {
			t.Fatalf("write = %d, %v", n, err)
		}
		buf := make([]byte, 200)
		if err := r.PrepareRead(f, 100, buf, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := h3RunOne(t, c, r); n != len(want) || err != nil || string(buf[:n]) != string(want) {
			t.Fatalf("read = %d, %v, %q", n, err, buf[:n])
		}
	})
}

// TestEventfdTimerfdRead: a read of an eventfd whose counter is 0, and of
// a timerfd that has not expired, in blocking mode. Neither has positions:
// the goroutine engine reads them as streams, so the read completes once
// the eventfd is written (or the timer expires), with its 8-byte counter.
// io_submit would block in an eventfd's read until it is written;
// KernelBackend must not hand it such a file (EOPNOTSUPP), so Submit
// returns. Afterwards the Context closes with no goroutine left.
func TestEventfdTimerfdRead(t *testing.T) {
	type special struct {
		open func() (int, error)
		fire func(fd int) // makes a read of it return
	}
	files := map[string]special{
		"eventfd": {
			func() (int, error) { return unix.Eventfd(0, unix.EFD_CLOEXEC) },
			func(fd int) { _, _ = unix.Write(fd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) },
		},
		"timerfd": {
			func() (int, error) { return unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC) },
			func(fd int) { _ = unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Value: unix.Timespec{Nsec: 1}}, nil) },
		},
	}
	for name, sf := range files {
		t.Run(name, func(t *testing.T) {
			h3ForEachBackend(t, func(t *testing.T, be Backend) {
				fd, err := sf.open()
				if err != nil {
					t.Skipf("%s: %v", name, err)
				}
				f := os.NewFile(uintptr(fd), name)
				defer f.Close()
				c := h3Context(t, Config{MaxRequests: 4}, be)
				r := NewRequest()
				if err := r.PrepareRead(f, 0, make([]byte, 8), nil); err != nil {
					t.Fatal(err)
				}
				submitted := make(chan error, 1)
				go func() {
					_, err := c.Submit(r)
					submitted <- err
				}()
				select {
				case err := <-submitted:
					if err != nil {
						t.Fatalf("Submit: %v", err)
					}
				case <-time.After(10 * time.Second):
					sf.fire(fd) // so that the test can end
					<-submitted
					h3Wait(t, c, []*Request{r}, 1)
					t.Fatalf("Submit of a read of an idle %s did not return until the %s was written", name, name)
				}
				if be == KernelBackend {
					h3Wait(t, c, []*Request{r}, 1)
					_, err = r.Result()
					h3Errno(t, name+" read", err, syscall.EOPNOTSUPP)
				} else {
					// Idle, it cannot complete: a Wait that ends by its
					// deadline says so.
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
					n, err := c.Wait(ctx, 1, make([]*Request, 1))
					cancel()
					if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("Wait on a read of an idle %s = %d, %v; want 0, context.DeadlineExceeded", name, n, err)
					}
					sf.fire(fd)
					h3Wait(t, c, []*Request{r}, 1)
					got, err := r.Result()
					if err != nil || got != 8 {
						t.Fatalf("read of a %s once fired = %d, %v; want its 8-byte counter", name, got, err)
					}
					if v := binary.NativeEndian.Uint64(r.buf); v < 1 {
						t.Fatalf("read of a %s once fired gave counter %d, want at least 1", name, v)
					}
				}
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
			// A File of its own engine sends every file with positions
			// to it: an eventfd has none, though os.FileMode shows it as
			// a regular file, so its File reads it directly (pread:
			// ESPIPE) and a KernelBackend engine's Submit is not blocked.
			t.Run("File", func(t *testing.T) {
				smSkipWithoutKernelAIO(t, Config{Backend: KernelBackend})
				e, err := NewEngine(Config{Backend: KernelBackend, MaxRequests: 2})
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				fd, err := sf.open()
				if err != nil {
					t.Skipf("%s: %v", name, err)
				}
				f, err := e.NewFile(os.NewFile(uintptr(fd), name))
				if err != nil {
					unix.Close(fd)
					t.Fatal(err)
				}
				defer f.Close()
				read := make(chan error, 1)
				go func() {
					_, err := f.ReadAt(make([]byte, 8), 0)
					read <- err
				}()
				select {
				case err = <-read:
				case <-time.After(10 * time.Second):
					sf.fire(fd)
					<-read
					t.Fatalf("File.ReadAt of an idle %s on a KernelBackend engine did not return until the %s was written (File.Kernel() = %q)", name, name, f.Kernel())
				}
				h3Errno(t, "File.ReadAt of "+name, err, syscall.ESPIPE)
			})
		})
	}
}

// h3Goroutines waits until no more than base goroutines run, and fails
// after 10 s with the count.
func h3Goroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the Context", runtime.NumGoroutine(), base)
		}
		time.Sleep(time.Millisecond)
	}
}

// h3Fds counts the process's open descriptors.
func h3Fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("/proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestBlockedPipeRead: a read of an empty pipe is in flight: Submit has
// returned, Wakeup ends a Wait, Cancel reports it running, Close is busy.
// Once the pipe is written it completes with the data, Close succeeds, and
// neither a goroutine nor a descriptor of the Context is left.
func TestBlockedPipeRead(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			defer pw.Close()
			baseG, baseFd := runtime.NumGoroutine(), h3Fds(t)
			c, err := NewContext(Config{MaxRequests: 4, Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			r, buf := NewRequest(), make([]byte, 16)
			if err := r.PrepareRead(pr, 0, buf, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			if err := c.Wakeup(); err != nil {
				t.Fatal(err)
			}
			out := make([]*Request, 1)
			if n, err := c.Wait(smLongCtx(t), 1, out); n != 0 || !errors.Is(err, ErrInterrupted) {
				t.Fatalf("Wait after Wakeup = %d, %v", n, err)
			}
			if err := r.Cancel(); !errors.Is(err, ErrInProgress) && err != nil {
				t.Fatalf("Cancel of a blocked pipe read: %v", err)
			}
			if err := c.Close(); !errors.Is(err, ErrBusy) {
				t.Fatalf("Close with a read in flight: %v", err)
			}
			if _, err := pw.Write([]byte("data")); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || err != nil {
				t.Fatalf("Wait = %d, %v", n, err)
			}
			// Cancel may have found the read still queued.
			if n, err := r.Result(); !errors.Is(err, ErrCanceled) && (n != 4 || err != nil || string(buf[:4]) != "data") {
				t.Fatalf("pipe read = %d, %v, %q", n, err, buf[:n])
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			h3Goroutines(t, baseG)
			if n := h3Fds(t); n > baseFd {
				t.Fatalf("%d descriptors after Close, %d before NewContext", n, baseFd)
			}
		})
	}
}

// h3SmallFS mounts a tmpfs of 256 KiB for the test and returns its
// directory; it is unmounted at the end, after the test's files are closed
// (cleanups registered later run first).
func h3SmallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mount tmpfs: %v: a full filesystem needs the right to mount one", err)
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// h3Pattern is size bytes of i's own pattern, never 0.
func h3Pattern(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7+j%13) | 1
	}
	return b
}

// TestFullFilesystem: writes that overflow a 256 KiB tmpfs each complete
// once: whole, short with no error, or with ENOSPC (a *os.PathError keeping
// the errno) having written nothing; what they report written is in the
// file; the Context counts them all and closes. Buffered and O_DIRECT files
// (on DefaultBackend tmpfs's O_DIRECT writes go to goroutines: tmpfs cannot
// promise the kernel's AIO that they will not wait inside io_submit).
func TestFullFilesystem(t *testing.T) {
	h3ForEachModeAndBackend(t, func(t *testing.T, direct bool, be Backend) {
		const reqs, size = 16, 32 << 10 // 512 KiB for 256
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		flag := os.O_RDWR | os.O_CREATE
		if direct {
			flag |= syscall.O_DIRECT
		}
		f, err := os.OpenFile(filepath.Join(h3SmallFS(t), "big"), flag, 0o600)
		if direct && errors.Is(err, syscall.EINVAL) {
			t.Skipf("tmpfs refuses O_DIRECT: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		rs, data := h3WritePatterns(t, c, f, reqs, size)
		written, full := 0, 0
		for i, r := range rs {
			n, whole := h3FullWrite(t, "write into a full filesystem", i, r, size)
			if !whole {
				full++
			}
			written += n
			got := make([]byte, n)
			if _, err := unix.Pread(int(f.Fd()), got, int64(i*size)); err != nil {
				t.Fatal(err)
			}
			if string(got) != string(data[i][:n]) {
				t.Fatalf("write %d reported %d bytes; the file holds others there", i, n)
			}
		}
		if full == 0 || written > 256<<10 {
			t.Fatalf("%d bytes written into a 256 KiB filesystem, %d writes short or refused", written, full)
		}
		st := c.Stats()
		if st.Kernel+st.Goroutines != reqs {
			t.Fatalf("Stats = %+v for %d requests", st, reqs)
		}
		// Which of DefaultBackend's O_DIRECT writes the kernel serves is the
		// filesystem's choice: tmpfs cannot promise that one will not wait
		// inside io_submit (EOPNOTSUPP to RWF_NOWAIT), so goroutines serve
		// them all.
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// TestFileFullFilesystem: File.WriteAt of more than a 256 KiB tmpfs holds,
// from several goroutines, returns n < len(p) only with ENOSPC (a
// *os.PathError keeping the errno), and the n bytes are in the file; on the
// shared engine (pread in the caller's goroutine) and engines of each
// backend.
func TestFileFullFilesystem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		be     Backend
		own    bool
		direct bool
	}{
		{"shared", 0, false, false}, {"default", DefaultBackend, true, false}, {"portable", PortableBackend, true, false}, {"kernel", KernelBackend, true, false},
		{"shared-direct", 0, false, true}, {"kernel-direct", KernelBackend, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *Engine
			if tc.own {
				if tc.be == KernelBackend {
					smSkipWithoutKernelAIO(t, Config{Backend: tc.be})
				}
				var err error
				if e, err = NewEngine(Config{Backend: tc.be, MaxRequests: 4}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := e.Close(); err != nil {
						t.Errorf("Engine.Close: %v", err)
					}
				})
			}
			path := filepath.Join(h3SmallFS(t), "big")
			flag := os.O_RDWR | os.O_CREATE
			if tc.direct {
				flag |= syscall.O_DIRECT
			}
			var (
				f   *File
				err error
			)
			if e != nil {
				f, err = e.OpenFile(path, flag, 0o600)
			} else {
				f, err = OpenFile(path, flag, 0o600)
			}
			if tc.direct && errors.Is(err, syscall.EINVAL) {
				t.Skipf("tmpfs refuses O_DIRECT: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if se, err := sharedEngine(); tc.direct && !tc.own && err == nil && se.Kernel() == "linux-aio" && f.Kernel() != "linux-aio" {
				t.Fatalf("an O_DIRECT File on the shared engine is served by %q", f.Kernel())
			}
			const writers, size = 4, 96 << 10 // 384 KiB for 256
			ns, errs := make([]int, writers), make([]error, writers)
			done := make(chan int)
			for i := range writers {
				go func() {
					p := directBuf(size)
					copy(p, h3Pattern(i, size))
					ns[i], errs[i] = f.WriteAt(p, int64(i*size))
					done <- i
				}()
			}
			refused := 0
			for range writers {
				i := <-done
				switch {
				case ns[i] == size && errs[i] == nil:
				case ns[i] < size && errs[i] != nil:
					h3Errno(t, "File.WriteAt into a full filesystem", errs[i], syscall.ENOSPC)
					refused++
				default:
					t.Fatalf("WriteAt %d = %d, %v for %d bytes", i, ns[i], errs[i], size)
				}
			}
			if refused == 0 {
				t.Fatalf("%d writes of %d bytes into 256 KiB all succeeded", writers, size)
			}
			for i := range writers {
				got := directBuf(size)[:ns[i]]
				if n, err := f.ReadAt(got, int64(i*size)); n != ns[i] || err != nil && ns[i] > 0 {
					t.Fatalf("ReadAt %d = %d, %v", i, n, err)
				}
				if string(got) != string(h3Pattern(i, size)[:ns[i]]) {
					t.Fatalf("WriteAt %d reported %d bytes; the file holds others there", i, ns[i])
				}
			}
		})
	}
}

// h3Byte is the content of byte off of the files the truncation tests use.
func h3Byte(off int64) byte { return byte(off%251) + 1 }

// h3TruncFile is a file of size bytes of h3Byte in dir, opened with flag,
// its pages evicted.
func h3TruncFile(t *testing.T, dir string, size int, flag int) *os.File {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = h3Byte(int64(i))
	}
	path := filepath.Join(dir, "trunc")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, flag, 0)
	if errors.Is(err, syscall.EINVAL) && flag&syscall.O_DIRECT != 0 {
		t.Skipf("%s refuses O_DIRECT", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	dropCache(t, f)
	return f
}

// TestTruncateUnderReads: a file truncated to 0 and extended again while
// reads of it are in flight, its pages not cached: each read completes once
// with no error and n bytes that are the file's old content or the zeros
// of the extension, never anything else.
func TestTruncateUnderReads(t *testing.T) {
	h3ForEachModeAndBackend(t, func(t *testing.T, direct bool, be Backend) {
		const reqs, size, fileSize, rounds = 32, 8 << 10, 256 << 10, 4
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		flag := os.O_RDWR
		if direct {
			flag |= syscall.O_DIRECT
		}
		f := h3TruncFile(t, t.TempDir(), fileSize, flag)
		rs, bufs := make([]*Request, reqs), make([][]byte, reqs)
		for i := range rs {
			rs[i], bufs[i] = NewRequest(), directBuf(size)
		}
		for round := range rounds {
			if err := unix.Ftruncate(int(f.Fd()), fileSize); err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				for j := range bufs[i] {
					bufs[i][j] = 0xff // never in the file
				}
				off := int64((i*37 + round*11) % (fileSize / size) * size)
				if err := r.PrepareRead(f, off, bufs[i], off); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != reqs || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			if err := unix.Ftruncate(int(f.Fd()), 0); err != nil {
				t.Fatal(err)
			}
			if err := unix.Ftruncate(int(f.Fd()), fileSize); err != nil {
				t.Fatal(err)
			}
			h3Wait(t, c, rs, reqs)
			for i, r := range rs {
				n, err := r.Result()
				if err != nil || n < 0 || n > size {
					t.Fatalf("round %d: read at %d = %d, %v", round, r.User(), n, err)
				}
				off := r.User().(int64)
				for j, b := range bufs[i][:n] {
					if b != 0 && b != h3Byte(off+int64(j)) {
						t.Fatalf("round %d: read at %d = %d bytes; byte %d is %#x, neither the file's %#x nor 0", round, off, n, j, b, h3Byte(off+int64(j)))
					}
				}
			}
			// Extended with zeros, the file is written again for
			// the next round and its pages evicted.
			data := make([]byte, fileSize)
			for j := range data {
				data[j] = h3Byte(int64(j))
			}
			if err := os.WriteFile(f.Name(), data, 0o600); err != nil {
				t.Fatal(err)
			}
			dropCache(t, f)
		}
	})
}

// TestTruncateUnderWrites: writes of a file's own pattern while it is cut
// to various sizes: each write completes once, whole, and every byte of the
// file afterwards is its pattern or 0.
func TestTruncateUnderWrites(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		const reqs, size, fileSize, rounds = 16, 8 << 10, 256 << 10, 6
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		f, err := os.OpenFile(filepath.Join(t.TempDir(), "w"), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs := make([]*Request, reqs)
		for i := range rs {
			rs[i] = NewRequest()
		}
		for round := range rounds {
			for i, r := range rs {
				off := int64((i*5 + round*3) % (fileSize / size) * size)
				buf := make([]byte, size)
				for j := range buf {
					buf[j] = h3Byte(off + int64(j))
				}
				if err := r.PrepareWrite(f, off, buf, off); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != reqs || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			for k := range 4 {
				if err := unix.Ftruncate(int(f.Fd()), int64(k*fileSize/4+round*1000)); err != nil {
					t.Fatal(err)
				}
			}
			h3Wait(t, c, rs, reqs)
			for _, r := range rs {
				if n, err := r.Result(); n != size || err != nil {
					t.Fatalf("round %d: write at %d = %d, %v", round, r.User(), n, err)
				}
			}
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			for j, b := range got {
				if b != 0 && b != h3Byte(int64(j)) {
					t.Fatalf("round %d: byte %d of the file is %#x, neither its pattern %#x nor 0", round, j, b, h3Byte(int64(j)))
				}
			}
		}
	})
}

// h3Pipe is a pipe whose read end is in Go's poller (os.Pipe) or, with
// blocking, in blocking mode (os.NewFile of a blocking descriptor, which
// the poller does not take).
func h3Pipe(t *testing.T, blocking bool) (r, w *os.File) {
	t.Helper()
	var err error
	if !blocking {
		r, w, err = os.Pipe()
	} else {
		var p [2]int
		if err = unix.Pipe2(p[:], unix.O_CLOEXEC); err == nil {
			r, w = os.NewFile(uintptr(p[0]), "pipe-r"), os.NewFile(uintptr(p[1]), "pipe-w")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// TestOneWorkerBlockedStream: with Workers: 1, a read of an empty pipe is
// in flight beside 31 reads of /dev/zero and of a file: those complete
// while the pipe read waits, since a worker waiting for a stream does not
// count against the pool, whether it waits in Go's poller or, for a
// descriptor in blocking mode (as os.Stdin usually is), in read(2); the
// pipe read completes once written.
func TestOneWorkerBlockedStream(t *testing.T) {
	for _, tc := range []struct {
		be       Backend
		blocking bool
	}{{DefaultBackend, false}, {PortableBackend, false}, {DefaultBackend, true}, {PortableBackend, true}} {
		name := tc.be.String() + "/poller"
		if tc.blocking {
			name = tc.be.String() + "/blocking"
		}
		t.Run(name, func(t *testing.T) {
			const reqs = 32
			c := h3Context(t, Config{MaxRequests: reqs, Workers: 1}, tc.be)
			pr, pw := h3Pipe(t, tc.blocking)
			zero, err := os.Open("/dev/zero")
			if err != nil {
				t.Skip(err)
			}
			defer zero.Close()
			f, want := inlineFile(t, 4096)
			rs := make([]*Request, reqs)
			pipeBuf := make([]byte, 8)
			rs[0] = NewRequest()
			if err := rs[0].PrepareRead(pr, 0, pipeBuf, "pipe"); err != nil {
				t.Fatal(err)
			}
			bufs := make([][]byte, reqs)
			for i := 1; i < reqs; i++ {
				rs[i], bufs[i] = NewRequest(), make([]byte, 4096)
				file := zero
				if i%2 == 0 {
					file = f
				}
				if err := rs[i].PrepareRead(file, 0, bufs[i], i); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != reqs || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			got := waitAll(t, c, reqs-1)
			for _, r := range got {
				if r == rs[0] {
					t.Fatalf("the read of an empty pipe completed: %v", fmtResult(r))
				}
				i := r.User().(int)
				n, err := r.Result()
				if n != 4096 || err != nil {
					t.Fatalf("read %d = %d, %v", i, n, err)
				}
				if i%2 == 0 && string(bufs[i]) != string(want) || i%2 == 1 && bufs[i][4095] != 0 {
					t.Fatalf("read %d: wrong data", i)
				}
			}
			if _, err := pw.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			waitAll(t, c, 1)
			if n, err := rs[0].Result(); n != 4 || err != nil || string(pipeBuf[:4]) != "ping" {
				t.Fatalf("pipe read = %d, %v", n, err)
			}
		})
	}
}

func fmtResult(r *Request) string {
	n, err := r.Result()
	return fmt.Sprintf("%d, %v", n, err)
}

// TestWaitOneAtATime: 32 reads complete, collected by Waits whose out has
// room for one: each request comes back exactly once, none is lost, and
// InFlight counts down to 0.
func TestWaitOneAtATime(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		const reqs = 32
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		f, want := inlineFile(t, reqs*512)
		rs, bufs := make([]*Request, reqs), make([][]byte, reqs)
		for i := range rs {
			rs[i], bufs[i] = NewRequest(), make([]byte, 512)
			if err := rs[i].PrepareRead(f, int64(i*512), bufs[i], i); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Submit(rs...); n != reqs || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		seen := make([]bool, reqs)
		out := make([]*Request, 1)
		for got := 0; got < reqs; got++ {
			if n := c.InFlight(); n != reqs-got {
				t.Fatalf("InFlight = %d after %d of %d came back", n, got, reqs)
			}
			n, err := c.Wait(smLongCtx(t), 1, out)
			if n != 1 || err != nil {
				t.Fatalf("Wait %d = %d, %v", got, n, err)
			}
			i := out[0].User().(int)
			if seen[i] {
				t.Fatalf("request %d came back twice", i)
			}
			seen[i] = true
			if n, err := out[0].Result(); n != 512 || err != nil || string(bufs[i]) != string(want[i*512:(i+1)*512]) {
				t.Fatalf("read %d = %d, %v", i, n, err)
			}
		}
		if n, err := c.Wait(smLongCtx(t), 0, out); n != 0 || !errors.Is(err, ErrNoRequests) {
			t.Fatalf("Wait with nothing in flight = %d, %v", n, err)
		}
	})
}

// TestWaitMinAboveOut: Wait with min above len(out), or below 0, is refused
// at once with os.ErrInvalid, leaving what is in flight to a later Wait.
func TestWaitMinAboveOut(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		f, _ := inlineFile(t, 4096)
		rs := smPrepared(t, f, 2)
		if n, err := c.Submit(rs...); n != 2 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		for _, tc := range []struct{ min, out int }{{2, 1}, {1, 0}, {-1, 4}} {
			if n, err := c.Wait(smLongCtx(t), tc.min, make([]*Request, tc.out)); n != 0 || !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("Wait(min %d, len(out) %d) = %d, %v; want 0, os.ErrInvalid", tc.min, tc.out, n, err)
			}
		}
		h3Wait(t, c, rs, 2)
	})
}

// TestMaxRequestsExtremes: MaxRequests 1 takes one request at a time and
// refuses a second with ErrAgain, leaving it Prepared for a later Submit;
// a MaxRequests far above what the system allows is clamped, and the
// context still serves requests.
func TestMaxRequestsExtremes(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		t.Run("one", func(t *testing.T) {
			c := h3Context(t, Config{MaxRequests: 1}, be)
			if c.MaxRequests() != 1 {
				t.Fatalf("MaxRequests() = %d", c.MaxRequests())
			}
			f, _ := inlineFile(t, 4096)
			rs := smPrepared(t, f, 3)
			for done := 0; done < len(rs); done++ {
				n, err := c.Submit(rs[done:]...)
				if n != 1 || (done < len(rs)-1) != errors.Is(err, ErrAgain) {
					t.Fatalf("Submit of %d = %d, %v", len(rs)-done, n, err)
				}
				for _, r := range rs[done+1:] {
					if s := r.State(); s != Prepared {
						t.Fatalf("refused request is %v", s)
					}
				}
				h3Wait(t, c, rs[done:done+1], 1)
			}
		})
		t.Run("huge", func(t *testing.T) {
			c := h3Context(t, Config{MaxRequests: 1 << 40, Workers: 1 << 40}, be)
			if m := c.MaxRequests(); m <= 0 || m > 1<<16 {
				t.Fatalf("MaxRequests() = %d for 1<<40", m)
			}
			f, _ := inlineFile(t, 4096)
			rs := smPrepared(t, f, 64)
			if n, err := c.Submit(rs...); n != 64 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			h3Wait(t, c, rs, 64)
		})
	})
}

// TestEngineOneSlot: an Engine whose Context takes one request at a time
// serves 16 goroutines' WriteAt and ReadAt calls without failing any for
// lack of room.
func TestEngineOneSlot(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			e, err := NewEngine(Config{Backend: be, MaxRequests: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := e.Close(); err != nil {
					t.Errorf("Engine.Close: %v", err)
				}
			}()
			f, err := e.OpenFile(filepath.Join(t.TempDir(), "one"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const callers, size = 16, 1000
			errs := make(chan error, callers)
			for i := range callers {
				go func() {
					data := h3Pattern(i, size)
					if n, err := f.WriteAt(data, int64(i*size)); n != size || err != nil {
						errs <- fmt.Errorf("WriteAt %d = %d, %v", i, n, err)
						return
					}
					got := make([]byte, size)
					if n, err := f.ReadAt(got, int64(i*size)); n != size || err != nil || string(got) != string(data) {
						errs <- fmt.Errorf("ReadAt %d = %d, %v", i, n, err)
						return
					}
					errs <- nil
				}()
			}
			for range callers {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestOpathFile: a file opened O_PATH (no reads or writes at all) fails a
// read and a write with EBADF on every backend, and through File.
func TestOpathFile(t *testing.T) {
	dir := t.TempDir()
	h3DataFile(t, dir, 100, os.O_RDONLY)
	open := func(t *testing.T) *os.File {
		fd, err := unix.Open(filepath.Join(dir, "data"), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Skipf("open O_PATH: %v", err)
		}
		f := os.NewFile(uintptr(fd), "opath")
		t.Cleanup(func() { f.Close() })
		return f
	}
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{MaxRequests: 2}, be)
		f := open(t)
		r := NewRequest()
		if err := r.PrepareRead(f, 0, make([]byte, 10), nil); err != nil {
			t.Fatal(err)
		}
		_, err := h3RunOne(t, c, r)
		h3Errno(t, "read of O_PATH", err, syscall.EBADF)
		if err := r.PrepareWrite(f, 0, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		_, err = h3RunOne(t, c, r)
		h3Errno(t, "write of O_PATH", err, syscall.EBADF)
	})
	t.Run("File", func(t *testing.T) {
		f, err := NewFile(open(t))
		if err != nil {
			t.Skipf("NewFile of an O_PATH file: %v", err)
		}
		if _, err := f.ReadAt(make([]byte, 10), 0); !errors.Is(err, syscall.EBADF) {
			t.Fatalf("File.ReadAt of O_PATH: %v", err)
		}
	})
}

// TestManyBlockedStreamsOneWorker: with Workers: 1, reads of 8 empty pipes
// wait beside 24 reads of /dev/zero, which complete; once the pipes are
// written the reads of them complete, and after Close no goroutine of the
// pool is left, however many the streams made it start.
func TestManyBlockedStreamsOneWorker(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			const pipes, others = 8, 24
			zero, err := os.Open("/dev/zero")
			if err != nil {
				t.Skip(err)
			}
			defer zero.Close()
			ws := make([]*os.File, pipes)
			rs := make([]*Request, pipes+others)
			for i := range rs {
				rs[i] = NewRequest()
				var f *os.File = zero
				if i < pipes {
					f, ws[i] = h3Pipe(t, i%2 == 1)
				}
				if err := rs[i].PrepareRead(f, 0, make([]byte, 64), i); err != nil {
					t.Fatal(err)
				}
			}
			base := runtime.NumGoroutine()
			c, err := NewContext(Config{Backend: be, MaxRequests: pipes + others, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(rs...); n != len(rs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			for _, r := range waitAll(t, c, others) {
				if i := r.User().(int); i < pipes {
					t.Fatalf("read of empty pipe %d completed: %s", i, fmtResult(r))
				}
			}
			for _, w := range ws {
				if _, err := w.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range waitAll(t, c, pipes) {
				if n, err := r.Result(); r.User().(int) >= pipes || n != 1 || err != nil {
					t.Fatalf("pipe read %v = %d, %v", r.User(), n, err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			h3Goroutines(t, base)
		})
	}
}

// h3WritePatterns submits reqs writes to f, write i putting size bytes of
// h3Pattern(i) at i*size, waits for them all, and returns the requests and
// their buffers.
func h3WritePatterns(t *testing.T, c *Context, f *os.File, reqs, size int) ([]*Request, [][]byte) {
	t.Helper()
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
	return rs, data
}

// h3FullWrite checks the Result of write i, of size bytes, into a full
// filesystem (what names it): whole, short with no error, or ENOSPC (kept
// as the errno) having written nothing. It returns the bytes written and
// whether the write was whole.
func h3FullWrite(t *testing.T, what string, i int, r *Request, size int) (int, bool) {
	t.Helper()
	n, err := r.Result()
	switch {
	case err != nil:
		h3Errno(t, what, err, syscall.ENOSPC)
		if n != 0 {
			t.Fatalf("write %d: %d bytes with %v", i, n, err)
		}
	case n <= 0 || n > size:
		t.Fatalf("write %d = %d, nil", i, n)
	}
	return n, err == nil && n == size
}

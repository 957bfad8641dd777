//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
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
// pread (the goroutine engine) fails with ESPIPE at once. io_submit would
// block in an eventfd's read until it is written; KernelBackend must not
// hand it such a file (EOPNOTSUPP), so Submit returns. Afterwards the
// Context closes with no goroutine left.
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
				h3Wait(t, c, []*Request{r}, 1)
				_, err = r.Result()
				want := syscall.ESPIPE
				if be == KernelBackend {
					want = syscall.EOPNOTSUPP
				}
				h3Errno(t, name+" read", err, want)
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
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
			if n := h3Fds(t); n != baseFd {
				t.Fatalf("%d descriptors after Close, %d before NewContext", n, baseFd)
			}
		})
	}
}

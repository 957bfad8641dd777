//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The waiter runs reads the page cache holds itself (help, runInline) and
// must never run one that would wait for the device, nor report a read the
// cache held only in part as a short one. These tests take the goroutine
// engine's workers away (workersOff), so that whatever completes was done
// by the waiter, and give them back to finish the rest.

// inlineBackends are the backends whose goroutine engine serves buffered
// regular files on Linux.
var inlineBackends = []struct {
	name string
	be   Backend
}{{"portable", PortableBackend}, {"default", DefaultBackend}}

// workersOff bounds c's goroutine engine at no workers; before any Submit.
func workersOff(t *testing.T, c *Context) *portableBackend {
	t.Helper()
	g := goroutineEngine(c.be)
	if g == nil {
		t.Fatalf("%s has no goroutine engine", c.Kernel())
	}
	g.mu.Lock()
	g.maxWorkers, g.fast, g.allow = 0, 0, 0
	g.mu.Unlock()
	return g
}

// workersOn gives g its workers back, and starts them for what is queued.
func workersOn(g *portableBackend) {
	g.mu.Lock()
	g.maxWorkers, g.fast, g.allow = 2, 2, 2
	g.staff()
	g.mu.Unlock()
}

// requestsWithBuffers returns n new requests and a buffer of size bytes
// for each.
func requestsWithBuffers(n, size int) ([]*Request, [][]byte) {
	rs, bufs := make([]*Request, n), make([][]byte, n)
	for i := range rs {
		rs[i], bufs[i] = NewRequest(), make([]byte, size)
	}
	return rs, bufs
}

// inlineFile writes size bytes of a pattern to a new file and returns it
// open for reading, with its content.
func inlineFile(t *testing.T, size int) (*os.File, []byte) {
	t.Helper()
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*13 + i>>12)
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, want
}

// dropCache evicts f's pages (written back already, so clean) and turns its
// readahead off, so that only what is read later is cached.
func dropCache(t *testing.T, f *os.File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
		t.Fatal(err)
	}
}

// cachedPrefix is what a read that does not wait gets of f's size bytes at
// 0: the cached prefix, -1 if none.
func cachedPrefix(t *testing.T, f *os.File, size int) int {
	t.Helper()
	buf := make([]byte, size)
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(size)
	n, _, e := unix.Syscall6(unix.SYS_PREADV2, f.Fd(), uintptr(unsafe.Pointer(&iov)), 1, 0, 0, unix.RWF_NOWAIT)
	switch e {
	case 0:
		return int(n)
	case unix.EAGAIN:
		return -1
	}
	t.Skipf("preadv2(RWF_NOWAIT): %v: this kernel or filesystem has no reads that do not wait", e)
	return 0
}

func TestWaiterReadsCachedData(t *testing.T) {
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			const reqs, size = 8, 4096
			f, want := inlineFile(t, reqs*size)
			if n := cachedPrefix(t, f, len(want)); n != len(want) {
				t.Skipf("the page cache holds %d of the %d bytes just written", n, len(want))
			}
			c := benchContext(t, Config{MaxRequests: reqs, Backend: tc.be})
			g := workersOff(t, c)
			rs, bufs := make([]*Request, reqs), make([][]byte, reqs)
			for i := range rs {
				rs[i], bufs[i] = NewRequest(), make([]byte, size)
				if err := rs[i].PrepareRead(f, int64(i*size), bufs[i], i); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != reqs || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := make([]*Request, reqs)
			for got := 0; got < reqs; {
				n, err := c.Wait(ctx, 1, out)
				if err != nil {
					t.Fatalf("Wait with no workers, %d of %d read: %v", got, reqs, err)
				}
				for _, r := range out[:n] {
					i := r.User().(int)
					if n, err := r.Result(); n != size || err != nil {
						t.Fatalf("read %d: Result = %d, %v", i, n, err)
					}
					if !bytes.Equal(bufs[i], want[i*size:(i+1)*size]) {
						t.Fatalf("read %d: wrong data", i)
					}
				}
				got += n
			}
			g.mu.Lock()
			started := g.workers
			g.mu.Unlock()
			if started != 0 {
				t.Fatalf("%d workers started", started)
			}
			if st := c.Stats(); st.Goroutines != reqs {
				t.Fatalf("Stats = %+v, want %d by goroutines", st, reqs)
			}
		})
	}
}

// TestWaiterReadsUncachedWhole: a read of pages not in the cache, or only
// partly in it, is never done in part by the waiter. The read that does
// not wait starts the device's read, so the waiter may find the data later
// and do the read then, whole; else the workers do it.
func TestWaiterReadsUncachedWhole(t *testing.T) {
	for _, tc := range inlineBackends {
		for _, part := range []bool{false, true} {
			name := tc.name + "/cold"
			if part {
				name = tc.name + "/partly-cached"
			}
			t.Run(name, func(t *testing.T) {
				const size = 1 << 20
				f, want := inlineFile(t, size)
				dropCache(t, f)
				if part {
					if _, err := f.ReadAt(make([]byte, 4096), 0); err != nil {
						t.Fatal(err)
					}
				}
				switch n := cachedPrefix(t, f, size); {
				case !part && n != -1:
					t.Skipf("%d bytes still cached after FADV_DONTNEED", n)
				case part && (n <= 0 || n >= size):
					t.Skipf("cached prefix %d after reading 4 KiB of a dropped file, want part of %d", n, size)
				}
				dropCache(t, f) // cachedPrefix may have started reading the rest
				if part {
					if _, err := f.ReadAt(make([]byte, 4096), 0); err != nil {
						t.Fatal(err)
					}
				}
				c := benchContext(t, Config{MaxRequests: 1, Backend: tc.be})
				g := workersOff(t, c)
				r, buf := NewRequest(), make([]byte, size)
				if err := r.PrepareRead(f, 0, buf, nil); err != nil {
					t.Fatal(err)
				}
				if n, err := c.Submit(r); n != 1 || err != nil {
					t.Fatalf("Submit = %d, %v", n, err)
				}
				out := make([]*Request, 1)
				short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				n, err := c.Wait(short, 1, out)
				cancel()
				switch {
				case n == 0 && errors.Is(err, context.DeadlineExceeded):
					if c.InFlight() != 1 {
						t.Fatalf("InFlight = %d, want 1", c.InFlight())
					}
					workersOn(g)
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if n, err := c.Wait(ctx, 1, out); n != 1 || err != nil {
						t.Fatalf("Wait = %d, %v", n, err)
					}
				case n != 1 || err != nil:
					t.Fatalf("Wait with no workers = %d, %v", n, err)
				}
				if n, err := r.Result(); n != size || err != nil {
					t.Fatalf("Result = %d, %v; want %d", n, err, size)
				}
				if !bytes.Equal(buf, want) {
					t.Fatal("wrong data")
				}
			})
		}
	}
}

// TestWaiterRemembersRefusal: a filesystem that refuses reads that do not
// wait (procfs) is remembered, and its files are read by the workers.
func TestWaiterRemembersRefusal(t *testing.T) {
	want, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Skipf("no procfs: %v", err)
	}
	f, err := os.Open("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := benchContext(t, Config{MaxRequests: 1, Backend: PortableBackend})
	r, buf := NewRequest(), make([]byte, len(want)+100)
	if err := r.PrepareRead(f, 0, buf, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]*Request, 1)
	if n, err := c.Wait(ctx, 1, out); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if n, err := r.Result(); n != len(want) || err != nil || !bytes.Equal(buf[:n], want) {
		t.Fatalf("Result = %d, %v, %q; want %q", n, err, buf[:max(n, 0)], want)
	}
	if !r.class.noInline || !noInlineBefore(r.class) {
		t.Fatalf("procfs refused RWF_NOWAIT, yet its class says noInline %v, remembered %v", r.class.noInline, noInlineBefore(r.class))
	}
	if canInline(r) {
		t.Fatal("a request on procfs may still be run by the waiter")
	}
}

// TestWaiterKeepsFilesystemAfterBadOffset: a read the kernel refuses for
// its own sake (EINVAL: offset and length past the largest offset) does not
// mark its filesystem as refusing reads that do not wait.
func TestWaiterKeepsFilesystemAfterBadOffset(t *testing.T) {
	f, _ := inlineFile(t, 4096)
	cachedPrefix(t, f, 4096) // skips where the kernel (or an emulator) refuses the flag
	c := benchContext(t, Config{MaxRequests: 1, Backend: PortableBackend})
	r := NewRequest()
	if err := r.PrepareRead(f, math.MaxInt64-4095, make([]byte, 8192), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := c.Wait(ctx, 1, make([]*Request, 1)); n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if n, err := r.Result(); n != 0 || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Result = %d, %v; want EINVAL", n, err)
	}
	if r.class.noInline || noInlineBefore(r.class) {
		t.Fatal("one bad offset marked the whole filesystem as refusing reads that do not wait")
	}
}

// TestFileRemembersRefusal: a File whose engine learned that its
// filesystem refuses RWF_NOWAIT (procfs) no longer offers its later
// requests for reads that do not wait.
func TestFileRemembersRefusal(t *testing.T) {
	want, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Skipf("no procfs: %v", err)
	}
	e, err := NewEngine(Config{Backend: PortableBackend, MaxRequests: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	of, err := os.Open("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	// Which an earlier test may have taught. The open file's device, not
	// the path's: qemu-user serves this path from a file of its own.
	forgetNoInline(t, of)
	f, err := e.NewFile(of)
	if err != nil {
		of.Close()
		t.Fatal(err)
	}
	defer f.Close()
	if f.engineClass().noInline {
		t.Fatal("a File of a filesystem not known to refuse RWF_NOWAIT starts out refusing it")
	}
	for i := range 2 {
		buf := make([]byte, len(want))
		if n, err := f.ReadAt(buf, 0); n != len(want) || (err != nil && err != io.EOF) || !bytes.Equal(buf, want) {
			t.Fatalf("ReadAt %d = %d, %v, %q; want %q", i, n, err, buf[:n], want)
		}
		if !f.engineClass().noInline {
			t.Fatalf("after ReadAt %d, procfs refused RWF_NOWAIT, yet the File's requests still try it", i)
		}
	}
}

// forgetNoInline makes the process forget, for the rest of the test, that
// the filesystem of f refused RWF_NOWAIT.
func forgetNoInline(t *testing.T, f *os.File) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fdNumber(t, f), &st); err != nil {
		t.Fatal(err)
	}
	dev := uint64(st.Dev)
	noInlineDevs.mu.Lock()
	_, had := noInlineDevs.m[dev]
	delete(noInlineDevs.m, dev)
	noInlineDevs.mu.Unlock()
	t.Cleanup(func() {
		if had {
			markNoInline(fileClass{dev: dev})
		}
	})
}

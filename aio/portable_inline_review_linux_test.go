//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Attacks on the waiter's reads from the page cache (help): what a user can
// do to a request while the waiter runs it, or after it went back to the
// queue, and to its file.

// waitAll waits until want requests came back and returns them, failing on
// a Wait error or after 30 s.
func waitAll(t *testing.T, c *Context, want int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*Request
	out := make([]*Request, 16)
	for len(got) < want {
		n, err := c.Wait(ctx, 1, out)
		got = append(got, out[:n]...)
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", len(got), want, err)
		}
	}
	return got
}

// directBuf is a block-aligned buffer of size bytes, for O_DIRECT.
func directBuf(size int) []byte {
	raw := make([]byte, size+4096)
	off := int(-uintptr(unsafe.Pointer(&raw[0])) & 4095)
	return raw[off : off+size]
}

// TestHelpLeavesKernelCompletions: on DefaultBackend, a waiter that keeps
// finding buffered reads to run itself still reports what the kernel has
// finished. An O_DIRECT read past the end of an empty file finishes within
// io_submit; it must come back while buffered reads keep the waiter busy,
// not only once they stop.
func TestHelpLeavesKernelCompletions(t *testing.T) {
	df := linuxDirectFile(t) // empty
	f, want := inlineFile(t, 4096)
	if n := cachedPrefix(t, f, len(want)); n != len(want) {
		t.Skipf("the page cache holds %d of the %d bytes just written", n, len(want))
	}
	c := benchContext(t, Config{MaxRequests: 4, Backend: DefaultBackend})
	g := workersOff(t, c) // the waiter wins every race for the buffered reads
	direct := NewRequest()
	if err := direct.PrepareRead(df, 0, directBuf(4096), "direct"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(direct); n != 1 || err != nil {
		t.Fatalf("Submit(direct) = %d, %v", n, err)
	}
	if direct.engine != engineKernel {
		t.Skip("the O_DIRECT read did not go to the kernel's AIO")
	}
	buffered, buf := NewRequest(), make([]byte, 4096)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]*Request, 1)
	const rounds = 200
	for round := range rounds {
		if err := buffered.PrepareRead(f, 0, buf, "buffered"); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Submit(buffered); n != 1 || err != nil {
			t.Fatalf("round %d: Submit(buffered) = %d, %v", round, n, err)
		}
		for back := false; !back; {
			n, err := c.Wait(ctx, 1, out)
			if err != nil {
				t.Fatalf("round %d: Wait = %d, %v", round, n, err)
			}
			for _, r := range out[:n] {
				switch r {
				case direct:
					if n, err := r.Result(); n != 0 || err != nil {
						t.Fatalf("direct read past the end: Result = %d, %v", n, err)
					}
					workersOn(g)
					if c.InFlight() > 0 {
						waitAll(t, c, c.InFlight())
					}
					return
				case buffered:
					back = true
				}
			}
		}
	}
	workersOn(g)
	t.Errorf("the kernel's finished read did not come back in %d Waits that each returned a buffered read the waiter ran", rounds)
	waitAll(t, c, 1)
}

// TestCloseRacingClose: of two Closes at once on an idle context, one
// closes it and the other reports it closed; neither says it is busy,
// which the caller would take for requests in flight, a Wait or a Submit.
func TestCloseRacingClose(t *testing.T) {
	for i := range 30000 {
		c, err := NewContext(Config{MaxRequests: 1, Backend: PortableBackend})
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg   sync.WaitGroup
			errs [2]error
			go_  = make(chan struct{})
		)
		for k := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-go_
				errs[k] = c.Close()
			}()
		}
		close(go_)
		wg.Wait()
		nils, closed := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				nils++
			case errors.Is(err, ErrClosed):
				closed++
			}
		}
		if nils != 1 || closed != 1 {
			t.Fatalf("try %d: two Closes at once returned %v and %v; want nil and ErrClosed", i, errs[0], errs[1])
		}
	}
}

// TestCancelAfterHelpGaveBack: a read the waiter could not do from the
// cache goes back to the queue, Submitted; Cancel then cancels it, and it
// comes back once, canceled.
func TestCancelAfterHelpGaveBack(t *testing.T) {
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			const size = 1 << 20
			f, _ := inlineFile(t, size)
			dropCache(t, f)
			if n := cachedPrefix(t, f, size); n != -1 {
				t.Skipf("%d bytes cached after FADV_DONTNEED", n)
			}
			dropCache(t, f)
			c := benchContext(t, Config{MaxRequests: 1, Backend: tc.be})
			g := workersOff(t, c)
			r := NewRequest()
			if err := r.PrepareRead(f, 0, make([]byte, size), nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			n, err := c.Wait(short, 1, make([]*Request, 1))
			cancel()
			if n != 0 {
				t.Skip("the data came into the cache within the Wait")
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait = %d, %v", n, err)
			}
			if err := r.Cancel(); err != nil {
				t.Fatalf("Cancel of a queued read = %v", err)
			}
			workersOn(g)
			got := waitAll(t, c, 1)
			if got[0] != r {
				t.Fatal("another request came back")
			}
			if n, err := r.Result(); n != 0 || !errors.Is(err, ErrCanceled) {
				t.Fatalf("Result = %d, %v; want canceled", n, err)
			}
			if c.InFlight() != 0 {
				t.Fatalf("InFlight = %d", c.InFlight())
			}
			if st := c.Stats(); st.Goroutines != 1 {
				t.Fatalf("Stats = %+v", st)
			}
		})
	}
}

// TestCancelWhileHelping: Cancel from another goroutine while the waiter
// runs reads; each request comes back once, with its data or canceled, and
// Cancel says which (nil: canceled; ErrInProgress or ErrAlreadyCompleted:
// it ran).
func TestCancelWhileHelping(t *testing.T) {
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			const reqs, size, rounds = 32, 4096, 50
			f, want := inlineFile(t, reqs*size)
			if n := cachedPrefix(t, f, len(want)); n != len(want) {
				t.Skipf("cached %d of %d", n, len(want))
			}
			c := benchContext(t, Config{MaxRequests: reqs, Backend: tc.be})
			rs, bufs := make([]*Request, reqs), make([][]byte, reqs)
			for i := range rs {
				rs[i], bufs[i] = NewRequest(), make([]byte, size)
			}
			total := 0
			for round := range rounds {
				for i, r := range rs {
					clear(bufs[i])
					if err := r.PrepareRead(f, int64(i*size), bufs[i], i); err != nil {
						t.Fatal(err)
					}
				}
				if n, err := c.Submit(rs...); n != reqs || err != nil {
					t.Fatalf("Submit = %d, %v", n, err)
				}
				canceled := make([]bool, reqs)
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := reqs - 1; i >= 0; i -= 2 {
						switch err := rs[i].Cancel(); {
						case err == nil:
							canceled[i] = true
						case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted), errors.Is(err, ErrNotSubmitted):
						default:
							t.Errorf("Cancel = %v", err)
						}
					}
				}()
				got := waitAll(t, c, reqs)
				<-done
				total += reqs
				seen := make([]bool, reqs)
				for _, r := range got {
					i := r.User().(int)
					if seen[i] {
						t.Fatalf("round %d: request %d came back twice", round, i)
					}
					seen[i] = true
					n, err := r.Result()
					switch {
					case canceled[i]:
						if !errors.Is(err, ErrCanceled) {
							t.Fatalf("round %d: request %d: Cancel said canceled, Result = %d, %v", round, i, n, err)
						}
					case err != nil || n != size || !bytes.Equal(bufs[i], want[i*size:(i+1)*size]):
						t.Fatalf("round %d: request %d: Result = %d, %v (data ok %v)", round, i, n, err, bytes.Equal(bufs[i], want[i*size:(i+1)*size]))
					}
				}
				if c.InFlight() != 0 {
					t.Fatalf("InFlight = %d", c.InFlight())
				}
			}
			if st := c.Stats(); st.Goroutines != uint64(total) || st.Kernel != 0 {
				t.Fatalf("Stats = %+v, want %d by goroutines", st, total)
			}
		})
	}
}

// TestHelpBatchWithClosedFile: of the reads one help takes, those on a
// file closed since Submit fail with EBADF (also when its descriptor
// number is given to another file), and those on other files are read.
func TestHelpBatchWithClosedFile(t *testing.T) {
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			const size = 4096
			a, _ := inlineFile(t, 4*size)
			b, wantB := inlineFile(t, 4*size)
			other, _ := inlineFile(t, 4*size)
			for _, f := range []*os.File{a, b, other} {
				if n := cachedPrefix(t, f, 4*size); n != 4*size {
					t.Skipf("cached %d of %d", n, 4*size)
				}
			}
			c := benchContext(t, Config{MaxRequests: 8, Backend: tc.be})
			g := workersOff(t, c)
			var rs []*Request
			bufs := map[*Request][]byte{}
			for i := range 8 {
				f, name := a, "a"
				if i%2 == 1 {
					f, name = b, "b"
				}
				r, buf := NewRequest(), make([]byte, size)
				if err := r.PrepareRead(f, int64(i/2*size), buf, name); err != nil {
					t.Fatal(err)
				}
				rs, bufs[r] = append(rs, r), buf
			}
			if n, err := c.Submit(rs...); n != len(rs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			fd := int(a.Fd())
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			// The number goes to another open file.
			if err := unix.Dup2(int(other.Fd()), fd); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := make([]*Request, 8)
			var got []*Request
			n, err := c.Wait(ctx, 1, out)
			if err != nil {
				t.Fatalf("Wait = %d, %v", n, err)
			}
			got = append(got, out[:n]...)
			workersOn(g)
			got = append(got, waitAll(t, c, len(rs)-len(got))...)
			for _, r := range got {
				n, err := r.Result()
				switch r.User() {
				case "a":
					if !errors.Is(err, syscall.EBADF) && !errors.Is(err, os.ErrClosed) {
						t.Errorf("read of the closed file: Result = %d, %v; want EBADF", n, err)
					}
				case "b":
					off := r.off
					if n != size || err != nil || !bytes.Equal(bufs[r], wantB[off:off+size]) {
						t.Errorf("read of the open file in the same batch: Result = %d, %v", n, err)
					}
				}
			}
			if c.InFlight() != 0 {
				t.Fatalf("InFlight = %d", c.InFlight())
			}
		})
	}
}

// TestHelpShortFiles: reads at and past the end of a file, across it, of
// nothing, on tmpfs and ext4, with the waiter alone and then with workers,
// give what pread gives.
func TestHelpShortFiles(t *testing.T) {
	dirs := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "aio-review")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			dirs = append(dirs, d)
		}
	}
	for _, dir := range dirs {
		for _, tc := range inlineBackends {
			t.Run(tc.name+dir, func(t *testing.T) {
				content := bytes.Repeat([]byte("0123456789abcdef"), 700) // 11200 bytes
				path := filepath.Join(dir, "short-"+tc.name)
				if err := os.WriteFile(path, content, 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				type read struct {
					off  int64
					size int
				}
				reads := []read{{0, 100}, {0, 11200}, {0, 16384}, {11100, 4096}, {11200, 4096}, {1 << 20, 4096}, {4096, 0}, {8192, 8192}, {0, 1 << 22}}
				for _, off := range []bool{true, false} {
					c := benchContext(t, Config{MaxRequests: len(reads), Backend: tc.be})
					var g *portableBackend
					if off {
						g = workersOff(t, c)
					}
					rs, bufs := make([]*Request, len(reads)), make([][]byte, len(reads))
					for i, rd := range reads {
						rs[i], bufs[i] = NewRequest(), make([]byte, rd.size)
						if err := rs[i].PrepareRead(f, rd.off, bufs[i], i); err != nil {
							t.Fatal(err)
						}
					}
					if n, err := c.Submit(rs...); n != len(rs) || err != nil {
						t.Fatalf("Submit = %d, %v", n, err)
					}
					var got []*Request
					if off {
						short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
						for {
							out := make([]*Request, len(rs))
							n, err := c.Wait(short, 1, out)
							got = append(got, out[:n]...)
							if err != nil {
								break
							}
						}
						cancel()
						workersOn(g)
					}
					got = append(got, waitAll(t, c, len(rs)-len(got))...)
					for _, r := range got {
						i := r.User().(int)
						rd := reads[i]
						wantN := max(min(int64(rd.size), int64(len(content))-rd.off), 0)
						n, err := r.Result()
						if err != nil || int64(n) != wantN || !bytes.Equal(bufs[i][:n], content[min(rd.off, int64(len(content))):][:n]) {
							t.Errorf("waiter alone %v: read %d bytes at %d: Result = %d, %v; want %d", off, rd.size, rd.off, n, err, wantN)
						}
					}
					if c.InFlight() != 0 {
						t.Fatalf("InFlight = %d", c.InFlight())
					}
				}
			})
		}
	}
}

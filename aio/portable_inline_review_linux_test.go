//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
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
	if c.Kernel() == "portable" {
		t.Skipf("DefaultBackend has no kernel AIO here: %v", c.KernelError())
	}
	g := workersOff(t, c) // the waiter wins every race for the buffered reads
	direct := NewRequest()
	if err := direct.PrepareRead(df, 0, directBuf(4096), "direct"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(direct); n != 1 || err != nil {
		t.Fatalf("Submit(direct) = %d, %v", n, err)
	}
	if direct.engine != engineKernel {
		workersOn(g)
		waitAll(t, c, 1)
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
			rs, bufs := requestsWithBuffers(reqs, size)
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

// TestHelpUnderFire: one goroutine submits reads (cached, cold, past the
// end, of a file dropped from the cache while they run), another cancels
// some and calls Wakeup, while the waiter runs what it can itself. Every
// accepted request comes back exactly once, whole or canceled, and Stats
// and InFlight agree.
func TestHelpUnderFire(t *testing.T) {
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			const reqs, size, rounds = 24, 8192, 40
			f, want := inlineFile(t, reqs*size)
			cold, wantCold := inlineFile(t, reqs*size)
			c := benchContext(t, Config{MaxRequests: reqs, Backend: tc.be})
			rs, bufs := requestsWithBuffers(reqs, size)
			var df *os.File
			if tc.be == DefaultBackend {
				df = linuxDirectFile(t) // empty: reads past its end
			}
			total := 0
			for round := range rounds {
				if round%4 == 0 {
					dropCache(t, cold)
				}
				src := make([][]byte, reqs)
				for i, r := range rs {
					clear(bufs[i])
					var err error
					switch {
					case i%6 == 5 && df != nil:
						bufs[i] = directBuf(size)
						err = r.PrepareRead(df, 0, bufs[i], i)
					case i%3 == 1:
						err, src[i] = r.PrepareRead(cold, int64(i*size), bufs[i], i), wantCold[i*size:(i+1)*size]
					case i%6 == 2:
						err = r.PrepareRead(f, int64(len(want)-size/2), bufs[i], i) // across the end
						src[i] = want[len(want)-size/2:]
					default:
						err, src[i] = r.PrepareRead(f, int64(i*size), bufs[i], i), want[i*size:(i+1)*size]
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				canceled := make([]bool, reqs)
				var wg sync.WaitGroup
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := 0; i < reqs; {
						n, err := c.Submit(rs[i:min(i+5, reqs)]...)
						if err != nil {
							t.Errorf("Submit = %d, %v", n, err)
							return
						}
						i += n
					}
				}()
				go func() {
					defer wg.Done()
					for i := reqs - 1; i >= 0; i -= 3 {
						if i%2 == 0 {
							_ = c.Wakeup()
						}
						switch err := rs[i].Cancel(); {
						case err == nil:
							canceled[i] = true
						case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyCompleted), errors.Is(err, ErrNotSubmitted), errors.Is(err, ErrInvalidState):
						default:
							t.Errorf("Cancel = %v", err)
						}
					}
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				seen := make([]bool, reqs)
				got := 0
				out := make([]*Request, 7)
				for got < reqs {
					n, err := c.Wait(ctx, 1, out)
					switch {
					case err == nil, errors.Is(err, ErrInterrupted):
					case errors.Is(err, ErrNoRequests):
						time.Sleep(time.Millisecond) // the submitter is behind
					default:
						t.Fatalf("round %d: Wait after %d: %v", round, got, err)
					}
					for _, r := range out[:n] {
						i := r.User().(int)
						if seen[i] {
							t.Fatalf("round %d: request %d came back twice", round, i)
						}
						seen[i] = true
						got++
					}
				}
				cancel()
				wg.Wait()
				for i, r := range rs {
					n, err := r.Result()
					switch {
					case canceled[i]:
						if !errors.Is(err, ErrCanceled) {
							t.Fatalf("round %d: request %d: Cancel said canceled, Result = %d, %v", round, i, n, err)
						}
					case errors.Is(err, ErrCanceled):
						t.Fatalf("round %d: request %d canceled, though Cancel did not say so", round, i)
					case src[i] == nil:
						if n != 0 || err != nil {
							t.Fatalf("round %d: request %d past the end: Result = %d, %v", round, i, n, err)
						}
					case err != nil || n != len(src[i]) || !bytes.Equal(bufs[i][:n], src[i]):
						t.Fatalf("round %d: request %d: Result = %d, %v; want %d bytes (data ok %v)", round, i, n, err, len(src[i]), bytes.Equal(bufs[i][:max(n, 0)], src[i][:min(max(n, 0), len(src[i]))]))
					}
				}
				total += reqs
				if c.InFlight() != 0 {
					t.Fatalf("InFlight = %d", c.InFlight())
				}
			}
			if st := c.Stats(); st.Goroutines+st.Kernel != uint64(total) {
				t.Fatalf("Stats = %+v, want %d in all", st, total)
			}
		})
	}
}

// TestCloseRacingSubmit: Close while another goroutine submits and waits
// says ErrBusy, or closes a context no Submit then gets into: every
// request a Submit accepted comes back, and a Submit after the Close that
// succeeded reports ErrClosed.
func TestCloseRacingSubmit(t *testing.T) {
	f, _ := inlineFile(t, 4096)
	busyTotal := 0
	defer func() { t.Logf("Close said ErrBusy %d times", busyTotal) }()
	for try := range 20 {
		c, err := NewContext(Config{MaxRequests: 2, Backend: PortableBackend})
		if err != nil {
			t.Fatal(err)
		}
		closed, started := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, buf := NewRequest(), make([]byte, 512)
			out := make([]*Request, 1)
			for round := 0; ; round++ {
				if round == 1 {
					close(started)
				}
				if err := r.PrepareRead(f, 0, buf, nil); err != nil {
					t.Error(err)
					return
				}
				n, err := c.Submit(r)
				if errors.Is(err, ErrClosed) {
					return
				}
				if n != 1 || err != nil {
					t.Errorf("try %d: Submit = %d, %v", try, n, err)
					return
				}
				select {
				case <-closed:
					t.Errorf("try %d: Submit accepted a request after Close returned nil", try)
				default:
				}
				if n, err := c.Wait(context.Background(), 1, out); n != 1 || err != nil {
					t.Errorf("try %d: Wait = %d, %v", try, n, err)
					return
				}
				if round%64 == 63 {
					runtime.Gosched() // with one P, the waiter may run the read itself and never block
				}
			}
		}()
		<-started
		busy := 0
		for {
			err := c.Close()
			if err == nil {
				close(closed)
				break
			}
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("try %d: Close = %v", try, err)
			}
			busy++
			runtime.Gosched()
		}
		wg.Wait()
		busyTotal += busy
	}
}

// TestHelpHolesInCache: a read of a file whose cached pages have gaps (one
// page in the middle, or all but the last, dropped; readahead off) is never
// reported short by the waiter: it either waits for the workers or comes
// back whole.
func TestHelpHolesInCache(t *testing.T) {
	const page, pages = 4096, 16
	for _, tc := range inlineBackends {
		for _, gap := range []struct {
			name   string
			cached func(p int) bool
		}{
			{"middle", func(p int) bool { return p != 5 }},
			{"last-only", func(p int) bool { return p == pages-1 }},
			{"every-other", func(p int) bool { return p%2 == 0 }},
		} {
			t.Run(tc.name+"/"+gap.name, func(t *testing.T) {
				f, want := inlineFile(t, page*pages)
				dropCache(t, f)
				one := make([]byte, page)
				for p := range pages {
					if gap.cached(p) {
						if _, err := f.ReadAt(one, int64(p*page)); err != nil {
							t.Fatal(err)
						}
					}
				}
				c := benchContext(t, Config{MaxRequests: 3, Backend: tc.be})
				g := workersOff(t, c)
				type read struct{ off, size int }
				reads := []read{{0, page * pages}, {4 * page, 4 * page}, {page * (pages - 2), 2 * page}}
				rs, bufs := make([]*Request, len(reads)), make([][]byte, len(reads))
				for i, rd := range reads {
					rs[i], bufs[i] = NewRequest(), make([]byte, rd.size)
					if err := rs[i].PrepareRead(f, int64(rd.off), bufs[i], i); err != nil {
						t.Fatal(err)
					}
				}
				if n, err := c.Submit(rs...); n != len(rs) || err != nil {
					t.Fatalf("Submit = %d, %v", n, err)
				}
				check := func(r *Request) {
					i := r.User().(int)
					rd := reads[i]
					if n, err := r.Result(); n != rd.size || err != nil || !bytes.Equal(bufs[i], want[rd.off:rd.off+rd.size]) {
						t.Errorf("read of %d bytes at %d: Result = %d, %v; want it whole", rd.size, rd.off, n, err)
					}
				}
				got := 0
				short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				out := make([]*Request, len(rs))
				for {
					n, err := c.Wait(short, 1, out)
					for _, r := range out[:n] {
						check(r)
					}
					got += n
					if err != nil || got == len(rs) {
						break
					}
				}
				cancel()
				workersOn(g)
				for _, r := range waitAll(t, c, len(rs)-got) {
					check(r)
				}
			})
		}
	}
}

// TestHelpManyFiles: one Wait's worth of cached reads on many files, two
// on each, interleaved, all done by the waiter, each with its file's data.
func TestHelpManyFiles(t *testing.T) {
	const files, size = 40, 4096
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			fs, wants := make([]*os.File, files), make([][]byte, files)
			dir := t.TempDir()
			for i := range fs {
				wants[i] = bytes.Repeat([]byte{byte(i)}, 2*size) // each file its own
				path := filepath.Join(dir, "f"+string(rune('a'+i)))
				if err := os.WriteFile(path, wants[i], 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				fs[i] = f
				if n := cachedPrefix(t, f, 2*size); n != 2*size {
					t.Skipf("cached %d of %d", n, 2*size)
				}
			}
			c := benchContext(t, Config{MaxRequests: 2 * files, Backend: tc.be})
			g := workersOff(t, c)
			rs, bufs := make([]*Request, 2*files), make([][]byte, 2*files)
			for i := range rs {
				rs[i], bufs[i] = NewRequest(), make([]byte, size)
				// a0 b0 a1 b1 c0 d0 c1 d1 ...: runs of one file are short
				file := i/4*2 + i%2
				part := i % 4 / 2
				if err := rs[i].PrepareRead(fs[file], int64(part*size), bufs[i], [2]int{file, part}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != len(rs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := make([]*Request, len(rs))
			for got := 0; got < len(rs); {
				n, err := c.Wait(ctx, 1, out)
				if err != nil {
					t.Fatalf("Wait with no workers after %d: %v", got, err)
				}
				for _, r := range out[:n] {
					fp := r.User().([2]int)
					i := slicesIndex(rs, r)
					if n, err := r.Result(); n != size || err != nil || !bytes.Equal(bufs[i], wants[fp[0]][fp[1]*size:(fp[1]+1)*size]) {
						t.Fatalf("file %d part %d: Result = %d, %v", fp[0], fp[1], n, err)
					}
				}
				got += n
			}
			workersOn(g)
			if st := c.Stats(); st.Goroutines != uint64(len(rs)) {
				t.Fatalf("Stats = %+v", st)
			}
		})
	}
}

func slicesIndex(rs []*Request, r *Request) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// TestHelpLargeRead: a 64 MiB read from the cache, and a 64 MiB buffer
// for a 4 KiB file, come back whole (as pread gives them) from the waiter.
func TestHelpLargeRead(t *testing.T) {
	const big = 64 << 20
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			f, want := inlineFile(t, big)
			small, wantSmall := inlineFile(t, 4096)
			c := benchContext(t, Config{MaxRequests: 2, Backend: tc.be})
			g := workersOff(t, c)
			r1, r2 := NewRequest(), NewRequest()
			b1, b2 := make([]byte, big), make([]byte, big)
			if err := r1.PrepareRead(f, 0, b1, nil); err != nil {
				t.Fatal(err)
			}
			if err := r2.PrepareRead(small, 0, b2, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r1, r2); n != 2 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			n, _ := c.Wait(short, 2, make([]*Request, 2))
			cancel()
			workersOn(g)
			waitAll(t, c, 2-n)
			if n, err := r1.Result(); n != big || err != nil || !bytes.Equal(b1, want) {
				t.Errorf("64 MiB read: Result = %d, %v", n, err)
			}
			if n, err := r2.Result(); n != len(wantSmall) || err != nil || !bytes.Equal(b2[:n], wantSmall) {
				t.Errorf("64 MiB buffer on 4 KiB: Result = %d, %v", n, err)
			}
		})
	}
}

// TestHelpFileClosedDuringBatch: a file closed while the waiter and the
// workers read it (perhaps inside the one RawConn call of a batch) fails
// only its own requests, with EBADF or os.ErrClosed, never with wrong data;
// the other file's requests, in the same batches, are read.
func TestHelpFileClosedDuringBatch(t *testing.T) {
	const size, reqs, rounds = 4096, 32, 60
	for _, tc := range inlineBackends {
		t.Run(tc.name, func(t *testing.T) {
			a0, wantA := inlineFile(t, reqs*size)
			b, wantB := inlineFile(t, reqs*size)
			c := benchContext(t, Config{MaxRequests: reqs, Backend: tc.be})
			rs, bufs := requestsWithBuffers(reqs, size)
			failedA := 0
			for round := range rounds {
				a, err := os.Open(a0.Name())
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range rs {
					f := b
					if i/4%2 == 0 { // runs of four on each file
						f = a
					}
					clear(bufs[i])
					if err := r.PrepareRead(f, int64(i*size), bufs[i], f == a); err != nil {
						t.Fatal(err)
					}
				}
				if n, err := c.Submit(rs...); n != reqs || err != nil {
					t.Fatalf("Submit = %d, %v", n, err)
				}
				closed := make(chan struct{})
				go func() {
					defer close(closed)
					for range round % 8 {
						runtime.Gosched()
					}
					a.Close()
				}()
				waitAll(t, c, reqs)
				<-closed
				for i, r := range rs {
					n, err := r.Result()
					onA := r.User().(bool)
					want := wantB[i*size : (i+1)*size]
					if onA {
						want = wantA[i*size : (i+1)*size]
					}
					switch {
					case onA && (errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed)):
						failedA++
					case err != nil || n != size || !bytes.Equal(bufs[i], want):
						t.Fatalf("round %d: request %d (on the closed file %v): Result = %d, %v", round, i, onA, n, err)
					}
				}
			}
			t.Logf("%d reads of the closed file failed", failedA)
		})
	}
}

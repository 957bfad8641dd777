//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Attacks on the concurrency contracts: Files closed (or their Engine, or
// their *os.File) under many calls, concurrent waiters, submitters,
// cancelers and wakers on one Context, a Request offered to two contexts,
// and the garbage collector running while only requests hold the buffers.

const h4Block = 4096

// h4Hang fails t if wg is not done within a generous deadline: a hang guard,
// not a timing assertion.
func h4Hang(t *testing.T, what string, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: calls still blocked after 30 s:\n%s", what, buf[:runtime.Stack(buf, true)])
	}
}

// h4DataFile writes blocks*h4Block bytes of h3Byte's pattern and returns
// its path and contents.
func h4DataFile(t *testing.T, blocks int) (string, []byte) {
	t.Helper()
	want := make([]byte, blocks*h4Block)
	for i := range want {
		want[i] = h3Byte(int64(i))
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, want
}

// h4Open opens path for reading and writing, with O_DIRECT if direct
// (skipping t where the filesystem refuses it).
func h4Open(t *testing.T, path string, direct bool) *os.File {
	t.Helper()
	flag := os.O_RDWR
	if direct {
		flag |= syscall.O_DIRECT
	}
	f, err := os.OpenFile(path, flag, 0)
	if direct && errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s does not take O_DIRECT", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// h4Closed reports whether err is what a call on a closed File, Engine or
// *os.File may return.
func h4Closed(err error) bool {
	return errors.Is(err, os.ErrClosed) || errors.Is(err, ErrClosed)
}

// TestH4FileCloseStopsWrites: once File.Close has returned, no WriteAt
// still changes the file: Close waits for the calls in flight (its
// contract), on every way a File is served. inotify tells whether the file
// was modified after Close returned: every IN_MODIFY of a write that ended
// before is queued by then and drained; one read later came from a write
// that ended after. Every call returns nil or an error matching
// os.ErrClosed.
func TestH4FileCloseStopsWrites(t *testing.T) {
	for _, s := range fileSetups(t) {
		t.Run(s.name, func(t *testing.T) {
			const writers, size = 4, 512 << 10
			for round := 0; round < 5; round++ {
				path := filepath.Join(t.TempDir(), "data")
				if err := os.WriteFile(path, make([]byte, writers*size), 0o600); err != nil {
					t.Fatal(err)
				}
				flag := os.O_RDWR
				if s.direct {
					flag |= O_DIRECT
				}
				f, err := s.open(t, path, flag)
				if s.direct && errors.Is(err, syscall.EINVAL) {
					t.Skipf("O_DIRECT open: %v", err)
				}
				if err != nil {
					t.Fatal(err)
				}
				in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
				if err != nil {
					t.Skipf("inotify: %v", err)
				}
				defer unix.Close(in)
				if _, err := unix.InotifyAddWatch(in, f.Name(), unix.IN_MODIFY); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var wrote atomic.Int64
				for i := range writers {
					wg.Go(func() {
						buf := AlignedBuffer(size)
						copy(buf, bytes.Repeat([]byte{byte(i + 1)}, size))
						for {
							n, err := f.WriteAt(buf, int64(i*size))
							if h4Closed(err) {
								return
							}
							if n != size || err != nil {
								t.Errorf("WriteAt = %d, %v", n, err)
								return
							}
							wrote.Add(1)
						}
					})
				}
				for wrote.Load() < writers {
					runtime.Gosched()
				}
				if err := f.Close(); err != nil {
					t.Fatalf("Close under writes: %v", err)
				}
				before := h4Drain(t, in)
				h4Hang(t, "WriteAt after Close", &wg)
				if after := h4Drain(t, in); after > 0 {
					t.Fatalf("round %d: %d IN_MODIFY events after Close returned (%d before): a write landed after Close", round, after, before)
				}
			}
		})
	}
}

// h4Drain reads every inotify event queued on in and returns their count.
func h4Drain(t *testing.T, in int) int {
	t.Helper()
	buf := make([]byte, 64<<10)
	events := 0
	for {
		n, err := unix.Read(in, buf)
		if errors.Is(err, unix.EAGAIN) {
			return events
		}
		if err != nil {
			t.Fatalf("inotify read: %v", err)
		}
		events += n / unix.SizeofInotifyEvent
	}
}

// h4Closer is one way to pull a File out from under its calls. ebadf: a
// call in flight may fail with EBADF (the descriptor closed behind the
// File's back under a submitted request, the caller's bug by Request's doc).
type h4Closer struct {
	name  string
	close func(t *testing.T, e *Engine, f *File) error
	ebadf bool
}

var h4Closers = []h4Closer{
	{"File.Close", func(t *testing.T, e *Engine, f *File) error { return f.Close() }, false},
	{"Engine.Close", func(t *testing.T, e *Engine, f *File) error { return e.Close() }, false},
	{"os.File.Close", func(t *testing.T, e *Engine, f *File) error { return f.f.Close() }, true},
}

// TestH4CloseUnderCalls: 16 goroutines read and write a File of an Engine
// of its own (some reading with a ctx that ends at random moments) while
// another closes the File, the Engine or the *os.File under them. Every call returns (no hang), with its bytes right or an
// error matching os.ErrClosed or ErrClosed; later calls all fail so; and
// once the File and the Engine are closed, no goroutine and no descriptor
// of theirs is left.
func TestH4CloseUnderCalls(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend, KernelBackend} {
		for _, direct := range []bool{false, true} {
			mode := "buffered"
			if direct {
				mode = "direct"
			}
			for _, cl := range h4Closers {
				t.Run(be.String()+"/"+mode+"/"+cl.name, func(t *testing.T) {
					if be == KernelBackend {
						smSkipWithoutKernelAIO(t, Config{Backend: be})
					}
					h4CloseUnderCalls(t, be, direct, cl)
				})
			}
		}
	}
}

func h4CloseUnderCalls(t *testing.T, be Backend, direct bool, cl h4Closer) {
	const workers, blocks = 16, 32
	path, want := h4DataFile(t, blocks)
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), h3Fds(t)
	e, err := NewEngine(Config{Backend: be, MaxRequests: 8})
	if err != nil {
		t.Fatal(err)
	}
	flag := os.O_RDWR
	if direct {
		flag |= O_DIRECT
	}
	f, err := e.OpenFile(path, flag, 0)
	if direct && errors.Is(err, syscall.EINVAL) {
		e.Close()
		t.Skipf("%s does not take O_DIRECT", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for i := range workers {
		wg.Go(func() {
			buf := AlignedBuffer(h4Block)
			for k := 0; ; k++ {
				off := int64((i*7+k)%(blocks/2)) * h4Block
				var n int
				var err error
				switch {
				case i%4 == 2:
					// A read whose ctx ends at a random moment: it gives up
					// once the kernel has let go of buf, and the loop goes on.
					ctx, cancel := context.WithCancel(context.Background())
					go func() { runtime.Gosched(); cancel() }()
					n, err = f.ReadAtContext(ctx, buf, off)
					cancel()
					if errors.Is(err, context.Canceled) {
						continue
					}
				case i%2 == 0:
					n, err = f.ReadAt(buf, off)
				default:
					// Writes go to the second half with the bytes it already
					// holds, so that reads of either half check the pattern.
					off += blocks / 2 * h4Block
					copy(buf, want[off:])
					n, err = f.WriteAt(buf, off)
				}
				if err != nil {
					if !h4Closed(err) && !(cl.ebadf && errors.Is(err, syscall.EBADF)) {
						t.Errorf("call %d of %d at %d: %d, %v, want nil or closed", k, i, off, n, err)
					}
					failed.Add(1)
					return
				}
				if n != h4Block || (i%2 == 0 && !bytes.Equal(buf, want[off:off+h4Block])) {
					t.Errorf("call %d of %d at %d: %d bytes, right %v", k, i, off, n, bytes.Equal(buf, want[off:off+h4Block]))
					return
				}
				ok.Add(1)
			}
		})
	}
	for ok.Load() < workers {
		runtime.Gosched()
	}
	if err := cl.close(t, e, f); err != nil {
		t.Fatalf("%s under calls: %v", cl.name, err)
	}
	h4Hang(t, cl.name, &wg)
	if n := failed.Load(); n != workers {
		t.Fatalf("%d of %d goroutines ended on an error", n, workers)
	}
	if _, err := f.ReadAt(make([]byte, h4Block), 0); !h4Closed(err) {
		t.Errorf("ReadAt after %s = %v, want closed", cl.name, err)
	}
	var pe *os.PathError
	if _, err := f.WriteAt(make([]byte, h4Block), 0); !h4Closed(err) || !errors.As(err, &pe) {
		t.Errorf("WriteAt after %s = %#v, want a *os.PathError matching closed", cl.name, err)
	}
	f.Close()
	if err := e.Close(); err != nil && err != ErrClosed {
		t.Errorf("Engine.Close after %s: %v", cl.name, err)
	}
	h3Goroutines(t, goroutines)
	if n := h3Fds(t); n > fds {
		t.Errorf("%d descriptors open after closing, %d before", n, fds)
	}
}

// TestH4TwoFilesOneOSFile: two Files made of one *os.File (which NewFile
// says to give to one only). Closing the first closes the descriptor; the
// second's calls then fail with os.ErrClosed (or EBADF, for one submitted
// as the descriptor closed), none hangs, and its Close reports
// os.ErrClosed.
func TestH4TwoFilesOneOSFile(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend, KernelBackend} {
		for _, direct := range []bool{false, true} {
			t.Run(be.String()+"/"+map[bool]string{false: "buffered", true: "direct"}[direct], func(t *testing.T) {
				if be == KernelBackend {
					smSkipWithoutKernelAIO(t, Config{Backend: be})
				}
				path, want := h4DataFile(t, 4)
				osf := h4Open(t, path, direct)
				e := testEngine(t, Config{Backend: be})
				a, err := e.NewFile(osf)
				if err != nil {
					t.Fatal(err)
				}
				b, err := e.NewFile(osf)
				if err != nil {
					t.Fatal(err)
				}
				buf := AlignedBuffer(h4Block)
				if n, err := b.ReadAt(buf, h4Block); n != h4Block || err != nil || !bytes.Equal(buf, want[h4Block:2*h4Block]) {
					t.Fatalf("ReadAt of the second File = %d, %v", n, err)
				}
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						buf := AlignedBuffer(h4Block)
						for {
							if _, err := b.ReadAt(buf, 0); err != nil {
								if !errors.Is(err, os.ErrClosed) && !errors.Is(err, syscall.EBADF) {
									t.Errorf("ReadAt of the second File after the first closed: %v", err)
								}
								return
							}
						}
					})
				}
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				h4Hang(t, "second File's calls", &wg)
				if err := b.Close(); !errors.Is(err, os.ErrClosed) {
					t.Errorf("Close of the second File = %v, want os.ErrClosed", err)
				}
			})
		}
	}
}

// TestH4TwoWaiters: two goroutines Wait on one Context at once. Only one
// may wait at a time: the other is refused with ErrBusy, at once and with
// nothing taken; between them every request comes back exactly once.
func TestH4TwoWaiters(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		const reqs = 64
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		path, want := h4DataFile(t, reqs)
		f := h4Open(t, path, false)
		rs := make([]*Request, reqs)
		for i := range rs {
			rs[i] = NewRequest()
			if err := rs[i].PrepareRead(f, int64(i*h4Block), make([]byte, h4Block), i); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := c.Submit(rs...); n != reqs || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		var mu sync.Mutex
		seen := make([]int, reqs)
		var busy atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				out := make([]*Request, 3)
				for c.InFlight() > 0 {
					n, err := c.Wait(smLongCtx(t), 1, out)
					mu.Lock()
					for _, r := range out[:n] {
						seen[r.User().(int)]++
					}
					mu.Unlock()
					switch {
					case errors.Is(err, ErrBusy):
						if n != 0 {
							t.Errorf("a refused Wait returned %d requests", n)
						}
						busy.Add(1)
						runtime.Gosched()
					case errors.Is(err, ErrNoRequests):
						return
					case err != nil:
						t.Errorf("Wait: %v", err)
						return
					}
				}
			})
		}
		h4Hang(t, "two waiters", &wg)
		for i, k := range seen {
			if k != 1 {
				t.Fatalf("request %d came back %d times", i, k)
			}
			if n, err := rs[i].Result(); n != h4Block || err != nil || !bytes.Equal(rs[i].buf, want[i*h4Block:(i+1)*h4Block]) {
				t.Fatalf("request %d = %d, %v", i, n, err)
			}
		}
		t.Logf("%d Waits refused with ErrBusy", busy.Load())
	})
}

// TestH4SubmitStorm: 8 goroutines submit reads of a buffered and an
// O_DIRECT file (so that DefaultBackend serves them with both engines),
// while one goroutine waits, two cancel requests at random and one calls
// Wakeup over and over. Every accepted request comes back exactly once, to
// the waiter, with the bytes of its block or ErrCanceled; Wakeups end
// Waits with ErrInterrupted and nothing lost.
func TestH4SubmitStorm(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		const submitters, perSubmitter, rounds, blocks = 8, 4, 20, 64
		c := h3Context(t, Config{MaxRequests: 16, WaitWithoutPending: true}, be)
		path, want := h4DataFile(t, blocks)
		files := []*os.File{h4Open(t, path, false), h4Open(t, path, true)}
		type slot struct {
			r         *Request
			back      chan struct{}
			submitted atomic.Int64
			returned  atomic.Int64
		}
		slots := make([]*slot, submitters*perSubmitter)
		for i := range slots {
			slots[i] = &slot{r: NewRequest(), back: make(chan struct{}, 1)}
		}
		var total atomic.Int64 // accepted submissions
		var stop atomic.Bool
		var helpers sync.WaitGroup
		for range 2 {
			helpers.Go(func() {
				for !stop.Load() {
					s := slots[rand.IntN(len(slots))]
					err := s.r.Cancel()
					if err != nil && !errors.Is(err, ErrNotSubmitted) && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrAlreadyCompleted) {
						t.Errorf("Cancel: %v", err)
					}
					runtime.Gosched()
				}
			})
		}
		helpers.Go(func() {
			for !stop.Load() {
				if err := c.Wakeup(); err != nil {
					t.Errorf("Wakeup: %v", err)
				}
				runtime.Gosched()
			}
		})
		var delivered atomic.Int64
		waiterDone := make(chan struct{})
		go func() {
			defer close(waiterDone)
			out := make([]*Request, 8)
			ctx := smLongCtx(t)
			for !stop.Load() || delivered.Load() < total.Load() {
				n, err := c.Wait(ctx, 1, out)
				for _, r := range out[:n] {
					s := slots[r.User().(int)]
					s.returned.Add(1)
					delivered.Add(1)
					s.back <- struct{}{}
				}
				if err != nil && !errors.Is(err, ErrInterrupted) {
					t.Errorf("Wait: %v", err)
					return
				}
			}
		}()
		var canceled, read atomic.Int64
		var subs sync.WaitGroup
		for g := range submitters {
			subs.Go(func() {
				buf := directBuf(perSubmitter * h4Block)
				for k := range rounds {
					mine := slots[g*perSubmitter : (g+1)*perSubmitter]
					for j, s := range mine {
						blk := rand.IntN(blocks)
						b := buf[j*h4Block : (j+1)*h4Block]
						clear(b)
						if err := s.r.PrepareRead(files[(g+j+k)%2], int64(blk*h4Block), b, g*perSubmitter+j); err != nil {
							t.Errorf("Prepare: %v", err)
							return
						}
						for {
							n, err := c.Submit(s.r)
							if n == 1 {
								s.submitted.Add(1)
								total.Add(1)
								break
							}
							if !errors.Is(err, ErrAgain) {
								t.Errorf("Submit = %d, %v", n, err)
								return
							}
							runtime.Gosched()
						}
					}
					for j, s := range mine {
						select {
						case <-s.back:
						case <-time.After(30 * time.Second):
							t.Errorf("request %d not back after 30 s", g*perSubmitter+j)
							return
						}
						n, err := s.r.Result()
						b := buf[j*h4Block : (j+1)*h4Block]
						off := s.r.off
						switch {
						case errors.Is(err, ErrCanceled) && n == 0:
							canceled.Add(1)
						case err == nil && n == h4Block && bytes.Equal(b, want[off:off+h4Block]):
							read.Add(1)
						default:
							t.Errorf("request %d at %d = %d, %v; bytes right %v", g*perSubmitter+j, off, n, err, bytes.Equal(b, want[off:off+h4Block]))
							return
						}
					}
				}
			})
		}
		subs.Wait()
		stop.Store(true)
		helpers.Wait()
		c.Wakeup()
		select {
		case <-waiterDone:
		case <-time.After(30 * time.Second):
			t.Fatalf("waiter still in Wait with %d of %d delivered", delivered.Load(), total.Load())
		}
		for i, s := range slots {
			if s.submitted.Load() != s.returned.Load() {
				t.Errorf("request %d submitted %d times, returned %d", i, s.submitted.Load(), s.returned.Load())
			}
		}
		if n := c.InFlight(); n != 0 {
			t.Errorf("InFlight = %d at the end", n)
		}
		t.Logf("%d read, %d canceled; %+v", read.Load(), canceled.Load(), c.Stats())
	})
}

// h4Other is a backend other than be, for a second context.
func h4Other(be Backend) Backend {
	if be == PortableBackend {
		return DefaultBackend
	}
	return PortableBackend
}

// TestH4RequestTwoContexts: a Request goes to context A, comes back, and is
// reused on B. Offered to B while in flight on A, alone or in a batch, it
// is refused with ErrInProgress, B taking nothing, and A still returns it
// exactly once. Submitted to A and B at once, exactly one takes it.
func TestH4RequestTwoContexts(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		a := h3Context(t, Config{}, be)
		b := h3Context(t, Config{}, h4Other(be))
		path, want := h4DataFile(t, 4)
		f := h4Open(t, path, false)
		r, r2 := NewRequest(), NewRequest()
		buf := make([]byte, h4Block)
		for i, c := range []*Context{a, b} {
			clear(buf)
			if err := r.PrepareRead(f, int64(i*h4Block), buf, i); err != nil {
				t.Fatal(err)
			}
			if n, err := h3RunOne(t, c, r); n != h4Block || err != nil || !bytes.Equal(buf, want[i*h4Block:(i+1)*h4Block]) {
				t.Fatalf("read on context %d = %d, %v", i, n, err)
			}
		}

		if err := r.PrepareRead(f, 0, buf, nil); err != nil {
			t.Fatal(err)
		}
		if err := r2.PrepareRead(f, h4Block, make([]byte, h4Block), nil); err != nil {
			t.Fatal(err)
		}
		if n, err := a.Submit(r); n != 1 || err != nil {
			t.Fatalf("Submit to A = %d, %v", n, err)
		}
		if n, err := b.Submit(r); n != 0 || !errors.Is(err, ErrInProgress) {
			t.Fatalf("Submit to B of a request in flight on A = %d, %v, want ErrInProgress", n, err)
		}
		if n, err := b.Submit(r2, r); n != 0 || !errors.Is(err, ErrInProgress) {
			t.Fatalf("Submit to B of a batch holding a request in flight on A = %d, %v, want ErrInProgress", n, err)
		}
		if s := r2.State(); s != Prepared || b.InFlight() != 0 {
			t.Fatalf("after the refused batch: the other request %v, B's InFlight %d", s, b.InFlight())
		}
		if n, err := r.Result(); n != 0 || !errors.Is(err, ErrInProgress) {
			t.Fatalf("Result while in flight = %d, %v", n, err)
		}
		h4DrainOne(t, a, r, want[:h4Block], buf)
		if n, err := b.Wait(smLongCtx(t), 0, make([]*Request, 1)); n != 0 || !errors.Is(err, ErrNoRequests) {
			t.Fatalf("Wait on B = %d, %v, want ErrNoRequests", n, err)
		}

		for i := range 100 {
			clear(buf)
			if err := r.PrepareRead(f, 0, buf, nil); err != nil {
				t.Fatal(err)
			}
			var accepted [2]int
			var errs [2]error
			var wg sync.WaitGroup
			for k, c := range []*Context{a, b} {
				wg.Go(func() { accepted[k], errs[k] = c.Submit(r) })
			}
			wg.Wait()
			if accepted[0]+accepted[1] != 1 {
				t.Fatalf("round %d: Submit to A and B at once accepted %v (%v)", i, accepted, errs)
			}
			winner, loser := a, b
			if accepted[1] == 1 {
				winner, loser = b, a
			}
			if err := errs[1-accepted[1]]; !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrInvalidState) {
				t.Fatalf("round %d: the refused Submit: %v, want ErrInProgress or ErrInvalidState", i, err)
			}
			if loser.InFlight() != 0 {
				t.Fatalf("round %d: the refusing context has %d in flight", i, loser.InFlight())
			}
			h4DrainOne(t, winner, r, want[:h4Block], buf)
		}
	})
}

// h4DrainOne waits for r on c, checks that only it comes back, once, with
// buf holding want, and that c then has nothing in flight.
func h4DrainOne(t *testing.T, c *Context, r *Request, want, buf []byte) {
	t.Helper()
	got := h3Wait(t, c, []*Request{r}, 1)
	if len(got) != 1 {
		t.Fatalf("%d requests back, want 1", len(got))
	}
	if n, err := r.Result(); n != len(want) || err != nil || !bytes.Equal(buf, want) {
		t.Fatalf("read = %d, %v", n, err)
	}
}

// h4GCRead submits a read of block blk into a buffer only the request
// holds, and drops the request: only c refers to it.
func h4GCRead(t *testing.T, c *Context, f *os.File, blk int) {
	r := NewRequest()
	if err := r.PrepareRead(f, int64(blk*h4Block), AlignedBuffer(h4Block), blk); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
}

// h4GCWrite submits a write of block blk's pattern from a buffer only the
// request holds, and drops the request.
func h4GCWrite(t *testing.T, c *Context, f *os.File, blk int, want []byte) {
	r := NewRequest()
	b := AlignedBuffer(h4Block)
	copy(b, want[blk*h4Block:])
	if err := r.PrepareWrite(f, int64(blk*h4Block), b, blk); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
}

// TestH4GCPressure: 64 reads and 64 writes are in flight with buffers, and
// requests, that nothing but the Context refers to, while another goroutine
// runs the collector over and over and allocates garbage of the buffers'
// size filled with 0xEE. Every read comes back with its block's bytes and
// every write's bytes reach the file: no buffer was freed and reused under
// the kernel.
func TestH4GCPressure(t *testing.T) {
	h3ForEachModeAndBackend(t, func(t *testing.T, direct bool, be Backend) {
		const half = 64
		c := h3Context(t, Config{MaxRequests: 2 * half}, be)
		path, want := h4DataFile(t, 2*half)
		f := h4Open(t, path, direct)
		// The second half is zeroed; the writes put the pattern back.
		if _, err := h4Open(t, path, false).WriteAt(make([]byte, half*h4Block), half*h4Block); err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		var gc sync.WaitGroup
		gc.Go(func() {
			var keep [][]byte
			for !stop.Load() {
				runtime.GC()
				for range 16 {
					g := make([]byte, h4Block)
					for i := range g {
						g[i] = 0xEE
					}
					keep = append(keep, g)
				}
				if len(keep) > 256 {
					keep = keep[:0]
				}
			}
		})
		for i := range half {
			h4GCRead(t, c, f, i)
			h4GCWrite(t, c, f, half+i, want)
			if i%16 == 0 {
				runtime.GC()
			}
		}
		got := waitAll(t, c, 2*half)
		stop.Store(true)
		gc.Wait()
		seen := map[int]bool{}
		for _, r := range got {
			blk := r.User().(int)
			if seen[blk] {
				t.Fatalf("block %d came back twice", blk)
			}
			seen[blk] = true
			if n, err := r.Result(); n != h4Block || err != nil {
				t.Fatalf("block %d: %d, %v", blk, n, err)
			}
			if r.op == opRead && !bytes.Equal(r.buf, want[blk*h4Block:(blk+1)*h4Block]) {
				t.Fatalf("block %d read wrong bytes (first %#x)", blk, r.buf[0])
			}
		}
		back, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, want) {
			for i := range back {
				if back[i] != want[i] {
					t.Fatalf("file differs from byte %d (block %d): %#x, want %#x", i, i/h4Block, back[i], want[i])
				}
			}
		}
	})
}

// TestH4WakeupsCoalesce: Wakeups from 8 goroutines before a Wait end that
// one Wait with ErrInterrupted, and the next Wait is not interrupted: it
// ends by its ctx, or with the request in flight.
func TestH4WakeupsCoalesce(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{WaitWithoutPending: true}, be)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					if err := c.Wakeup(); err != nil {
						t.Errorf("Wakeup: %v", err)
					}
				}
			})
		}
		wg.Wait()
		out := make([]*Request, 1)
		if n, err := c.Wait(smLongCtx(t), 1, out); n != 0 || !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Wait after Wakeups = %d, %v, want ErrInterrupted", n, err)
		}
		path, want := h4DataFile(t, 1)
		r := NewRequest()
		buf := make([]byte, h4Block)
		if err := r.PrepareRead(h4Open(t, path, false), 0, buf, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Submit(r); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		if n, err := c.Wait(smLongCtx(t), 1, out); n != 1 || err != nil || out[0] != r {
			t.Fatalf("Wait after the interrupted one = %d, %v", n, err)
		}
		if n, err := r.Result(); n != h4Block || err != nil || !bytes.Equal(buf, want) {
			t.Fatalf("read = %d, %v", n, err)
		}
	})
}

// TestH4WaitCtxEnds: while 16 reads complete, Waits take turns with a ctx
// already canceled, one another goroutine cancels at a random moment, and
// one never done: what a Wait returns with ctx.Err() is kept, and across
// the Waits every request comes back exactly once.
func TestH4WaitCtxEnds(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		const reqs, rounds = 16, 50
		c := h3Context(t, Config{MaxRequests: reqs}, be)
		path, want := h4DataFile(t, reqs)
		f := h4Open(t, path, false)
		rs, bufs := requestsWithBuffers(reqs, h4Block)
		out := make([]*Request, 4)
		ended := 0
		for round := range rounds {
			for i, r := range rs {
				clear(bufs[i])
				if err := r.PrepareRead(f, int64(i*h4Block), bufs[i], i); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(rs...); n != reqs || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			seen := make([]int, reqs)
			for got, k := 0, 0; got < reqs; k++ {
				ctx, cancel := context.WithCancel(context.Background())
				switch k % 3 {
				case 0:
					cancel()
				case 1:
					go func() { runtime.Gosched(); cancel() }()
				}
				n, err := c.Wait(ctx, len(out), out)
				cancel()
				for _, r := range out[:n] {
					seen[r.User().(int)]++
				}
				got += n
				switch {
				case errors.Is(err, context.Canceled):
					ended++
				case err != nil && !(errors.Is(err, ErrNoRequests) && got == reqs):
					t.Fatalf("round %d: Wait = %d, %v", round, n, err)
				}
			}
			for i, k := range seen {
				if k != 1 {
					t.Fatalf("round %d: request %d came back %d times", round, i, k)
				}
				if n, err := rs[i].Result(); n != h4Block || err != nil || !bytes.Equal(bufs[i], want[i*h4Block:(i+1)*h4Block]) {
					t.Fatalf("round %d: request %d = %d, %v", round, i, n, err)
				}
			}
		}
		t.Logf("%d Waits ended by their ctx", ended)
	})
}

// TestH4PrepareRaces: two goroutines prepare one request for different
// blocks while a third submits it, again and again. Every Prepare either
// succeeds or fails with ErrInProgress or ErrInvalidState; a Submit that
// takes the request sees one Prepare whole: the request comes back once
// with the bytes of the block its offset names, in the buffer prepared with
// that offset.
func TestH4PrepareRaces(t *testing.T) {
	h3ForEachBackend(t, func(t *testing.T, be Backend) {
		c := h3Context(t, Config{}, be)
		path, want := h4DataFile(t, 2)
		f := h4Open(t, path, false)
		bufs := [2][]byte{make([]byte, h4Block), make([]byte, h4Block)}
		r := NewRequest()
		submitted := 0
		for round := range 200 {
			clear(bufs[0])
			clear(bufs[1])
			var wg sync.WaitGroup
			for k := range 2 {
				wg.Go(func() {
					err := r.PrepareRead(f, int64(k*h4Block), bufs[k], k)
					if err != nil && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrInvalidState) {
						t.Errorf("round %d: Prepare: %v", round, err)
					}
				})
			}
			var n int
			var serr error
			wg.Go(func() {
				for r.State() == Idle || r.State() == Completed {
					runtime.Gosched()
				}
				n, serr = c.Submit(r)
			})
			wg.Wait()
			if n == 0 {
				if !errors.Is(serr, ErrInvalidState) {
					t.Fatalf("round %d: refused Submit: %v", round, serr)
				}
				if r.State() == Prepared {
					if n, serr = c.Submit(r); n != 1 {
						t.Fatalf("round %d: Submit after the Prepares = %d, %v", round, n, serr)
					}
				}
			}
			if n == 0 {
				continue
			}
			submitted++
			h3Wait(t, c, []*Request{r}, 1)
			k := int(r.off / h4Block)
			if r.User() != k || &r.buf[0] != &bufs[k][0] {
				t.Fatalf("round %d: offset %d with the user value %v and another buffer", round, r.off, r.User())
			}
			if got, err := r.Result(); got != h4Block || err != nil || !bytes.Equal(bufs[k], want[k*h4Block:(k+1)*h4Block]) {
				t.Fatalf("round %d: read of block %d = %d, %v", round, k, got, err)
			}
		}
		if submitted == 0 {
			t.Fatal("no round submitted the request")
		}
	})
}

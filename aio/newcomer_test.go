package aio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// This file uses the package as its documentation describes it, the way a
// program new to it would: a storage server's goroutines sharing Files,
// an event loop draining a Context, and the edges an io.ReaderAt user
// relies on, checked against *os.File.

// patternBlock fills b with the content block i of a test file holds.
func patternBlock(b []byte, i int) {
	for j := range b {
		b[j] = byte(i*7 + j%251)
	}
}

// fileOpener opens a File one way the package offers.
type fileOpener struct {
	name string
	open func(t *testing.T, path string, flag int) *aio.File
}

// fileOpeners are the package's ways to make a File: the shared engine, an
// Engine of each backend, and an Engine with room for a single request
// (calls then wait for room, never fail for lack of it).
func fileOpeners() []fileOpener {
	withEngine := func(cfg aio.Config) func(*testing.T, string, int) *aio.File {
		return func(t *testing.T, path string, flag int) *aio.File {
			e, err := aio.NewEngine(cfg)
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
			return f
		}
	}
	return []fileOpener{
		{"shared", func(t *testing.T, path string, flag int) *aio.File {
			f, err := aio.OpenFile(path, flag, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}},
		{"engine-default", withEngine(aio.Config{})},
		{"engine-portable", withEngine(aio.Config{Backend: aio.PortableBackend})},
		{"engine-1-slot", withEngine(aio.Config{MaxRequests: 1})},
	}
}

// storageServer runs the pattern of a block store on f: writers fill
// blocks blocks of bs bytes from many goroutines at once (some with
// WritevAt), one Sync, then readers check every block (some with ReadvAt)
// while others read the same blocks.
func storageServer(t *testing.T, f *aio.File, bs, blocks int, buffer func(int) []byte) {
	t.Helper()
	const goroutines = 16
	run := func(do func(block int) error) {
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				for i := g; i < blocks; i += goroutines {
					if err := do(i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run(func(i int) error {
		b := buffer(bs)
		patternBlock(b, i)
		off := int64(i * bs)
		var n int
		var err error
		if i%3 == 0 {
			n, err = f.WritevAt([][]byte{b[:bs/2], b[bs/2:]}, off)
		} else {
			n, err = f.WriteAt(b, off)
		}
		if n != bs || err != nil {
			return fmt.Errorf("write block %d: %d, %v", i, n, err)
		}
		return nil
	})
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := f.DataSync(); err != nil {
		t.Fatalf("DataSync: %v", err)
	}
	want := make([]byte, bs)
	var wantMu sync.Mutex
	run(func(i int) error {
		b := buffer(bs)
		var n int
		var err error
		if i%4 == 1 {
			n, err = f.ReadvAt([][]byte{b[:bs/2], b[bs/2:]}, int64(i*bs))
		} else {
			n, err = f.ReadAt(b, int64(i*bs))
		}
		// The last block ends at the end of the file: io.ReaderAt allows
		// io.EOF with a full read there.
		if n != bs || (err != nil && !(err == io.EOF && i == blocks-1)) {
			return fmt.Errorf("read block %d: %d, %v", i, n, err)
		}
		wantMu.Lock()
		defer wantMu.Unlock()
		patternBlock(want, i)
		if !bytes.Equal(b, want) {
			return fmt.Errorf("block %d reads back other bytes than were written", i)
		}
		return nil
	})
	fi, err := f.Stat()
	if err != nil || fi.Size() != int64(bs*blocks) {
		t.Errorf("Stat after the writes: %v, %v; want size %d", fi, err, bs*blocks)
	}
}

func TestNewcomerStorageServer(t *testing.T) {
	for _, o := range fileOpeners() {
		t.Run(o.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "blocks")
			f := o.open(t, path, os.O_RDWR|os.O_CREATE|os.O_EXCL)
			storageServer(t, f, 4096, 96, func(n int) []byte { return make([]byte, n) })
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestNewcomerReadAtLikeOSFile: a File answers every ReadAt, ReadvAt and
// WriteAt edge as *os.File does (the documentation promises io.ReaderAt and
// io.WriterAt): zero-length buffers, reads that reach or pass the end,
// negative offsets; and an io.SectionReader over it reads the whole file.
func TestNewcomerReadAtLikeOSFile(t *testing.T) {
	const size = 10000
	content := make([]byte, size)
	patternBlock(content, 3)
	cases := []struct {
		len int
		off int64
	}{
		{0, 0}, {0, size}, {0, 1 << 40}, {0, -1},
		{100, 0}, {4096, 8192}, {size, 0}, {size + 1, 0}, {1, size - 1},
		{1, size}, {4096, size}, {4096, 1 << 40}, {4096, -4096},
	}
	for _, o := range fileOpeners() {
		t.Run(o.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			ref, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			f := o.open(t, path, os.O_RDWR)
			defer f.Close()
			for _, c := range cases {
				want := make([]byte, c.len)
				wn, werr := ref.ReadAt(want, c.off)
				got := make([]byte, c.len)
				gn, gerr := f.ReadAt(got, c.off)
				if gn != wn || (gerr == nil) != (werr == nil) || (gerr == io.EOF) != (werr == io.EOF) || !bytes.Equal(got[:gn], want[:wn]) {
					t.Errorf("ReadAt(len %d, off %d) = %d, %v; *os.File: %d, %v", c.len, c.off, gn, gerr, wn, werr)
				}
				if gerr != nil && gerr != io.EOF {
					var pe *os.PathError
					if !errors.As(gerr, &pe) {
						t.Errorf("ReadAt(len %d, off %d): error %v (%T), want an *os.PathError", c.len, c.off, gerr, gerr)
					}
				}
				// ReadvAt is ReadAt into the buffers' concatenation.
				clear(got)
				vn, verr := f.ReadvAt([][]byte{got[:c.len/3], got[c.len/3:]}, c.off)
				if vn != wn || (verr == nil) != (werr == nil) || (verr == io.EOF) != (werr == io.EOF) || !bytes.Equal(got[:vn], want[:wn]) {
					t.Errorf("ReadvAt(len %d in two, off %d) = %d, %v; *os.File's ReadAt: %d, %v", c.len, c.off, vn, verr, wn, werr)
				}
			}
			for _, off := range []int64{-1, -4096} {
				n, err := f.WriteAt([]byte("x"), off)
				var pe *os.PathError
				if n != 0 || !errors.As(err, &pe) {
					t.Errorf("WriteAt at %d: %d, %v; want 0 and an *os.PathError", off, n, err)
				}
			}
			if n, err := f.WriteAt(nil, size+100); n != 0 || err != nil {
				t.Errorf("WriteAt(nil) past the end: %d, %v; want 0, nil", n, err)
			}
			if fi, err := f.Stat(); err != nil || fi.Size() != size {
				t.Errorf("a zero-length WriteAt past the end changed the size: %v, %v", fi, err)
			}
			all, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
			if err != nil || !bytes.Equal(all, content) {
				t.Errorf("io.ReadAll(io.NewSectionReader(File)): %d bytes, %v; want the file's %d", len(all), err, size)
			}
		})
	}
}

// TestNewcomerClosedFile: after Close every method fails with an
// *os.PathError matching os.ErrClosed, and so does a second Close.
func TestNewcomerClosedFile(t *testing.T) {
	for _, o := range fileOpeners() {
		t.Run(o.name, func(t *testing.T) {
			f := o.open(t, filepath.Join(t.TempDir(), "f"), os.O_RDWR|os.O_CREATE)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 512)
			_, statErr := f.Stat()
			_, ctxErr := f.ReadAtContext(context.Background(), b, 0)
			for name, err := range map[string]error{
				"ReadAt":           second(f.ReadAt(b, 0)),
				"WriteAt":          second(f.WriteAt(b, 0)),
				"ReadvAt":          second(f.ReadvAt([][]byte{b}, 0)),
				"WritevAt":         second(f.WritevAt([][]byte{b}, 0)),
				"ReadAtContext":    ctxErr,
				"WriteAtContext":   second(f.WriteAtContext(context.Background(), b, 0)),
				"Sync":             f.Sync(),
				"DataSync":         f.DataSync(),
				"Stat":             statErr,
				"a second Close":   f.Close(),
				"a zero-byte Read": second(f.ReadAt(nil, 0)),
			} {
				var pe *os.PathError
				if !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) {
					t.Errorf("%s after Close: %v (%T), want an *os.PathError matching os.ErrClosed", name, err, err)
				}
			}
		})
	}
}

func second(_ int, err error) error { return err }

// TestNewcomerClosedEngine: once its Engine is closed, a File's calls fail
// with an error matching ErrClosed, the File still closes, a second
// Engine.Close is ErrClosed, and the Engine makes no more Files.
func TestNewcomerClosedEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := aio.NewEngine(aio.Config{Backend: aio.PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Engine.Close: %v", err)
	}
	if _, err := f.ReadAt(make([]byte, 512), 0); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("ReadAt on a closed Engine's File: %v, want ErrClosed", err)
	}
	if err := f.Sync(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Sync on a closed Engine's File: %v, want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("File.Close after Engine.Close: %v", err)
	}
	if err := e.Close(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("second Engine.Close: %v, want ErrClosed", err)
	}
	created := filepath.Join(filepath.Dir(path), "created")
	if g, err := e.OpenFile(created, os.O_RDWR|os.O_CREATE, 0o600); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("OpenFile on a closed Engine: File %t, %v; want an error matching ErrClosed", g != nil, err)
		if g != nil {
			g.Close()
		}
	}
	if _, err := os.Stat(created); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFile with O_CREATE on a closed Engine created the file: %v", err)
	}
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	if g, err := e.NewFile(osf); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("NewFile on a closed Engine: File %t, %v; want an error matching ErrClosed", g != nil, err)
	}
	if _, err := osf.Stat(); err != nil {
		t.Errorf("a refused NewFile did not leave the *os.File open: %v", err)
	}
}

// TestNewcomerContextLoop is an event loop on the Context API: more reads
// than MaxRequests, submitted as room allows (ErrAgain leaves the rest
// Prepared), Wait draining them; each request comes back exactly once with
// its bytes, then Close succeeds and the closed Context refuses everything.
func TestNewcomerContextLoop(t *testing.T) {
	const bs, blocks = 512, 40
	content := make([]byte, bs*blocks)
	for i := range blocks {
		patternBlock(content[i*bs:(i+1)*bs], i)
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, backend := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(backend.String(), func(t *testing.T) {
			c, err := aio.NewContext(aio.Config{MaxRequests: 4, Backend: backend})
			if err != nil {
				t.Fatal(err)
			}
			pending := make([]*aio.Request, blocks)
			bufs := make([][]byte, blocks)
			index := make([]int, blocks)
			for i := range pending {
				bufs[i], index[i] = make([]byte, bs), i
				pending[i] = aio.NewRequest()
				if err := pending[i].PrepareRead(f, int64(i*bs), bufs[i], &index[i]); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[*aio.Request]int{}
			out := make([]*aio.Request, 4)
			for len(pending) > 0 || c.InFlight() > 0 {
				if len(pending) > 0 {
					_, err := c.Submit(pending...)
					if err != nil && !errors.Is(err, aio.ErrAgain) {
						t.Fatalf("Submit: %v", err)
					}
					pending = slicesDeleteSubmitted(pending)
				}
				n, err := c.Wait(context.Background(), 1, out)
				if err != nil {
					t.Fatalf("Wait: %d, %v", n, err)
				}
				for _, r := range out[:n] {
					seen[r]++
					got, err := r.Result()
					i := *r.User().(*int)
					if got != bs || err != nil || r.State() != aio.Completed {
						t.Errorf("read %d: %d, %v, %v", i, got, err, r.State())
					}
					if !bytes.Equal(bufs[i], content[i*bs:(i+1)*bs]) {
						t.Errorf("read %d got other bytes", i)
					}
				}
			}
			if len(seen) != blocks {
				t.Errorf("%d distinct requests came back, want %d", len(seen), blocks)
			}
			for r, k := range seen {
				if k != 1 {
					t.Errorf("request %p came back %d times", r, k)
				}
			}
			if st := c.Stats(); st.Kernel+st.Goroutines != blocks {
				t.Errorf("Stats %+v, want %d requests in all", st, blocks)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			r := aio.NewRequest()
			if err := r.PrepareRead(f, 0, make([]byte, bs), nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 0 || !errors.Is(err, aio.ErrClosed) || r.State() != aio.Prepared {
				t.Errorf("Submit on a closed Context: %d, %v, %v; want 0, ErrClosed, Prepared", n, err, r.State())
			}
			if _, err := c.Wait(context.Background(), 0, out); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Wait on a closed Context: %v, want ErrClosed", err)
			}
			if err := c.Wakeup(); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Wakeup on a closed Context: %v, want ErrClosed", err)
			}
			if err := c.Close(); !errors.Is(err, aio.ErrClosed) {
				t.Errorf("second Close: %v, want ErrClosed", err)
			}
		})
	}
}

// slicesDeleteSubmitted drops the requests Submit accepted: they are not
// always a prefix, so each one's State decides.
func slicesDeleteSubmitted(reqs []*aio.Request) []*aio.Request {
	kept := reqs[:0]
	for _, r := range reqs {
		if r.State() == aio.Prepared {
			kept = append(kept, r)
		}
	}
	return kept
}

// TestNewcomerRequestEdges: what the Context API does with reads at and
// past the end, zero-length buffers, misuse of a request's life cycle and
// Wait's arguments.
func TestNewcomerRequestEdges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := aio.NewContext(aio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make([]*aio.Request, 2)
	do := func(r *aio.Request) (int, error) {
		t.Helper()
		if _, err := c.Submit(r); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if n, err := c.Wait(context.Background(), 1, out); n != 1 || err != nil {
			t.Fatalf("Wait: %d, %v", n, err)
		}
		return r.Result()
	}

	r := aio.NewRequest()
	if _, err := r.Result(); !errors.Is(err, aio.ErrNotSubmitted) {
		t.Errorf("Result of an Idle request: %v, want ErrNotSubmitted", err)
	}
	if err := r.Cancel(); !errors.Is(err, aio.ErrNotSubmitted) {
		t.Errorf("Cancel of an Idle request: %v, want ErrNotSubmitted", err)
	}
	for _, c := range []struct {
		len  int
		off  int64
		want int
	}{{0, 0, 0}, {0, 5000, 0}, {100, 950, 50}, {100, 1000, 0}, {100, 1 << 40, 0}} {
		if err := r.PrepareRead(f, c.off, make([]byte, c.len), nil); err != nil {
			t.Fatal(err)
		}
		if n, err := do(r); n != c.want || err != nil {
			t.Errorf("read of %d at %d: %d, %v; want %d, nil", c.len, c.off, n, err, c.want)
		}
	}
	if err := r.Cancel(); !errors.Is(err, aio.ErrAlreadyCompleted) {
		t.Errorf("Cancel of a Completed request: %v, want ErrAlreadyCompleted", err)
	}
	if n, err := c.Submit(r); n != 0 || !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("Submit of a Completed request: %d, %v; want ErrInvalidState", n, err)
	}
	if err := r.PrepareRead(f, -1, make([]byte, 10), nil); !errors.Is(err, syscall.EINVAL) || r.State() == aio.Prepared {
		t.Errorf("PrepareRead at -1: %v, %v; want EINVAL, not Prepared", err, r.State())
	}
	if err := r.PrepareRead(nil, 0, make([]byte, 10), nil); err == nil {
		t.Error("PrepareRead of a nil *os.File succeeded")
	}
	if n, err := c.Submit(nil); n != 0 || !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("Submit(nil): %d, %v; want ErrInvalidState", n, err)
	}

	// A write on a file opened read-only fails in Result with EBADF.
	if err := r.PrepareWrite(f, 0, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := do(r); n != 0 || !errors.Is(err, syscall.EBADF) {
		t.Errorf("write on a read-only file: %d, %v; want EBADF", n, err)
	}

	// Wait's min must lie in [0, len(out)].
	if err := r.PrepareRead(f, 0, make([]byte, 10), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(r); err != nil {
		t.Fatal(err)
	}
	if err := r.PrepareRead(f, 0, make([]byte, 10), nil); !errors.Is(err, aio.ErrInProgress) {
		t.Errorf("Prepare of a Submitted request: %v, want ErrInProgress", err)
	}
	for _, min := range []int{-1, len(out) + 1} {
		if n, err := c.Wait(context.Background(), min, out); n != 0 || !errors.Is(err, os.ErrInvalid) {
			t.Errorf("Wait(min %d, len(out) %d): %d, %v; want an error matching os.ErrInvalid", min, len(out), n, err)
		}
	}
	if n, err := c.Wait(context.Background(), 1, out); n != 1 || err != nil {
		t.Fatalf("Wait: %d, %v", n, err)
	}
}

// TestNewcomerWaitDoneCtxCollectsReady: a Wait whose ctx is already done
// still returns the requests that have completed ("min 0: whatever is
// ready now"; "n > 0 with an error is possible, so handle out[:n]
// first"). A shutdown loop draining with the server's canceled ctx,
//
//	for c.InFlight() > 0 { n, _ := c.Wait(ctx, 0, out); handle(out[:n]) }
//
// otherwise never collects anything and spins for ever.
func TestNewcomerWaitDoneCtxCollectsReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, make([]byte, 1<<16), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, backend := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(backend.String(), func(t *testing.T) {
			c, err := aio.NewContext(aio.Config{Backend: backend})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const reads = 4
			for i := range reads {
				r := aio.NewRequest()
				if err := r.PrepareRead(f, int64(i)*512, make([]byte, 512), nil); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Submit(r); err != nil {
					t.Fatal(err)
				}
			}
			// Reads of a cached file finish within microseconds; give them
			// a second, asking the done-ctx Wait for them all along.
			out := make([]*aio.Request, reads)
			got, lastErr := 0, error(nil)
			for start := time.Now(); got < reads && time.Since(start) < time.Second; time.Sleep(5 * time.Millisecond) {
				var n int
				n, lastErr = c.Wait(done, 0, out)
				got += n
			}
			if got < reads {
				n, err := c.Wait(context.Background(), reads-got, out)
				t.Errorf("Wait with a done ctx collected %d of %d completed reads in 1s (last: %v); "+
					"a Wait with context.Background then returned %d, %v at once", got, reads, lastErr, n, err)
			}
		})
	}
}

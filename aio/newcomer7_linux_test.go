//go:build linux && !fbsdmodel

package aio_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// nc7Block is one guest block of the VM disk of TestNewcomer7VMDisk: its
// lock orders the calls on it, and want holds what the last write that
// reported its bytes put there.
type nc7Block struct {
	mu   sync.Mutex
	want []byte
}

// nc7Pattern fills p with a stamp of block, writer and sequence number, so
// that a block read back names the write that put it there.
func nc7Pattern(p []byte, block, writer, seq int) {
	binary.LittleEndian.PutUint32(p[0:], uint32(block))
	binary.LittleEndian.PutUint32(p[4:], uint32(writer))
	binary.LittleEndian.PutUint32(p[8:], uint32(seq))
	for i := 12; i < len(p); i++ {
		p[i] = byte(block*31 + writer*7 + seq + i)
	}
}

// nc7Stamp describes the stamp at the start of a block, for messages.
func nc7Stamp(p []byte) string {
	return fmt.Sprintf("block %d writer %d seq %d", binary.LittleEndian.Uint32(p[0:]),
		binary.LittleEndian.Uint32(p[4:]), binary.LittleEndian.Uint32(p[8:]))
}

// TestNewcomer7VMDisk is a VM disk back end: 16 goroutines doing random
// 4 KiB O_DIRECT reads and writes with AlignedBuffer, some under short
// deadlines, with periodic DataSync, and the File closed while calls may
// still be running. A write's n says what landed: all of p when n is
// len(p), whatever its error; nothing when n is 0. The file must end as
// the model of those writes says, and every read must see the model.
func TestNewcomer7VMDisk(t *testing.T) {
	t.Run("shared engine", func(t *testing.T) { nc7VMDisk(t, aio.OpenFile) })
	// One engine per disk, with room for fewer requests than there are
	// goroutines: calls wait in its queue, and deadlines end some there.
	t.Run("own engine", func(t *testing.T) {
		e, err := aio.NewEngine(aio.Config{MaxRequests: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := e.Close(); err != nil {
				t.Errorf("Engine.Close: %v", err)
			}
		}()
		nc7VMDisk(t, e.OpenFile)
	})
}

// nc7VMDisk is TestNewcomer7VMDisk on a File that open makes.
func nc7VMDisk(t *testing.T, open func(string, int, os.FileMode) (*aio.File, error)) {
	const (
		bs      = 4096
		nblocks = 256
		workers = 16
	)
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, make([]byte, nblocks*bs), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := open(path, os.O_RDWR|aio.O_DIRECT, 0)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s refuses O_DIRECT", filepath.Dir(path))
	}
	if err != nil {
		t.Fatal(err)
	}
	if k := f.Kernel(); k != "linux-aio" && k != "goroutines" && (linuxAIOBuilt || k != "direct") {
		t.Errorf("an O_DIRECT File's Kernel is %q, want an engine", k)
	}
	blocks := make([]nc7Block, nblocks)
	for i := range blocks {
		blocks[i].want = make([]byte, bs)
	}

	var (
		closing    atomic.Bool
		ops        atomic.Int64
		ctxErrs    atomic.Int64
		closedErrs atomic.Int64
		// landedWithErr counts writes that came back with an error and
		// all their bytes.
		landedWithErr atomic.Int64
		wg            sync.WaitGroup
	)
	// checkErr accepts the errors this program expects: a done ctx, or
	// the File closed under it (once Close has begun). Anything else fails.
	checkErr := func(op string, err error, withCtx bool) (stop bool) {
		switch {
		case err == nil:
			return false
		case withCtx && errors.Is(err, context.DeadlineExceeded):
			ctxErrs.Add(1)
			return false
		case errors.Is(err, os.ErrClosed):
			if !closing.Load() {
				t.Errorf("%s: %v before Close", op, err)
			}
			var pe *os.PathError
			if !errors.As(err, &pe) {
				t.Errorf("%s after Close: %T %v, want an *os.PathError", op, err, err)
			}
			closedErrs.Add(1)
			return true
		default:
			t.Errorf("%s: unexpected error %v", op, err)
			return true
		}
	}
	worker := func(id int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(id), 7))
		buf := aio.AlignedBuffer(bs)
		for seq := 1; ; seq++ {
			if seq%64 == 0 {
				if err := f.DataSync(); checkErr("DataSync", err, false) {
					return
				}
			}
			b := rng.IntN(nblocks)
			off := int64(b) * bs
			withCtx := rng.IntN(4) == 0
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if withCtx {
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(50))*time.Microsecond)
			}
			blk := &blocks[b]
			blk.mu.Lock()
			var n int
			var err error
			if rng.IntN(2) == 0 {
				nc7Pattern(buf, b, id, seq)
				if withCtx {
					n, err = f.WriteAtContext(ctx, buf, off)
				} else {
					n, err = f.WriteAt(buf, off)
				}
				if err == nil && n != bs {
					t.Errorf("WriteAt block %d: n %d with no error", b, n)
				}
				copy(blk.want, buf[:n])
				if err != nil && n == bs {
					landedWithErr.Add(1)
				}
			} else {
				clear(buf)
				if withCtx {
					n, err = f.ReadAtContext(ctx, buf, off)
				} else {
					n, err = f.ReadAt(buf, off)
				}
				if err == nil && n != bs {
					t.Errorf("ReadAt block %d: n %d with no error", b, n)
				}
				if !bytes.Equal(buf[:n], blk.want[:n]) {
					t.Errorf("ReadAt block %d (n %d, err %v): got %s, want %s", b, n, err,
						nc7Stamp(buf), nc7Stamp(blk.want))
				}
			}
			blk.mu.Unlock()
			cancel()
			ops.Add(1)
			if checkErr(fmt.Sprintf("call on block %d", b), err, withCtx) {
				return
			}
		}
	}
	wg.Add(workers)
	for id := range workers {
		go worker(id)
	}
	for ops.Load() < 4000 {
		time.Sleep(time.Millisecond)
	}
	closing.Store(true)
	if err := f.Close(); err != nil {
		t.Fatalf("Close with calls running: %v", err)
	}
	wg.Wait()
	t.Logf("%d calls, %d ended by their deadline, %d refused after Close, %d writes landed with an error",
		ops.Load(), ctxErrs.Load(), closedErrs.Load(), landedWithErr.Load())
	if closedErrs.Load() != workers {
		t.Errorf("%d workers stopped on ErrClosed, want all %d", closedErrs.Load(), workers)
	}

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != nblocks*bs {
		t.Fatalf("disk is %d bytes, want %d", len(got), nblocks*bs)
	}
	for b := range blocks {
		if g := got[b*bs : (b+1)*bs]; !bytes.Equal(g, blocks[b].want) {
			t.Errorf("block %d holds %s, want %s", b, nc7Stamp(g), nc7Stamp(blocks[b].want))
		}
	}

	// After Close: every call fails with an *os.PathError matching
	// os.ErrClosed, and the File still has its name.
	buf := aio.AlignedBuffer(bs)
	for name, call := range map[string]func() error{
		"ReadAt":   func() error { _, err := f.ReadAt(buf, 0); return err },
		"WriteAt":  func() error { _, err := f.WriteAt(buf, 0); return err },
		"DataSync": f.DataSync,
		"Sync":     f.Sync,
		"Close":    f.Close,
		"Stat":     func() error { _, err := f.Stat(); return err },
	} {
		err := call()
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", name, err)
		}
	}
	if f.Name() != path {
		t.Errorf("Name after Close: %q, want %q", f.Name(), path)
	}
}

// TestNewcomer7WAL is a write-ahead log appender on the Context/Request
// API with DefaultBackend: batches of 4 KiB records appended to a file,
// buffered or O_DIRECT, more per batch than the context takes at once (ErrAgain:
// wait and submit the rest), some canceled (and appended again when the
// cancel took), each batch made durable by a data sync submitted once its
// writes have completed, as PrepareFlush's doc asks outside FreeBSD.
func TestNewcomer7WAL(t *testing.T) {
	t.Run("buffered", func(t *testing.T) { nc7WAL(t, 0) })
	t.Run("O_DIRECT", func(t *testing.T) { nc7WAL(t, aio.O_DIRECT) })
}

// nc7WAL is TestNewcomer7WAL on a log opened with flag.
func nc7WAL(t *testing.T, flag int) {
	const (
		rec     = 4096
		batch   = 24
		batches = 12
		maxReqs = 8
	)
	path := filepath.Join(t.TempDir(), "wal")
	log, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|flag, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s refuses O_DIRECT", filepath.Dir(path))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	c, err := aio.NewContext(aio.Config{MaxRequests: maxReqs, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxRequests() != maxReqs {
		t.Fatalf("MaxRequests %d, want %d", c.MaxRequests(), maxReqs)
	}

	reqs := make([]*aio.Request, batch)
	bufs := make([][]byte, batch)
	for i := range reqs {
		reqs[i] = aio.NewRequest()
		bufs[i] = aio.AlignedBuffer(rec)
	}
	out := make([]*aio.Request, batch)
	var completed, canceled, cancelLate uint64
	// wait collects at least one completion, and fails the test on any
	// error but ErrCanceled, which it returns to be appended again.
	wait := func(ctx context.Context) (again []*aio.Request) {
		n, err := c.Wait(ctx, 1, out)
		if err != nil {
			t.Fatalf("Wait: %v (n %d)", err, n)
		}
		for _, r := range out[:n] {
			completed++
			if r.State() != aio.Completed {
				t.Fatalf("Wait returned a request in state %v", r.State())
			}
			got, err := r.Result()
			if errors.Is(err, aio.ErrCanceled) {
				if !errors.Is(err, syscall.ECANCELED) {
					t.Errorf("ErrCanceled %v does not match ECANCELED", err)
				}
				canceled++
				again = append(again, r)
				continue
			}
			if r.User() == nil { // the batch's sync, checked by its caller
				continue
			}
			if err != nil || got != rec {
				t.Fatalf("append %v: %d, %v", r.User(), got, err)
			}
		}
		return again
	}

	var lsn uint64
	for b := range batches {
		base := int64(b) * batch * rec
		for i, r := range reqs {
			lsn++
			nc7Pattern(bufs[i], b, i, int(lsn))
			if err := r.PrepareWrite(log, base+int64(i)*rec, bufs[i], &bufs[i]); err != nil {
				t.Fatal(err)
			}
		}
		pending := reqs
		cancels := 0
		for len(pending) > 0 {
			n, err := c.Submit(pending...)
			if err != nil && !errors.Is(err, aio.ErrAgain) {
				t.Fatalf("Submit: %v", err)
			}
			if errors.Is(err, aio.ErrAgain) && !errors.Is(err, syscall.EAGAIN) {
				t.Errorf("ErrAgain %v does not match EAGAIN", err)
			}
			if n > maxReqs {
				t.Fatalf("Submit took %d, more than MaxRequests %d", n, maxReqs)
			}
			// In one batch of three, cancel the last request the first
			// two Submits took.
			if n > 0 && b%3 == 0 && cancels < 2 {
				cancels++
				for i := len(pending) - 1; i >= 0; i-- {
					if pending[i].State() != aio.Submitted {
						continue
					}
					switch err := pending[i].Cancel(); {
					case err == nil:
					case errors.Is(err, aio.ErrInProgress), errors.Is(err, aio.ErrAlreadyCompleted):
						cancelLate++
					default:
						t.Fatalf("Cancel: %v", err)
					}
					break
				}
			}
			var rest []*aio.Request
			for _, r := range pending {
				if r.State() == aio.Prepared {
					rest = append(rest, r)
				}
			}
			if len(rest) != len(pending)-n {
				t.Fatalf("Submit reported %d taken of %d, %d still Prepared", n, len(pending), len(rest))
			}
			if c.InFlight() > 0 {
				for _, r := range wait(context.Background()) {
					// The cancel took: append the record again.
					buf := r.User().(*[]byte)
					i := slicesIndex(bufs, *buf)
					if err := r.PrepareWrite(log, base+int64(i)*rec, *buf, buf); err != nil {
						t.Fatal(err)
					}
					rest = append(rest, r)
				}
			}
			pending = rest
		}
		for c.InFlight() > 0 {
			for _, r := range wait(context.Background()) {
				buf := r.User().(*[]byte)
				i := slicesIndex(bufs, *buf)
				if err := r.PrepareWrite(log, base+int64(i)*rec, *buf, buf); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Submit(r); err != nil {
					t.Fatalf("Submit again: %v", err)
				}
			}
		}

		// Every write of the batch has completed: now the sync.
		syncReq := reqs[0]
		if err := syncReq.PrepareDataSync(log, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(syncReq); err != nil {
			t.Fatalf("Submit sync: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if again := wait(ctx); len(again) != 0 {
			t.Fatalf("the sync was canceled")
		}
		cancel()
		if n, err := syncReq.Result(); err != nil || n != 0 {
			t.Fatalf("sync: %d, %v", n, err)
		}
	}

	// The log holds every record, in order, read through another open.
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != batches*batch*rec {
		t.Fatalf("log is %d bytes, want %d", len(got), batches*batch*rec)
	}
	want := make([]byte, rec)
	lsn = 0
	for b := range batches {
		for i := range batch {
			lsn++
			nc7Pattern(want, b, i, int(lsn))
			off := (b*batch + i) * rec
			if g := got[off : off+rec]; !bytes.Equal(g, want) {
				t.Fatalf("record %d holds %s, want %s", lsn, nc7Stamp(g), nc7Stamp(want))
			}
		}
	}

	st := c.Stats()
	t.Logf("stats %+v: %d completions, %d canceled, %d cancels too late", st, completed, canceled, cancelLate)
	if st.Kernel+st.Goroutines != completed {
		t.Errorf("Stats %+v count %d requests, Wait returned %d", st, st.Kernel+st.Goroutines, completed)
	}

	// A context with a request in flight refuses Close; drained, it closes,
	// and then refuses everything with ErrClosed.
	r := aio.NewRequest()
	if err := r.PrepareRead(log, 0, aio.AlignedBuffer(rec), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(r); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); !errors.Is(err, aio.ErrBusy) {
		t.Errorf("Close with a request in flight: %v, want ErrBusy", err)
	}
	if n, err := c.Wait(context.Background(), 1, out); err != nil || n != 1 || out[0] != r {
		t.Fatalf("Wait: %d, %v", n, err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.PrepareRead(log, 0, aio.AlignedBuffer(rec), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(r); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}
	if r.State() != aio.Prepared {
		t.Errorf("request refused by a closed context is %v, want Prepared", r.State())
	}
	if _, err := c.Wait(context.Background(), 0, out); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Wait after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
}

// slicesIndex returns the index of the buffer of bufs that starts where b does.
func slicesIndex(bufs [][]byte, b []byte) int {
	for i := range bufs {
		if &bufs[i][0] == &b[0] {
			return i
		}
	}
	panic("buffer not found")
}

// nc7ReadAll reads f from 0 with ReadAt in chunks of size until io.EOF, as
// a server copying a file out would, checking io.ReaderAt's contract.
func nc7ReadAll(f *aio.File, size int) ([]byte, error) {
	var all []byte
	p := make([]byte, size)
	for off := int64(0); ; off += int64(size) {
		n, err := f.ReadAt(p, off)
		if n < len(p) && err == nil {
			return all, fmt.Errorf("ReadAt at %d: %d of %d bytes with no error", off, n, len(p))
		}
		all = append(all, p[:n]...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// TestNewcomer7SmallFiles is a server reading many small buffered files
// with ReadAt from 64 goroutines while another goroutine truncates some and
// deletes others: a read sees a prefix of the file's bytes and ends with
// io.EOF, and an open of a deleted file fails with an *os.PathError
// matching os.ErrNotExist.
func TestNewcomer7SmallFiles(t *testing.T) {
	const (
		nfiles  = 200
		readers = 64
		rounds  = 40
	)
	dir := t.TempDir()
	contents := make([][]byte, nfiles)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range contents {
		contents[i] = make([]byte, rng.IntN(3*4096))
		for j := range contents[i] {
			contents[i][j] = byte(i ^ j*13)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), contents[i], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var reads, gone atomic.Int64
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // the mutator: truncate files 0, 3, 6, ..., delete 1, 4, 7, ...
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		size := make([]int, nfiles)
		for k := range size {
			size[k] = len(contents[k])
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			k := rng.IntN(nfiles)
			name := filepath.Join(dir, fmt.Sprint(k))
			switch k % 3 {
			case 0:
				// Only shrink: growing again would fill with zeros.
				size[k] = rng.IntN(size[k] + 1)
				if err := os.Truncate(name, int64(size[k])); err != nil {
					t.Errorf("truncate: %v", err)
				}
			case 1:
				if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("remove: %v", err)
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var rwg sync.WaitGroup
	rwg.Add(readers)
	for id := range readers {
		go func() {
			defer rwg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 5))
			for range rounds {
				k := rng.IntN(nfiles)
				name := filepath.Join(dir, fmt.Sprint(k))
				f, err := aio.OpenFile(name, os.O_RDONLY, 0)
				if err != nil {
					var pe *os.PathError
					if k%3 != 1 || !errors.Is(err, os.ErrNotExist) || !errors.As(err, &pe) || pe.Path != name {
						t.Errorf("open %s: %v", name, err)
					}
					gone.Add(1)
					continue
				}
				got, err := nc7ReadAll(f, 1+rng.IntN(5000))
				if err != nil {
					t.Errorf("read %s: %v", name, err)
				}
				want := contents[k]
				if k%3 == 2 && !bytes.Equal(got, want) || !bytes.HasPrefix(want, got) {
					t.Errorf("read %s: %d bytes, not a prefix of its %d", name, len(got), len(want))
				}
				reads.Add(1)
				if err := f.Close(); err != nil {
					t.Errorf("close %s: %v", name, err)
				}
			}
		}()
	}
	rwg.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d files read, %d opens of deleted files", reads.Load(), gone.Load())
	if reads.Load()+gone.Load() != readers*rounds {
		t.Errorf("%d reads and %d refused opens, want %d in all", reads.Load(), gone.Load(), readers*rounds)
	}
}

// TestNewcomer7SharedIndex: one buffered File that the server's 64
// goroutines read at once, closed while they do: each read returns the
// file's bytes, or fails with an *os.PathError matching os.ErrClosed and
// reads nothing, and once any goroutine has seen the refusal every later
// call of it is refused.
func TestNewcomer7SharedIndex(t *testing.T) {
	const readers = 64
	path := filepath.Join(t.TempDir(), "index")
	want := make([]byte, 64<<10)
	for i := range want {
		want[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := aio.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var reads, refused atomic.Int64
	var wg sync.WaitGroup
	wg.Add(readers)
	for id := range readers {
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 9))
			p := make([]byte, 512)
			for {
				off := rng.Int64N(int64(len(want) - len(p)))
				clear(p)
				n, err := f.ReadAt(p, off)
				if err != nil {
					var pe *os.PathError
					if n != 0 || !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) || pe.Path != path {
						t.Errorf("ReadAt at %d: %d, %v; want 0 and an *os.PathError of %s matching os.ErrClosed", off, n, err, path)
					}
					refused.Add(1)
					if _, err := f.ReadAt(p, 0); !errors.Is(err, os.ErrClosed) {
						t.Errorf("ReadAt after a refusal: %v, want os.ErrClosed", err)
					}
					return
				}
				if !bytes.Equal(p, want[off:off+int64(len(p))]) {
					t.Errorf("ReadAt at %d: wrong bytes", off)
				}
				reads.Add(1)
			}
		}()
	}
	for reads.Load() < 20000 {
		time.Sleep(time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close while read: %v", err)
	}
	wg.Wait()
	t.Logf("%d reads before Close", reads.Load())
	if refused.Load() != readers {
		t.Errorf("%d goroutines saw the refusal, want %d", refused.Load(), readers)
	}
}

// TestNewcomer7Streams: a pipe and /dev/null through NewFile, and a File
// used after Close. ReadAt and WriteAt on a pipe fail as *os.File's do
// (ESPIPE: a pipe has no offsets); /dev/null reads io.EOF and takes every
// write.
func TestNewcomer7Streams(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	// What *os.File says of a positioned read on a pipe.
	_, osErr := pr.ReadAt(make([]byte, 1), 0)
	pipe, err := aio.NewFile(pr)
	if err != nil {
		t.Fatal(err)
	}
	if k := pipe.Kernel(); k != "direct" {
		t.Errorf("pipe's Kernel %q, want direct", k)
	}
	if _, err := pw.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	n, err := pipe.ReadAt(make([]byte, 1), 0)
	t.Logf("os.File.ReadAt on a pipe: %v; aio.File.ReadAt: %d, %v", osErr, n, err)
	if !errors.Is(err, syscall.ESPIPE) || n != 0 {
		t.Errorf("ReadAt on a pipe: %d, %v; want ESPIPE as *os.File gives (%v)", n, err, osErr)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) {
		t.Errorf("ReadAt on a pipe: %T, want *os.PathError", err)
	}
	if err := pipe.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pr.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the pipe's *os.File after File.Close: %v, want os.ErrClosed", err)
	}

	dn, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	null, err := aio.NewFile(dn)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := null.ReadAt(make([]byte, 512), 0); n != 0 || err != io.EOF {
		t.Errorf("ReadAt of /dev/null: %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := null.WriteAt(make([]byte, 512), 1<<40); n != 512 || err != nil {
		t.Errorf("WriteAt to /dev/null: %d, %v; want 512, nil", n, err)
	}
	if _, err := null.ReadAt(make([]byte, 1), -1); !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ReadAt at -1: %v, want os.ErrInvalid and EINVAL", err)
	}
	if err := null.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, call := range map[string]func() (int, error){
		"ReadAt":         func() (int, error) { return null.ReadAt(make([]byte, 1), 0) },
		"WriteAt":        func() (int, error) { return null.WriteAt(make([]byte, 1), 0) },
		"ReadAtContext":  func() (int, error) { return null.ReadAtContext(ctx, make([]byte, 1), 0) },
		"WriteAtContext": func() (int, error) { return null.WriteAtContext(ctx, make([]byte, 1), 0) },
		"ReadvAt":        func() (int, error) { return null.ReadvAt([][]byte{make([]byte, 1)}, 0) },
		"WritevAt":       func() (int, error) { return null.WritevAt([][]byte{make([]byte, 1)}, 0) },
	} {
		n, err := call()
		if n != 0 || !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) {
			t.Errorf("%s after Close: %d, %T %v; want 0 and an *os.PathError matching os.ErrClosed", name, n, err, err)
		}
	}
	if err := null.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v, want os.ErrClosed", err)
	}
}

// TestNewcomer7AppendMode: a log opened with O_APPEND, as a newcomer's
// first appender would be. PrepareWrite's off is ignored there, every
// write landing at the end, and File.WriteAt refuses the file with an
// *os.PathError matching os.ErrInvalid, as *os.File does.
func TestNewcomer7AppendMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("head:"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := aio.NewContext(aio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := aio.NewRequest()
	out := make([]*aio.Request, 1)
	for _, rec := range []string{"one;", "two;"} {
		if err := r.PrepareWrite(log, 0, []byte(rec), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(r); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(context.Background(), 1, out); err != nil {
			t.Fatal(err)
		}
		if n, err := r.Result(); n != len(rec) || err != nil {
			t.Fatalf("append %q: %d, %v", rec, n, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "head:one;two;" {
		t.Errorf("log holds %q (%v), want the writes at 0 appended", got, err)
	}
	f, err := aio.NewFile(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.WriteAt([]byte("x"), 0)
	var pe *os.PathError
	if n != 0 || !errors.Is(err, os.ErrInvalid) || !errors.As(err, &pe) {
		t.Errorf("File.WriteAt on an O_APPEND file: %d, %v; want 0 and an *os.PathError matching os.ErrInvalid", n, err)
	}
}

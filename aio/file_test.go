package aio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
)

// The File tests run every method through each way a File can be served
// that applies to this build: the shared engine as OpenFile routes it (on
// Linux a buffered file runs pread in the caller's goroutine, an O_DIRECT
// one goes to kernel AIO; under -tags fbsdmodel everything goes to the
// FreeBSD backend over the model), and Files of an Engine of their own on
// the default and the portable backend, each buffered and with O_DIRECT.
// Sizes and offsets are multiples of fileBlock so that one body serves
// O_DIRECT too.

const fileBlock = 4096

type fileSetup struct {
	name   string
	direct bool
	open   func(t testing.TB, name string, flag int) (*File, error)
}

func fileSetups(t testing.TB) []fileSetup {
	engine := func(be Backend) func(testing.TB, string, int) (*File, error) {
		var once sync.Once
		var e *Engine
		return func(t testing.TB, name string, flag int) (*File, error) {
			once.Do(func() { e = testEngine(t, Config{Backend: be}) })
			return e.OpenFile(name, flag, 0o600)
		}
	}
	shared := func(t testing.TB, name string, flag int) (*File, error) { return OpenFile(name, flag, 0o600) }
	var out []fileSetup
	for _, direct := range []bool{false, true} {
		suffix := ""
		if direct {
			suffix = "/direct"
		}
		out = append(out,
			fileSetup{"shared" + suffix, direct, shared},
			fileSetup{"engine-default" + suffix, direct, engine(DefaultBackend)},
			fileSetup{"engine-portable" + suffix, direct, engine(PortableBackend)},
		)
	}
	return out
}

// testEngine starts an engine that is closed when t ends.
func testEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	})
	return e
}

// forEachSetup runs fn in a subtest per setup, with a File on a fresh file
// holding size bytes of filePattern.
func forEachSetup(t *testing.T, size int, fn func(t *testing.T, s fileSetup, f *File)) {
	for _, s := range fileSetups(t) {
		t.Run(s.name, func(t *testing.T) {
			f := setupFile(t, s, size)
			fn(t, s, f)
		})
	}
}

func setupFile(t testing.TB, s fileSetup, size int) *File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, filePattern(0, size), 0o600); err != nil {
		t.Fatal(err)
	}
	flag := os.O_RDWR
	if s.direct {
		flag |= O_DIRECT
	}
	f, err := s.open(t, path, flag)
	if s.direct && err != nil {
		t.Skipf("O_DIRECT open: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// filePattern is n bytes of the contents setupFile writes, from off.
func filePattern(off int64, n int) []byte {
	b := AlignedBuffer(n)
	for i := range b {
		b[i] = byte((off+int64(i))/fileBlock*31 + (off+int64(i))*7 + 1)
	}
	return b
}

func TestFileReadAtWriteAt(t *testing.T) {
	forEachSetup(t, 8*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		buf := AlignedBuffer(3 * fileBlock)
		if n, err := f.ReadAt(buf, 2*fileBlock); n != len(buf) || err != nil {
			t.Fatalf("ReadAt = %d, %v", n, err)
		}
		if !bytes.Equal(buf, filePattern(2*fileBlock, len(buf))) {
			t.Fatal("ReadAt read the wrong bytes")
		}
		w := filePattern(1000, 2*fileBlock) // another pattern at the same place
		if n, err := f.WriteAt(w, 5*fileBlock); n != len(w) || err != nil {
			t.Fatalf("WriteAt = %d, %v", n, err)
		}
		if n, err := f.ReadAt(buf[:2*fileBlock], 5*fileBlock); n != 2*fileBlock || err != nil {
			t.Fatalf("ReadAt after WriteAt = %d, %v", n, err)
		}
		if !bytes.Equal(buf[:2*fileBlock], w) {
			t.Fatal("ReadAt does not see WriteAt's bytes")
		}
		// A write past the end grows the file.
		if n, err := f.WriteAt(w, 10*fileBlock); n != len(w) || err != nil {
			t.Fatalf("WriteAt past the end = %d, %v", n, err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != 12*fileBlock {
			t.Fatalf("Stat after growing = %v, %v; want size %d", fi, err, 12*fileBlock)
		}
	})
}

// TestFileReaderAtContract checks what io.ReaderAt promises: a read that
// reaches the end returns the bytes it got with io.EOF, a read at or past
// the end returns 0, io.EOF, whatever the offset.
func TestFileReaderAtContract(t *testing.T) {
	const size = 3*fileBlock + 100 // the end is not on a block boundary
	forEachSetup(t, size, func(t *testing.T, s fileSetup, f *File) {
		buf := AlignedBuffer(4 * fileBlock)
		n, err := f.ReadAt(buf, 0)
		if n != size || err != io.EOF {
			t.Fatalf("ReadAt across the end = %d, %v; want %d, io.EOF", n, err, size)
		}
		if !bytes.Equal(buf[:n], filePattern(0, size)) {
			t.Fatal("ReadAt across the end read the wrong bytes")
		}
		for _, off := range []int64{4 * fileBlock, 1 << 40, 1 << 62} {
			if n, err := f.ReadAt(buf[:fileBlock], off); n != 0 || err != io.EOF {
				t.Errorf("ReadAt at %d = %d, %v; want 0, io.EOF", off, n, err)
			}
		}
		// Where offset+length overflows, the kernel refuses (EINVAL on
		// Linux): the same answer as *os.File's, as an *os.PathError.
		huge := int64(math.MaxInt64 &^ (fileBlock - 1))
		n, err = f.ReadAt(buf[:fileBlock], huge)
		osf, oerr := os.Open(f.Name())
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer osf.Close()
		_, osErr := osf.ReadAt(buf[:fileBlock], huge)
		var pe *os.PathError
		if n != 0 || (osErr == io.EOF) != (err == io.EOF) || osErr != io.EOF && (!sameErrno(err, osErr) || !errors.As(err, &pe) || pe.Op != "read") {
			t.Errorf("ReadAt at %d = %d, %v; *os.File says %v", huge, n, err, osErr)
		}
		if !s.direct {
			// iotest checks the rest of the contract (EOF, short reads at
			// every offset) with unaligned sizes, which O_DIRECT refuses.
			if err := iotest.TestReader(io.NewSectionReader(f, 0, size), filePattern(0, size)); err != nil {
				t.Error(err)
			}
		}
	})
}

func TestFileZeroLengthAndBadOffsets(t *testing.T) {
	forEachSetup(t, fileBlock, func(t *testing.T, s fileSetup, f *File) {
		for _, off := range []int64{0, 1 << 50} {
			if n, err := f.ReadAt(nil, off); n != 0 || err != nil {
				t.Errorf("ReadAt(nil, %d) = %d, %v; want 0, nil", off, n, err)
			}
			if n, err := f.WriteAt([]byte{}, off); n != 0 || err != nil {
				t.Errorf("WriteAt(empty, %d) = %d, %v; want 0, nil", off, n, err)
			}
			if n, err := f.ReadvAt([][]byte{nil, {}}, off); n != 0 || err != nil {
				t.Errorf("ReadvAt(empty, %d) = %d, %v; want 0, nil", off, n, err)
			}
		}
		if fi, _ := f.Stat(); fi.Size() != fileBlock {
			t.Errorf("zero-length writes changed the size to %d", fi.Size())
		}
		buf := AlignedBuffer(fileBlock)
		for name, call := range map[string]func() (int, error){
			"ReadAt":   func() (int, error) { return f.ReadAt(buf, -fileBlock) },
			"WriteAt":  func() (int, error) { return f.WriteAt(buf, -fileBlock) },
			"ReadvAt":  func() (int, error) { return f.ReadvAt([][]byte{buf}, -1) },
			"WritevAt": func() (int, error) { return f.WritevAt([][]byte{buf}, -1) },
		} {
			n, err := call()
			var pe *os.PathError
			if n != 0 || !errors.As(err, &pe) || !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) || pe.Path != f.Name() {
				t.Errorf("%s at a negative offset = %d, %v; want 0 and an *os.PathError matching os.ErrInvalid and syscall.EINVAL, as PrepareRead's", name, n, err)
			}
		}
		// An offset the kernel refuses for writing: an *os.PathError
		// with the kernel's errno (EFBIG or EINVAL).
		n, err := f.WriteAt(buf, math.MaxInt64&^(fileBlock-1))
		var pe *os.PathError
		var errno syscall.Errno
		if n != 0 || !errors.As(err, &pe) || pe.Op != "write" || !errors.As(err, &errno) {
			t.Errorf("WriteAt at the largest offset = %d, %v; want 0, an *os.PathError \"write\" with an errno", n, err)
		}
	})
}

func TestFileVectored(t *testing.T) {
	forEachSetup(t, 6*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		bufs := [][]byte{AlignedBuffer(fileBlock), AlignedBuffer(2 * fileBlock), {}, AlignedBuffer(fileBlock)}
		if n, err := f.ReadvAt(bufs, fileBlock); n != 4*fileBlock || err != nil {
			t.Fatalf("ReadvAt = %d, %v", n, err)
		}
		if got := bytes.Join(bufs, nil); !bytes.Equal(got, filePattern(fileBlock, 4*fileBlock)) {
			t.Fatal("ReadvAt read the wrong bytes")
		}
		// Across the end: what was there, then io.EOF.
		n, err := f.ReadvAt(bufs, 4*fileBlock)
		if n != 2*fileBlock || err != io.EOF {
			t.Fatalf("ReadvAt across the end = %d, %v; want %d, io.EOF", n, err, 2*fileBlock)
		}
		w := [][]byte{filePattern(9000, fileBlock), filePattern(5, 2*fileBlock)}
		if n, err := f.WritevAt(w, 5*fileBlock); n != 3*fileBlock || err != nil {
			t.Fatalf("WritevAt = %d, %v", n, err)
		}
		got := AlignedBuffer(3 * fileBlock)
		if n, err := f.ReadAt(got, 5*fileBlock); n != len(got) || err != nil {
			t.Fatalf("ReadAt after WritevAt = %d, %v", n, err)
		}
		if !bytes.Equal(got, bytes.Join(w, nil)) {
			t.Fatal("WritevAt wrote the wrong bytes")
		}
	})
}

// TestFileVectoredManyBuffers goes beyond one request's iovec limit.
func TestFileVectoredManyBuffers(t *testing.T) {
	forEachSetup(t, 0, func(t *testing.T, s fileSetup, f *File) {
		const count = maxIovecs + 300
		want := filePattern(0, count*fileBlock)
		bufs := make([][]byte, count)
		for i := range bufs {
			bufs[i] = want[i*fileBlock : (i+1)*fileBlock]
		}
		if n, err := f.WritevAt(bufs, 0); n != len(want) || err != nil {
			t.Fatalf("WritevAt of %d buffers = %d, %v", count, n, err)
		}
		for i := range bufs {
			bufs[i] = AlignedBuffer(fileBlock)
		}
		if n, err := f.ReadvAt(bufs, 0); n != len(want) || err != nil {
			t.Fatalf("ReadvAt of %d buffers = %d, %v", count, n, err)
		}
		if !bytes.Equal(bytes.Join(bufs, nil), want) {
			t.Fatal("vectored round trip of many buffers changed the bytes")
		}
	})
}

func TestFileSyncStatName(t *testing.T) {
	forEachSetup(t, 2*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		if _, err := f.WriteAt(filePattern(77, fileBlock), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if err := f.DataSync(); err != nil {
			t.Fatalf("DataSync: %v", err)
		}
		if filepath.Base(f.Name()) != "data" {
			t.Errorf("Name = %q", f.Name())
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() != 2*fileBlock || !fi.Mode().IsRegular() {
			t.Fatalf("Stat = %v, %v", fi, err)
		}
		// What Sync covered is in the file, seen through another descriptor.
		got, err := os.ReadFile(f.Name())
		if err != nil || !bytes.Equal(got[:fileBlock], filePattern(77, fileBlock)) {
			t.Fatalf("file after Sync: %v", err)
		}
	})
}

func TestFileClose(t *testing.T) {
	forEachSetup(t, fileBlock, func(t *testing.T, s fileSetup, f *File) {
		if err := f.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		buf := AlignedBuffer(fileBlock)
		calls := map[string]func() error{
			"ReadAt":   func() error { _, err := f.ReadAt(buf, 0); return err },
			"ReadAt0":  func() error { _, err := f.ReadAt(nil, 0); return err },
			"WriteAt":  func() error { _, err := f.WriteAt(buf, 0); return err },
			"ReadvAt":  func() error { _, err := f.ReadvAt([][]byte{buf}, 0); return err },
			"WritevAt": func() error { _, err := f.WritevAt([][]byte{buf}, 0); return err },
			"Sync":     f.Sync,
			"DataSync": f.DataSync,
			"Stat":     func() error { _, err := f.Stat(); return err },
			"Close":    f.Close,
		}
		for name, call := range calls {
			err := call()
			var pe *os.PathError
			if !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) || pe.Path != f.Name() {
				t.Errorf("%s after Close = %v; want an *os.PathError matching os.ErrClosed", name, err)
			}
		}
	})
}

// TestFileCloseWaitsForCalls closes a File while many goroutines use it:
// every call either completes with the right bytes or fails with
// os.ErrClosed, and the descriptor is closed only after the last call in
// flight returned (a call on a closed descriptor would report EBADF).
func TestFileCloseWaitsForCalls(t *testing.T) {
	forEachSetup(t, 16*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		const workers = 32
		var (
			wg      sync.WaitGroup
			started sync.WaitGroup
			mu      sync.Mutex
			done    int
		)
		started.Add(workers)
		for i := range workers {
			wg.Go(func() {
				buf := AlignedBuffer(fileBlock)
				first := true
				for {
					off := int64(i%16) * fileBlock
					n, err := f.ReadAt(buf, off)
					if first {
						started.Done()
						first = false
					}
					if errors.Is(err, os.ErrClosed) {
						return
					}
					if n != fileBlock || err != nil || !bytes.Equal(buf, filePattern(off, fileBlock)) {
						t.Errorf("ReadAt during Close = %d, %v", n, err)
						return
					}
					mu.Lock()
					done++
					mu.Unlock()
				}
			})
		}
		started.Wait()
		if err := f.Close(); err != nil {
			t.Fatalf("Close with calls in flight: %v", err)
		}
		wg.Wait()
		if done == 0 {
			t.Error("no call completed before Close")
		}
	})
}

// TestFileConcurrentMixed has hundreds of goroutines read, write and sync
// one File at once. Each owns a block that it writes versions of and reads
// back; each also reads blocks of a region nobody writes, checking their
// bytes (a read racing a write of the same block may see a mix of both, on
// Linux as with *os.File, so only unwritten blocks are checked by others).
func TestFileConcurrentMixed(t *testing.T) {
	const (
		workers = 200
		rounds  = 8
	)
	forEachSetup(t, 2*workers*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		version := func(w, v int) []byte {
			b := AlignedBuffer(fileBlock)
			for i := range b {
				b[i] = byte(w*13 + v*101 + i)
			}
			return b
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				off := int64(w) * fileBlock
				buf := AlignedBuffer(fileBlock)
				for v := range rounds {
					want := version(w, v)
					if n, err := f.WriteAt(want, off); n != fileBlock || err != nil {
						t.Errorf("worker %d: WriteAt = %d, %v", w, n, err)
						return
					}
					if n, err := f.ReadAt(buf, off); n != fileBlock || err != nil || !bytes.Equal(buf, want) {
						t.Errorf("worker %d round %d: ReadAt of its own block = %d, %v (equal %v)", w, v, n, err, bytes.Equal(buf, want))
						return
					}
					static := int64(workers+(w*7+v)%workers) * fileBlock
					if n, err := f.ReadAt(buf, static); n != fileBlock || err != nil || !bytes.Equal(buf, filePattern(static, fileBlock)) {
						t.Errorf("worker %d: ReadAt of unwritten block at %d = %d, %v", w, static, n, err)
						return
					}
					switch v % 4 {
					case 1:
						if err := f.Sync(); err != nil {
							t.Errorf("worker %d: Sync: %v", w, err)
						}
					case 3:
						if err := f.DataSync(); err != nil {
							t.Errorf("worker %d: DataSync: %v", w, err)
						}
					}
				}
			})
		}
		wg.Wait()
		got := AlignedBuffer(workers * fileBlock)
		if n, err := f.ReadAt(got, 0); n != len(got) || err != nil {
			t.Fatalf("final ReadAt = %d, %v", n, err)
		}
		for w := range workers {
			if !bytes.Equal(got[w*fileBlock:(w+1)*fileBlock], version(w, rounds-1)) {
				t.Fatalf("block %d does not hold its last version", w)
			}
		}
	})
}

// TestFileContextDoneBefore: a ctx that is done already stops the call
// before any I/O.
func TestFileContextDoneBefore(t *testing.T) {
	forEachSetup(t, fileBlock, func(t *testing.T, s fileSetup, f *File) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		buf := AlignedBuffer(fileBlock)
		if n, err := f.ReadAtContext(ctx, buf, 0); n != 0 || err != context.Canceled {
			t.Errorf("ReadAtContext with a canceled ctx = %d, %v", n, err)
		}
		if n, err := f.WriteAtContext(ctx, filePattern(5, fileBlock), 0); n != 0 || err != context.Canceled {
			t.Errorf("WriteAtContext with a canceled ctx = %d, %v", n, err)
		}
		if n, err := f.ReadAtContext(context.Background(), buf, 0); n != fileBlock || err != nil || !bytes.Equal(buf, filePattern(0, fileBlock)) {
			t.Errorf("ReadAtContext = %d, %v; the canceled WriteAtContext must not have written", n, err)
		}
	})
}

// TestFileOverPipe: a File over a pipe behaves as *os.File does: ReadAt
// and WriteAt fail (a pipe has no offsets) with the same errno, Stat and
// Close work.
func TestFileOverPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	osr, osw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer osr.Close()
	defer osw.Close()
	for _, mk := range []struct {
		name string
		fn   func(*os.File) (*File, error)
	}{
		{"shared", NewFile},
		{"engine-portable", testEngine(t, Config{Backend: PortableBackend}).NewFile},
	} {
		t.Run(mk.name, func(t *testing.T) {
			r, err := mk.fn(pr)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			_, err = r.ReadAt(buf, 0)
			_, osErr := osr.ReadAt(buf, 0)
			var pe *os.PathError
			if !errors.As(err, &pe) || !sameErrno(err, osErr) {
				t.Errorf("ReadAt on a pipe = %v; *os.File says %v", err, osErr)
			}
			_, err = r.ReadvAt([][]byte{buf}, 0)
			if !sameErrno(err, osErr) {
				t.Errorf("ReadvAt on a pipe = %v; *os.File says %v", err, osErr)
			}
			_, err = r.WriteAt(buf, 0)
			_, osErr = osw.WriteAt(buf, 0)
			if !sameErrno(err, osErr) {
				t.Errorf("WriteAt on a pipe = %v; *os.File says %v", err, osErr)
			}
			if fi, err := r.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("Stat = %v, %v", fi, err)
			}
		})
	}
	// The last File closes the pipe it took over.
	r, _ := NewFile(pr)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := pr.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the *os.File after File.Close: Stat = %v, want os.ErrClosed", err)
	}
}

func sameErrno(a, b error) bool {
	var ea, eb syscall.Errno
	return errors.As(a, &ea) && errors.As(b, &eb) && ea == eb
}

func TestFileOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := OpenFile(missing, os.O_RDONLY, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFile of a missing file = %v, want os.ErrNotExist", err)
	}
	if _, err := NewFile(nil); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("NewFile(nil) = %v, want os.ErrInvalid", err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := NewFile(f); !errors.Is(err, os.ErrClosed) {
		t.Errorf("NewFile of a closed file = %v, want os.ErrClosed", err)
	}
}

// TestFileAppendMode: WriteAt on an O_APPEND file is refused, as by
// *os.File (the kernel would append instead of writing at the offset).
func TestFileAppendMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.WriteAt([]byte("x"), 0); n != 0 || !errors.Is(err, os.ErrInvalid) {
		t.Errorf("WriteAt on O_APPEND = %d, %v", n, err)
	}
	if n, err := f.WritevAt([][]byte{[]byte("x")}, 0); n != 0 || !errors.Is(err, os.ErrInvalid) {
		t.Errorf("WritevAt on O_APPEND = %d, %v", n, err)
	}
}

// TestFileWrongAccessMode: the kernel's EBADF comes back as an
// *os.PathError with Op "write", on every setup.
func TestFileWrongAccessMode(t *testing.T) {
	for _, s := range fileSetups(t) {
		t.Run(s.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ro")
			if err := os.WriteFile(path, filePattern(0, fileBlock), 0o600); err != nil {
				t.Fatal(err)
			}
			flag := os.O_RDONLY
			if s.direct {
				flag |= O_DIRECT
			}
			f, err := s.open(t, path, flag)
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			_, err = f.WriteAt(filePattern(0, fileBlock), 0)
			var pe *os.PathError
			if !errors.Is(err, syscall.EBADF) || !errors.As(err, &pe) || pe.Op != "write" {
				t.Errorf("WriteAt on a read-only file = %v, want *os.PathError write EBADF", err)
			}
		})
	}
}

func TestFileEngineClose(t *testing.T) {
	e, err := NewEngine(Config{Backend: PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.OpenFile(filepath.Join(t.TempDir(), "x"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("abc"), 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != ErrClosed {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if _, err := f.ReadAt(make([]byte, 3), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt on a File of a closed engine = %v, want ErrClosed", err)
	}
}

// TestFileZeroAllocs: in the steady state ReadAt and WriteAt allocate
// nothing, on the engine as on the direct path.
func TestFileZeroAllocs(t *testing.T) {
	forEachSetup(t, 4*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		if modelBuild && f.async.Load() {
			t.Skip("the FreeBSD model allocates per job; the backend itself is measured without it")
		}
		buf := AlignedBuffer(fileBlock)
		read := testing.AllocsPerRun(200, func() {
			if n, err := f.ReadAt(buf, fileBlock); n != fileBlock || err != nil {
				t.Fatalf("ReadAt = %d, %v", n, err)
			}
		})
		write := testing.AllocsPerRun(200, func() {
			if n, err := f.WriteAt(buf, 2*fileBlock); n != fileBlock || err != nil {
				t.Fatalf("WriteAt = %d, %v", n, err)
			}
		})
		if read != 0 || write != 0 {
			t.Errorf("allocs per call: ReadAt %v, WriteAt %v; want 0 (engine path: %v)", read, write, f.async.Load())
		}
	})
}

func TestFileRoutes(t *testing.T) {
	// Which path each setup takes on this build, so that the tests above
	// are known to cover the engine.
	for _, s := range fileSetups(t) {
		t.Run(s.name, func(t *testing.T) {
			f := setupFile(t, s, 0)
			want := s.name != "shared" && s.name != "shared/direct" ||
				thisKernel == freebsdAIO && !modelRefusesFiles() || thisKernel == linuxAIO && s.direct
			if got := f.async.Load(); got != want {
				t.Errorf("engine path = %v, want %v", got, want)
			}
			if k := f.Kernel(); (k == "direct") == want {
				t.Errorf("Kernel() = %q with the engine path %v", k, want)
			}
		})
	}
}

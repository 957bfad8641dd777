//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/sys"
	"golang.org/x/sys/unix"
)

// Benchmarks of the Linux backend against the raw system calls, and of
// every backend against plain goroutines on 4 KiB random reads. They also
// run in a tiny CI pass (-benchtime 1x) in a few seconds.

// zeroBatch is the batch size of BenchmarkZeroReadBatch32.
const zeroBatch = 32

// BenchmarkZeroReadBatch32 measures the library's overhead over the raw
// system calls: batches of 32 zero-byte reads, which the kernel completes
// inside io_submit, so that nearly all the time is the submission and
// harvest path. "library" goes through Context.Submit and Context.Wait with
// 32 reused requests; "raw" is the same loop on sys.IoSubmit and
// sys.IoGetevents with 32 reused iocbs. Compare their ns/req.
func BenchmarkZeroReadBatch32(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "empty"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	b.Run("library", func(b *testing.B) { benchZeroLibrary(b, f) })
	b.Run("raw", func(b *testing.B) { benchZeroRaw(b, f) })
}

func benchZeroLibrary(b *testing.B, f *os.File) {
	if noAIO := linuxNoAIO(b); noAIO != nil {
		b.Skipf("io_setup: %v: no kernel AIO to measure", noAIO)
	}
	c := benchContext(b, Config{MaxRequests: zeroBatch, Backend: KernelBackend})
	if _, ok := c.be.(*linuxBackend); !ok {
		b.Fatalf("KernelBackend is %T, not kernel AIO", c.be)
	}
	reqs := make([]*Request, zeroBatch)
	for i := range reqs {
		reqs[i] = NewRequest()
	}
	out := make([]*Request, zeroBatch)
	ctx := context.Background()
	b.ReportAllocs()
	cpu := benchCPU()
	for b.Loop() {
		for _, r := range reqs {
			if err := r.PrepareRead(f, 0, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		if n, err := c.Submit(reqs...); n != zeroBatch || err != nil {
			b.Fatalf("Submit = %d, %v", n, err)
		}
		if n, err := c.Wait(ctx, zeroBatch, out); n != zeroBatch || err != nil {
			b.Fatalf("Wait = %d, %v", n, err)
		}
		for _, r := range out {
			if n, err := r.Result(); n != 0 || err != nil {
				b.Fatalf("Result = %d, %v", n, err)
			}
		}
	}
	benchPerRequest(b, zeroBatch, benchCPU()-cpu)
}

func benchZeroRaw(b *testing.B, f *os.File) {
	if noAIO := linuxNoAIO(b); noAIO != nil {
		b.Skipf("io_setup: %v: no kernel AIO to measure", noAIO)
	}
	var ctx uintptr
	benchRetryAgain(b, func() (err error) {
		ctx, err = sys.IoSetup(zeroBatch)
		if err == syscall.EAGAIN {
			err = ErrAgain
		}
		return err
	})
	b.Cleanup(func() { _ = sys.IoDestroy(ctx) })
	fd := uint32(f.Fd())
	cbs := make([]sys.Iocb, zeroBatch)
	ptrs := make([]*sys.Iocb, zeroBatch)
	for i := range cbs {
		ptrs[i] = &cbs[i]
	}
	evs := make([]sys.IoEvent, zeroBatch)
	b.ReportAllocs()
	cpu := benchCPU()
	for b.Loop() {
		for i := range cbs {
			cbs[i] = sys.Iocb{Data: uint64(i), LioOpcode: sys.IOCB_CMD_PREAD, Fildes: fd}
		}
		for i := 0; i < zeroBatch; {
			n, err := sys.IoSubmit(ctx, ptrs[i:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n == 0 {
				b.Fatalf("io_submit = %d, %v", n, err)
			}
			i += n
		}
		for got := 0; got < zeroBatch; {
			n, err := sys.IoGetevents(ctx, zeroBatch-got, evs[got:], nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				b.Fatalf("io_getevents: %v", err)
			}
			got += n
		}
		for i := range evs {
			if evs[i].Res != 0 {
				b.Fatalf("event %d: res %d", i, evs[i].Res)
			}
		}
	}
	benchPerRequest(b, zeroBatch, benchCPU()-cpu)
}

// benchPerRequest reports the time per request of a b.Loop whose rounds
// each complete perRound requests, and the process CPU time (cpu, over the
// loop) per request, which other processes on a busy machine disturb less.
func benchPerRequest(b *testing.B, perRound int, cpu time.Duration) {
	reqs := float64(b.N) * float64(perRound)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/reqs, "ns/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/reqs, "cpu-ns/req")
}

// Random 4 KiB reads keep the queue full on a file of randReadSize bytes.
const (
	randReadBS   = 4096
	randReadSize = 256 << 20
)

// BenchmarkRandRead4K reads 4 KiB blocks at random offsets of a 256 MiB
// file, keeping qd requests in flight, through the default (kernel AIO) and
// portable backends, and through qd plain goroutines calling ReadAt, the
// baseline. Each completed request is prepared again at once and all the
// refills of one Wait go back in one Submit. "buffered" reads the page
// cache (the file is read once before); "direct" opens it with O_DIRECT.
// One op is one read; iops and cpu-ns/op (process CPU time) are reported.
//
// The file, random data, is created once and kept in
// os.TempDir()/fileaio-bench/ (the cache of cmd/aiobench) for later runs.
func BenchmarkRandRead4K(b *testing.B) {
	path, err := benchDataPath()
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range []string{"default", "portable", "goroutines"} {
		b.Run(be, func(b *testing.B) {
			for _, mode := range []string{"buffered", "direct"} {
				b.Run(mode, func(b *testing.B) {
					f := benchOpenData(b, path, mode == "direct")
					for _, qd := range []int{1, 32, 128} {
						b.Run(fmt.Sprintf("qd%d", qd), func(b *testing.B) {
							switch be {
							case "default":
								benchRandReadAIO(b, DefaultBackend, f, qd)
							case "portable":
								benchRandReadAIO(b, PortableBackend, f, qd)
							default:
								benchRandReadGoroutines(b, f, qd)
							}
						})
					}
				})
			}
		})
	}
}

// benchSlot is one request of the queue with its buffer.
type benchSlot struct {
	req *Request
	buf []byte
}

func benchRandReadAIO(b *testing.B, be Backend, f *os.File, qd int) {
	c := benchContext(b, Config{MaxRequests: qd, Backend: be})
	if c.MaxRequests() < qd {
		b.Skipf("queue depth %d above this system's limit of %d requests", qd, c.MaxRequests())
	}
	slots := make([]benchSlot, qd)
	for i := range slots {
		slots[i] = benchSlot{req: NewRequest(), buf: AlignedBuffer(randReadBS)}
	}
	out := make([]*Request, qd)
	batch := make([]*Request, 0, qd)
	rng := benchRand(1)
	ctx := context.Background()
	submitted, done := 0, 0
	prepare := func(s *benchSlot) {
		if err := s.req.PrepareRead(f, rng.offset(), s.buf, s); err != nil {
			b.Fatal(err)
		}
		batch = append(batch, s.req)
	}
	submit := func() {
		n, err := c.Submit(batch...)
		if n != len(batch) || err != nil {
			b.Fatalf("Submit(%d) = %d, %v", len(batch), n, err)
		}
		submitted += n
		clear(batch)
		batch = batch[:0]
	}

	b.ReportAllocs()
	cpu := benchCPU()
	b.ResetTimer()
	for i := range min(qd, b.N) {
		prepare(&slots[i])
	}
	submit()
	for done < b.N {
		n, err := c.Wait(ctx, 1, out)
		if err != nil {
			b.Fatalf("Wait = %d, %v", n, err)
		}
		for _, r := range out[:n] {
			if got, err := r.Result(); got != randReadBS || err != nil {
				b.Fatalf("Result = %d, %v", got, err)
			}
			done++
			if submitted+len(batch) < b.N {
				prepare(r.User().(*benchSlot))
			}
		}
		if len(batch) > 0 {
			submit()
		}
	}
	b.StopTimer()
	benchIOPS(b, benchCPU()-cpu)
}

func benchRandReadGoroutines(b *testing.B, f *os.File, qd int) {
	bufs := make([][]byte, qd)
	for i := range bufs {
		bufs[i] = AlignedBuffer(randReadBS)
	}
	var (
		left atomic.Int64
		wg   sync.WaitGroup
	)
	b.ReportAllocs()
	cpu := benchCPU()
	b.ResetTimer()
	left.Store(int64(b.N))
	for i := range qd {
		wg.Go(func() {
			rng := benchRand(uint64(i) + 1)
			for left.Add(-1) >= 0 {
				if n, err := f.ReadAt(bufs[i], rng.offset()); n != randReadBS || err != nil {
					b.Errorf("ReadAt = %d, %v", n, err)
					left.Store(0)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	benchIOPS(b, benchCPU()-cpu)
}

// benchIOPS reports reads per second and process CPU time per read.
func benchIOPS(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "iops")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// randOffsets draws block-aligned offsets in the data file (xorshift64*).
type randOffsets struct{ s uint64 }

func benchRand(seed uint64) *randOffsets {
	return &randOffsets{s: seed*0x9E3779B97F4A7C15 | 1}
}

func (r *randOffsets) offset() int64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return int64((r.s*0x2545F4914F6CDD1D)%(randReadSize/randReadBS)) * randReadBS
}

// benchCPU is the user plus system CPU time of the process so far.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchContext creates a context, retrying while fs.aio-max-nr (shared by
// the whole machine) has no room, and closes it when b ends.
func benchContext(b testing.TB, cfg Config) *Context {
	var c *Context
	benchRetryAgain(b, func() (err error) {
		c, err = NewContext(cfg)
		return err
	})
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	return c
}

func benchRetryAgain(b testing.TB, setup func() error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := setup()
		if err == nil {
			return
		}
		if !errors.Is(err, ErrAgain) || time.Now().After(deadline) {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// benchDataPath returns the data file of BenchmarkRandRead4K, creating it
// once per process if it is not there yet.
var benchDataPath = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(os.TempDir(), "fileaio-bench")
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if fi, err := os.Lstat(dir); err != nil {
		return "", err
	} else if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("%s is not a directory of this user", dir)
	}
	// Random data, synced so that direct reads find it on the device
	// rather than waiting for its writeback.
	rng := rand.NewChaCha8([32]byte{'f', 'i', 'l', 'e', 'a', 'i', 'o'})
	return benchCreate(filepath.Join(dir, fmt.Sprintf("data-%d.bin", randReadSize)), func(b []byte) { rng.Read(b) })
})

// benchCreate returns path, a file of randReadSize bytes, creating it once
// (under a temporary name, renamed when complete and synced) with its
// content written in large blocks that fill gives, or zeros.
func benchCreate(path string, fill func([]byte)) (string, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == randReadSize {
		return path, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "create-*.tmp")
	if err != nil {
		return "", err
	}
	buf := make([]byte, 4<<20)
	for left := randReadSize; left > 0 && err == nil; left -= len(buf) {
		if fill != nil {
			fill(buf)
		}
		_, err = tmp.Write(buf)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}

// benchOpenData opens the data file for reading, with O_DIRECT if direct
// (skipping b where the filesystem refuses it). A buffered open reads the
// whole file once, so that the page cache holds it.
func benchOpenData(b *testing.B, path string, direct bool) *os.File {
	flag := os.O_RDONLY
	if direct {
		flag |= unix.O_DIRECT
	}
	f, err := os.OpenFile(path, flag, 0)
	if direct && err != nil {
		b.Skipf("O_DIRECT open of %s failed: %v", path, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	if !direct {
		benchWarmCache(b, f)
	}
	return f
}

// benchWarmCache reads f once through the page cache (from memory, a few
// tens of milliseconds, when the file is cached already).
func benchWarmCache(b *testing.B, f *os.File) {
	buf := make([]byte, 4<<20)
	for off := int64(0); off < randReadSize; off += int64(len(buf)) {
		if _, err := f.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLinuxRingWraps drives many times the size of the completion ring
// through a small context, buffered (requests done inside io_submit) and
// with O_DIRECT (done later), so that the ring read in user space wraps
// around several times and batches are submitted in growing chunks, and
// checks every result.
func TestLinuxRingWraps(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			const reqs, size = 8, 4096
			cfg := Config{MaxRequests: reqs, Backend: KernelBackend}
			if noAIO := linuxNoAIO(t); noAIO != nil {
				linuxCheckKernelRefused(t, cfg, noAIO)
				t.Skipf("io_setup: %v: no kernel completion ring to wrap; the tests of backend_linux_test.go check the fallback", noAIO)
			}
			c := benchContext(t, cfg)
			be, ok := c.be.(*linuxBackend)
			if !ok {
				t.Fatalf("KernelBackend is %T, not kernel AIO", c.be)
			}
			if be.ring == nil {
				t.Skip("the kernel maps no completion ring at the context's address")
			}
			path := filepath.Join(t.TempDir(), "data")
			want := make([]byte, reqs*size)
			for i := range want {
				want[i] = byte(i*7 + i/size)
			}
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			flag := os.O_RDONLY
			if direct {
				flag |= unix.O_DIRECT
			}
			f, err := os.OpenFile(path, flag, 0)
			if direct && err != nil {
				t.Skipf("O_DIRECT open: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rs := make([]*Request, reqs)
			bufs := make([][]byte, reqs)
			for i := range rs {
				rs[i], bufs[i] = NewRequest(), AlignedBuffer(size)
			}
			out := make([]*Request, reqs)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rounds := 3*int(be.ring.nr)/reqs + 1
			for round := range rounds {
				for i, r := range rs {
					// Each round reads the blocks in another order.
					blk := (i + round) % reqs
					if err := r.PrepareRead(f, int64(blk*size), bufs[i], blk); err != nil {
						t.Fatal(err)
					}
				}
				if n, err := c.Submit(rs...); n != reqs || err != nil {
					t.Fatalf("round %d: Submit = %d, %v", round, n, err)
				}
				got := 0
				for got < reqs {
					atLeast := 1
					if round%2 == 0 {
						atLeast = 0 // poll as well as block
					}
					n, err := c.Wait(ctx, atLeast, out)
					if err != nil {
						t.Fatalf("round %d: Wait = %d, %v", round, n, err)
					}
					for _, r := range out[:n] {
						blk := r.User().(int)
						if n, err := r.Result(); n != size || err != nil {
							t.Fatalf("round %d: block %d: Result = %d, %v", round, blk, n, err)
						}
						i := slices.Index(rs, r)
						if !bytes.Equal(bufs[i], want[blk*size:(blk+1)*size]) {
							t.Fatalf("round %d: block %d: wrong data", round, blk)
						}
					}
					got += n
				}
			}
		})
	}
}

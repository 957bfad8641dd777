//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Benchmarks of File against *os.File with the same goroutines: 4 KiB
// random reads of the 256 MiB file of BenchmarkRandRead4K, with O_DIRECT
// and from the page cache, and 4 KiB random O_DIRECT writes to a file of
// the same size, each with fileBenchGoroutines goroutines sharing one
// file. One op is one 4 KiB transfer; iops and cpu-ns/op (process CPU time
// from getrusage) are reported, and allocs/op by -benchmem. Compare
// "file" with "osfile" of the same run.
//
// The files live in os.TempDir()/fileaio-bench/, which must be on a file
// system that takes O_DIRECT (not tmpfs) for the direct cases to run.

const fileBenchGoroutines = 32

func BenchmarkFileRandRead4K(b *testing.B) {
	path, err := benchDataPath()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"direct", "buffered"} {
		b.Run(mode, func(b *testing.B) {
			for _, impl := range []string{"file", "osfile"} {
				b.Run(fmt.Sprintf("%s/g%d", impl, fileBenchGoroutines), func(b *testing.B) {
					read, _ := fileBenchOpen(b, impl, path, mode == "direct", os.O_RDONLY)
					benchGoroutines(b, read)
				})
			}
		})
	}
}

func BenchmarkFileRandWrite4K(b *testing.B) {
	path, err := benchWritePath()
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []string{"file", "osfile"} {
		b.Run(fmt.Sprintf("direct/%s/g%d", impl, fileBenchGoroutines), func(b *testing.B) {
			_, write := fileBenchOpen(b, impl, path, true, os.O_RDWR)
			benchGoroutines(b, write)
		})
	}
}

type transferAt func(p []byte, off int64) (int, error)

// fileBenchOpen opens path as a File ("file") or an *os.File ("osfile")
// and returns its ReadAt and WriteAt. A buffered open warms the page cache;
// a direct one empties it of the file, so that no O_DIRECT write waits to
// drop cached pages (which DefaultBackend's kernel engine refuses to do:
// such writes go to goroutines).
func fileBenchOpen(b *testing.B, impl, path string, direct bool, flag int) (read, write transferAt) {
	if direct {
		flag |= O_DIRECT
		benchDropCache(b, path)
	}
	if impl == "osfile" {
		f, err := os.OpenFile(path, flag, 0)
		if direct && err != nil {
			b.Skipf("O_DIRECT open of %s: %v", path, err)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		if !direct {
			benchWarmCache(b, f)
		}
		return f.ReadAt, f.WriteAt
	}
	f, err := OpenFile(path, flag, 0)
	if direct && err != nil {
		b.Skipf("O_DIRECT open of %s: %v", path, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	if !direct {
		benchWarmCache(b, f.f)
	}
	// Warm the shared engine up outside the timed loop.
	if _, err := f.ReadAt(AlignedBuffer(randReadBS), 0); err != nil {
		b.Fatal(err)
	}
	return f.ReadAt, f.WriteAt
}

// benchGoroutines runs b.N transfers of 4 KiB at random aligned offsets on
// fileBenchGoroutines goroutines, each with its own buffer.
func benchGoroutines(b *testing.B, do transferAt) {
	bufs := make([][]byte, fileBenchGoroutines)
	for i := range bufs {
		bufs[i] = AlignedBuffer(randReadBS)
		for j := range bufs[i] {
			bufs[i][j] = byte(i + j)
		}
	}
	var (
		left atomic.Int64
		wg   sync.WaitGroup
	)
	b.ReportAllocs()
	cpu := benchCPU()
	b.ResetTimer()
	left.Store(int64(b.N))
	for i := range fileBenchGoroutines {
		wg.Go(func() {
			rng := benchRand(uint64(i) + 1)
			for left.Add(-1) >= 0 {
				if n, err := do(bufs[i], rng.offset()); n != randReadBS || err != nil {
					b.Errorf("transfer = %d, %v", n, err)
					left.Store(0)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	benchIOPS(b, benchCPU()-cpu)
}

// benchWritePath returns a file of randReadSize bytes for the write
// benchmark, beside the read benchmark's data, creating it once (its
// blocks allocated and on the device, so that writes overwrite them).
var benchWritePath = sync.OnceValues(func() (string, error) {
	data, err := benchDataPath()
	if err != nil {
		return "", err
	}
	return benchCreate(filepath.Join(filepath.Dir(data), fmt.Sprintf("write-%d.bin", randReadSize)), nil)
})

// benchDropCache writes back and drops the page cache's pages of path.
func benchDropCache(b *testing.B, path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

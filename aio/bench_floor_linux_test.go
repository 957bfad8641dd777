//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkHandOffFloor is not the library: it is the least a queue served
// by another goroutine costs, for comparison with
// BenchmarkRandRead4K/*/buffered/qd32. One goroutine keeps 32 reads of the
// page cache queued (a mutex and a slice of indexes), runs some itself
// instead of sleeping, and collects what one worker goroutine posts back
// in batches; no state word, slots, descriptor checks or cancellation.
func BenchmarkHandOffFloor(b *testing.B) {
	path, err := benchDataPath()
	if err != nil {
		b.Fatal(err)
	}
	f := benchOpenData(b, path, false)
	fd := f.Fd()
	const qd = 32
	type job struct {
		off int64
		buf []byte
		n   int
	}
	jobs := make([]job, qd)
	for i := range jobs {
		jobs[i].buf = AlignedBuffer(randReadBS)
	}
	read := func(j *job) {
		iov := unix.Iovec{Base: &j.buf[0]}
		iov.SetLen(len(j.buf))
		n, _, e := unix.Syscall6(unix.SYS_PREADV2, fd, uintptr(unsafe.Pointer(&iov)), 1, uintptr(j.off), 0, unix.RWF_NOWAIT)
		if e != 0 {
			n2, _ := unix.Pread(int(fd), j.buf, j.off)
			n = uintptr(n2)
		}
		j.n = int(n)
	}
	var (
		mu    sync.Mutex
		more  = sync.NewCond(&mu)
		queue []int
		quit  bool
		dmu   sync.Mutex
		done  []int
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		var mine [16]int
		for {
			mu.Lock()
			for len(queue) == 0 && !quit {
				more.Wait()
			}
			if quit {
				mu.Unlock()
				return
			}
			k := min(len(queue)/2+1, len(mine))
			copy(mine[:], queue[len(queue)-k:])
			queue = queue[:len(queue)-k]
			mu.Unlock()
			for _, i := range mine[:k] {
				read(&jobs[i])
			}
			dmu.Lock()
			done = append(done, mine[:k]...)
			dmu.Unlock()
		}
	})
	b.Cleanup(func() {
		mu.Lock()
		quit = true
		more.Broadcast()
		mu.Unlock()
		wg.Wait()
	})

	rng := benchRand(1)
	var got [qd]int
	cpu := benchCPU()
	b.ResetTimer()
	mu.Lock()
	for i := range qd {
		jobs[i].off = rng.offset()
		queue = append(queue, i)
	}
	more.Signal()
	mu.Unlock()
	for reads := 0; reads < b.N; {
		dmu.Lock()
		n := copy(got[:], done)
		done = done[:copy(done, done[n:])]
		dmu.Unlock()
		if n == 0 {
			mu.Lock()
			n = copy(got[:min(len(queue), 4)], queue)
			queue = queue[:copy(queue, queue[n:])]
			mu.Unlock()
			for _, i := range got[:n] {
				read(&jobs[i])
			}
		}
		reads += n
		mu.Lock()
		for _, i := range got[:n] {
			if jobs[i].n != randReadBS {
				b.Fatalf("read = %d", jobs[i].n)
			}
			jobs[i].off = rng.offset()
			queue = append(queue, i)
		}
		more.Signal()
		mu.Unlock()
	}
	b.StopTimer()
	benchIOPS(b, benchCPU()-cpu)
}

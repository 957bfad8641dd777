package tests

// A port of VirtualBox IPRT's testcase tstRTFileAio.cpp: write a file in
// 64 KiB requests, a round of up to 64 requests at a time, each round
// waited for in full; reopen the file and read it back the same way,
// checking each request's user value, byte count and data. Scaled down
// from 100 MiB to 8 MiB, and run also with more than 64 requests in
// flight, with Waits whose min is below 64, and through O_DIRECT (IPRT's
// RTFILE_O_ASYNC_IO).

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

const (
	iprtBufferSize = 64 << 10 // TSTFILEAIO_BUFFER_SIZE
	iprtFileSize   = 8 << 20  // 100 MiB in the original
)

// iprtLimits is RTFileAioGetLimits, which must succeed where the package
// drives a kernel AIO, and may say ErrNotSupported where only the portable
// backend serves.
func iprtLimits(t *testing.T) aio.Limits {
	t.Helper()
	l, err := aio.SystemLimits()
	switch {
	case err == nil:
		if l.MaxOutstanding <= 0 || l.BatchMax <= 0 || l.BufferAlignment < 0 {
			t.Fatalf("SystemLimits() = %+v: MaxOutstanding and BatchMax must be positive", l)
		}
	case errors.Is(err, aio.ErrNotSupported):
		t.Logf("SystemLimits: %v; DefaultBackend is the portable one", err)
	default:
		t.Fatalf("SystemLimits: %v", err)
	}
	return l
}

// iprtPass is tstFileAioTestReadWriteBasic: one pass over the file in
// rounds of perRound requests. Each round is submitted at once; collect
// gathers its completions.
type iprtPass struct {
	write    bool
	perRound int
	// waitMin is the min of each Wait while collecting a round of k
	// requests of which got have arrived.
	waitMin func(k, got int) int
	// buffer allocates one request buffer.
	buffer func(n int) []byte
}

func (p iprtPass) run(t *testing.T, c *aio.Context, f *os.File, test []byte) {
	t.Helper()
	reqs := make([]*aio.Request, p.perRound)
	bufs := make([][]byte, p.perRound)
	for i := range reqs {
		reqs[i] = aio.NewRequest()
		bufs[i] = p.buffer(iprtBufferSize)
		if p.write {
			copy(bufs[i], test)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	out := make([]*aio.Request, p.perRound)
	off := int64(0)
	for rounds := 0; off < iprtFileSize; rounds++ {
		k := 0
		for i := range reqs {
			if off >= iprtFileSize {
				break
			}
			var err error
			if p.write {
				err = reqs[i].PrepareWrite(f, off, bufs[i], i)
			} else {
				err = reqs[i].PrepareRead(f, off, bufs[i], i)
			}
			mustPrepare(t, err)
			off += iprtBufferSize
			k++
		}
		if n, err := c.Submit(reqs[:k]...); n != k || err != nil {
			t.Fatalf("Failed to submit tasks after %d runs: %d of %d, %v", rounds, n, k, err)
		}
		got := 0
		for got < k {
			min := p.waitMin(k, got)
			n, err := c.Wait(ctx, min, out[got:k])
			if err != nil || n < min {
				t.Fatalf("round %d: Wait(min %d) = %d, %v", rounds, min, n, err)
			}
			got += n
		}
		seen := make([]bool, k)
		for _, r := range out[:k] {
			i, ok := r.User().(int)
			if !ok || i < 0 || i >= k {
				t.Fatalf("round %d: completed request with user %v", rounds, r.User())
			}
			if seen[i] {
				t.Fatalf("round %d: request %d completed twice", rounds, i)
			}
			seen[i] = true
			n, err := r.Result()
			if err != nil || n != iprtBufferSize {
				t.Fatalf("round %d: request %d: cbTransfered=%d, %v", rounds, i, n, err)
			}
			if !p.write {
				compare(t, user("round %d, request %d", rounds, i), bufs[i], test)
				clear(bufs[i])
			}
		}
	}
}

// iprtTest is main() of tstRTFileAio: limits, write pass, reopen, read
// pass, close. open opens (create) and reopens the file.
func iprtTest(t *testing.T, b aio.Backend, open func(t *testing.T, create bool) *os.File, perRound, maxRequests int,
	waitMin func(k, got int) int, buffer func(int) []byte) {
	iprtLimits(t)
	test := make([]byte, iprtBufferSize)
	for i := range test {
		test[i] = byte(i % 256)
	}
	c, err := aio.NewContext(aio.Config{Backend: b, MaxRequests: maxRequests})
	if err != nil {
		t.Fatalf("RTFileAioCtxCreate: %v", err)
	}
	t.Cleanup(func() { closeContext(t, c) }) // only does something if the test failed midway
	perRound = min(perRound, c.MaxRequests())
	f := open(t, true)
	iprtPass{write: true, perRound: perRound, waitMin: waitMin, buffer: buffer}.run(t, c, f, test)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = open(t, false)
	iprtPass{write: false, perRound: perRound, waitMin: waitMin, buffer: buffer}.run(t, c, f, test)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("RTFileAioCtxDestroy: %v", err)
	}
}

// iprtOpen opens tstFileAio#1.tst in a temporary directory.
func iprtOpen(dir string) func(t *testing.T, create bool) *os.File {
	return func(t *testing.T, create bool) *os.File {
		flag := os.O_RDWR
		if create {
			flag |= os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(dir+"/tstFileAio#1.tst", flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
}

// waitRound is the original's RTFileAioCtxWait(cMinReqs = round size).
func waitRound(k, got int) int { return k - got }

func plainBuffer(n int) []byte { return make([]byte, n) }

// TestIPRTFileAio is tstRTFileAio as it is: up to min(limit, 64) requests
// a round, each round waited for with min = the round's size.
func TestIPRTFileAio(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		iprtTest(t, b, iprtOpen(t.TempDir()), 64, 64, waitRound, plainBuffer)
	})
}

// TestIPRTManyInFlight: 200 requests a round with a context of 256, each
// round waited for with min 200, more than the 64 completions one kernel
// call collects (IPRT's original bug 1 was there).
func TestIPRTManyInFlight(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		iprtTest(t, b, iprtOpen(t.TempDir()), 200, 256, waitRound, plainBuffer)
	})
}

// TestIPRTMinBelow64: 200 requests in flight, collected by Waits with min
// 10 (below 64) and room for all of them.
func TestIPRTMinBelow64(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		iprtTest(t, b, iprtOpen(t.TempDir()), 200, 256, func(k, got int) int { return min(10, k-got) }, plainBuffer)
	})
}

// TestIPRTODirect: the same through O_DIRECT, which is what IPRT's
// RTFILE_O_ASYNC_IO means on Linux, with aio.AlignedBuffer buffers.
// Skipped only where every scratch file system refuses O_DIRECT (EINVAL).
func TestIPRTODirect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		f := openDirect(t)
		name := f.Name()
		open := func(t *testing.T, create bool) *os.File {
			if create {
				return f
			}
			return openDirectName(t, name)
		}
		iprtTest(t, b, open, 64, 64, waitRound, aio.AlignedBuffer)
	})
}

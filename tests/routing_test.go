//go:build linux

package tests

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// kernelShare is how many of the requests of a mixed batch the context's
// kernel engine should serve, by the routing rule: Linux kernel AIO serves
// the O_DIRECT file, FreeBSD's every regular file, goroutines the pipe.
func kernelShare(c *aio.Context, b aio.Backend, direct, buffered int) int {
	switch {
	case b == aio.PortableBackend || c.Kernel() == "portable" || !kernelServesFiles():
		return 0
	case b == aio.KernelBackend:
		return direct + buffered
	case c.Kernel() == "linux-aio":
		return direct
	}
	return direct + buffered
}

// TestMixedEnginesInOneWait: O_DIRECT reads, buffered reads and a pipe read
// in one Submit; a deadline and a Wakeup end Waits early while the pipe
// read waits for data; Close is refused meanwhile; one Wait loop collects
// every request exactly once; Stats counts each engine's share.
func TestMixedEnginesInOneWait(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		if b == aio.KernelBackend {
			t.Skip("KernelBackend refuses pipes: TestSubmitOfEmptyStreamReturns covers it")
		}
		c := newContext(t, b, aio.Config{})
		const n, bs = 8, 4096
		direct := openDirect(t)
		rng := newRand(t)
		want := randBytes(rng, n*bs)
		wbuf := aio.AlignedBuffer(len(want))
		copy(wbuf, want)
		if _, err := direct.WriteAt(wbuf, 0); err != nil {
			t.Fatal(err)
		}
		buffered := openFile(t, direct.Name(), os.O_RDONLY)
		pr, pw := streamPair(t, "pipe")

		var reqs []*aio.Request
		bufs := make([][]byte, 2*n)
		for i := range 2 * n {
			bufs[i] = aio.AlignedBuffer(bs)
			f := direct
			if i >= n {
				f = buffered
			}
			r := aio.NewRequest()
			mustPrepare(t, r.PrepareRead(f, int64(i%n*bs), bufs[i], i))
			reqs = append(reqs, r)
		}
		piped := aio.NewRequest()
		pipeBuf := make([]byte, 3)
		mustPrepare(t, piped.PrepareRead(pr, 0, pipeBuf, "pipe"))
		reqs = append(reqs, piped)
		submitAll(t, c, reqs...)

		out := make([]*aio.Request, len(reqs))
		seen := map[*aio.Request]int{}
		collect := func(done []*aio.Request) {
			for _, r := range done {
				seen[r]++
			}
		}
		for len(seen) < 2*n {
			ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
			k, err := c.Wait(ctx, 1, out)
			cancel()
			collect(out[:k])
			if err != nil {
				t.Fatalf("Wait = %d, %v", k, err)
			}
		}
		if seen[piped] != 0 {
			t.Fatal("the pipe read completed before any data was written")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		k, err := c.Wait(ctx, 1, out)
		cancel()
		collect(out[:k])
		if k != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait with a deadline while the pipe is empty = %d, %v; want 0, DeadlineExceeded", k, err)
		}
		go func() { time.Sleep(10 * time.Millisecond); _ = c.Wakeup() }()
		k, err = c.Wait(context.Background(), 1, out)
		collect(out[:k])
		if k != 0 || !errors.Is(err, aio.ErrInterrupted) {
			t.Fatalf("Wait woken while the pipe is empty = %d, %v; want 0, ErrInterrupted", k, err)
		}
		if err := c.Close(); !errors.Is(err, aio.ErrBusy) {
			t.Fatalf("Close with the pipe read in flight = %v, want ErrBusy", err)
		}
		if _, err := pw.Write([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		collect(waitN(t, c, 1))
		for i, r := range reqs {
			if seen[r] != 1 {
				t.Errorf("request %d delivered %d times", i, seen[r])
			}
		}
		for i := range 2 * n {
			expectResult(t, reqs[i], bs)
			compare(t, user("read %d", i), bufs[i], want[i%n*bs:(i%n+1)*bs])
		}
		if got, err := piped.Result(); got != 3 || err != nil || string(pipeBuf) != "abc" {
			t.Errorf("pipe read: %d, %v, %q", got, err, pipeBuf)
		}
		st := c.Stats()
		wantKernel := kernelShare(c, b, n, n)
		if int(st.Kernel) != wantKernel || int(st.Goroutines) != len(reqs)-wantKernel {
			t.Errorf("%s (%q): Stats = %+v; want %d by the kernel, %d by goroutines", b, c.Kernel(), st, wantKernel, len(reqs)-wantKernel)
		}
	})
}

// TestMixedCancel: cancel requests of both engines in one batch; each
// completes exactly once, canceled or with its data.
func TestMixedCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		direct := openDirect(t)
		const n, bs = 32, 4096
		if err := direct.Truncate(n * bs); err != nil {
			t.Fatal(err)
		}
		buffered := openFile(t, direct.Name(), os.O_RDONLY)
		reqs := make([]*aio.Request, 2*n)
		for i := range reqs {
			f := direct
			if i%2 == 1 {
				f = buffered
			}
			reqs[i] = aio.NewRequest()
			mustPrepare(t, reqs[i].PrepareRead(f, int64(i/2*bs), aio.AlignedBuffer(bs), nil))
		}
		submitAll(t, c, reqs...)
		for _, r := range reqs {
			if err := r.Cancel(); err != nil && !errors.Is(err, aio.ErrInProgress) && !errors.Is(err, aio.ErrAlreadyCompleted) {
				t.Fatalf("Cancel = %v", err)
			}
		}
		got := waitN(t, c, len(reqs))
		seen := map[*aio.Request]bool{}
		for _, r := range got {
			if seen[r] {
				t.Fatal("a request was delivered twice")
			}
			seen[r] = true
			k, err := r.Result()
			if !errors.Is(err, aio.ErrCanceled) && (err != nil || k != bs) {
				t.Errorf("Result = %d, %v; want %d bytes or ErrCanceled", k, err, bs)
			}
		}
		if st := c.Stats(); st.Kernel+st.Goroutines != uint64(len(reqs)) {
			t.Errorf("Stats = %+v, want %d in all", st, len(reqs))
		}
	})
}

// TestColdBufferedReadsDoNotBlockSubmit: 32 buffered reads of pages just
// dropped from the page cache go to goroutines under DefaultBackend, so
// Submit returns before they are done: right after it, they are not all
// complete, and Wakeup and Close (refused: busy) answer meanwhile. A
// goroutine can be kept off its CPU for as long as the reads take (a
// loaded machine, an emulator), so the round is tried up to three times:
// a Submit that read them itself would find them all done every time.
// Needs root to drop the caches.
func TestColdBufferedReadsDoNotBlockSubmit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dropping the page cache needs root")
	}
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		if b == aio.KernelBackend {
			t.Skip("KernelBackend reads buffered files inside io_submit on Linux, by design")
		}
		c := newContext(t, b, aio.Config{})
		const n, bs = 32, 4096
		f := tempFile(t)
		if _, err := f.WriteAt(make([]byte, 64<<20), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		reqs := make([]*aio.Request, n)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
		}
		out := make([]*aio.Request, n)
		const tries = 3
		for try := 1; ; try++ {
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
				t.Fatalf("drop caches: %v", err)
			}
			for i, r := range reqs {
				mustPrepare(t, r.PrepareRead(f, int64(i)*(2<<20), make([]byte, bs), nil))
			}
			submitAll(t, c, reqs...)
			k, err := c.Wait(context.Background(), 0, out)
			if err != nil {
				t.Fatal(err)
			}
			if k < n {
				if err := c.Wakeup(); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(); !errors.Is(err, aio.ErrBusy) {
					t.Fatalf("Close with reads in flight = %v, want ErrBusy", err)
				}
			}
			for rest := n - k; rest > 0; {
				m, err := c.Wait(context.Background(), 1, out)
				rest -= m
				if err != nil && !errors.Is(err, aio.ErrInterrupted) {
					t.Fatal(err)
				}
			}
			if k < n {
				break
			}
			if try == tries {
				t.Errorf("all %d cold reads were done when Submit returned, %d times out of %d: Submit read them itself", n, tries, tries)
				break
			}
		}
		if c.Kernel() == "linux-aio" {
			if st := c.Stats(); st.Kernel != 0 || st.Goroutines%n != 0 || st.Goroutines == 0 {
				t.Errorf("Stats = %+v, want every buffered read served by goroutines", st)
			}
		}
	})
}

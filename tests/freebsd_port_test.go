package tests

// Ports of FreeBSD's tests/sys/aio (aio_test.c, lio_test.c,
// aio_kqueue_test.c, lio_kqueue_test.c) to this package's API, on regular
// files. README.md maps every original case to its Go test, or says why it
// does not apply. Cases whose natural home is a themed file live there
// (TestFlushAfterWrites, TestVectoredSwappedHalves, ...).

import (
	"context"
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// freebsdFileLen is GLOBAL_MAX of aio_test.c, the file tests' size.
const freebsdFileLen = 16384

// pollUntilDone is aio_test.c's "poll" completion method: spin on a
// non-blocking check until the request comes back. Result must say
// ErrInProgress until then.
func pollUntilDone(t *testing.T, c *aio.Context, r *aio.Request) {
	t.Helper()
	deadline := time.Now().Add(hangTimeout)
	out := make([]*aio.Request, 1)
	for {
		n, err := c.Wait(context.Background(), 0, out)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if n == 1 {
			if out[0] != r {
				t.Fatalf("poll returned another request")
			}
			return
		}
		if _, err := r.Result(); !errors.Is(err, aio.ErrInProgress) {
			t.Fatalf("Result of a request not yet returned by Wait: %v, want ErrInProgress", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("request never completed")
		}
		time.Sleep(time.Millisecond)
	}
}

// freebsdFileTest is aio_file_test: write the seeded buffer at 0, then read
// it back into a zeroed buffer, full length both ways, through completion
// method complete; vectored uses the swapped halves of aio_writev_test.
func freebsdFileTest(t *testing.T, b aio.Backend, vectored bool, complete func(*testing.T, *aio.Context, *aio.Request)) {
	c := newContext(t, b, aio.Config{})
	f := tempFile(t)
	want := randBytes(newRand(t), freebsdFileLen)
	buf := append([]byte(nil), want...)
	r := aio.NewRequest()
	if vectored {
		mustPrepare(t, r.PrepareWritev(f, 0, swappedHalves(buf), nil))
	} else {
		mustPrepare(t, r.PrepareWrite(f, 0, buf, nil))
	}
	submitAll(t, c, r)
	complete(t, c, r)
	expectResult(t, r, freebsdFileLen)
	clear(buf)
	if vectored {
		mustPrepare(t, r.PrepareReadv(f, 0, swappedHalves(buf), nil))
	} else {
		mustPrepare(t, r.PrepareRead(f, 0, buf, nil))
	}
	submitAll(t, c, r)
	complete(t, c, r)
	expectResult(t, r, freebsdFileLen)
	compare(t, "buffer mismatched", buf, want)
}

func waitOne(t *testing.T, c *aio.Context, r *aio.Request) {
	t.Helper()
	if got := waitN(t, c, 1)[0]; got != r {
		t.Fatal("Wait returned another request")
	}
}

// TestFreeBSDFileKq is file_kq (and file_suspend, file_waitcomplete):
// completion through a blocking Wait.
func TestFreeBSDFileKq(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { freebsdFileTest(t, b, false, waitOne) })
}

// TestFreeBSDFilePoll is file_poll: completion found by polling.
func TestFreeBSDFilePoll(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { freebsdFileTest(t, b, false, pollUntilDone) })
}

// TestFreeBSDVectoredFilePoll is vectored_file_poll (and vectored_thread):
// the swapped-halves writev and readv, completion found by polling.
func TestFreeBSDVectoredFilePoll(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { freebsdFileTest(t, b, true, pollUntilDone) })
}

// TestFreeBSDFsyncErrors is aio_fsync_errors: a sync of a descriptor that
// is not open fails with EBADF (from Submit or through Result). The other
// two cases (an op other than O_SYNC/O_DSYNC, an invalid sigev_notify)
// cannot be expressed with this API.
func TestFreeBSDFsyncErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		if !haveDescriptors {
			t.Skip("no descriptor numbers or EBADF on " + runtime.GOOS)
		}
		bad := closedDescriptor(t)
		c := newContext(t, b, aio.Config{})
		flush, dsync := aio.NewRequest(), aio.NewRequest()
		mustPrepare(t, flush.PrepareFlush(bad, "flush"))
		mustPrepare(t, dsync.PrepareDataSync(bad, "datasync"))
		got := runExpectErrno(t, c, flush, dsync)
		for _, r := range []*aio.Request{flush, dsync} {
			if !errors.Is(got[r], syscall.EBADF) {
				t.Fatalf("%v of a descriptor that is not open: %v, want EBADF", r.User(), got[r])
			}
		}
	})
}

// TestFreeBSDLargeRead is aio_large_read_test in the form Go allows: a
// read of a large buffer (8 MiB; Go slices cannot carry a length beyond
// their memory, so SSIZE_MAX and SSIZE_MAX+1 do not apply) from an empty,
// unlinked file (on Windows, which cannot remove an open file, an empty
// file) completes with 0 bytes and no error.
func TestFreeBSDLargeRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		if canRemoveOpen {
			if err := os.Remove(f.Name()); err != nil {
				t.Fatal(err)
			}
		}
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareRead(f, 0, make([]byte, 8<<20), nil))
		run(t, c, r)
		expectResult(t, r, 0)
	})
}

// oneshotTag is ev_oneshot's udata, typed so that it fits on 32-bit targets.
const oneshotTag uint32 = 0xdeadbeef

// TestFreeBSDEvOneshot is ev_oneshot: a lone sync completes exactly once;
// afterwards nothing more is reported, neither by a poll nor by a Wait that
// runs to its deadline.
func TestFreeBSDEvOneshot(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		f := tempFile(t)
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareFlush(f, oneshotTag))
		submitAll(t, c, r)
		waitOne(t, c, r)
		if r.User() != oneshotTag {
			t.Fatalf("User() = %v, want 0xdeadbeef", r.User())
		}
		expectResult(t, r, 0)
		out := make([]*aio.Request, 2)
		if n, err := c.Wait(context.Background(), 0, out); n != 0 || err != nil {
			t.Fatalf("poll after the sync was delivered = %d, %v; want 0, nil", n, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if n, err := c.Wait(ctx, 1, out); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait after the sync was delivered = %d, %v; want 0, DeadlineExceeded", n, err)
		}
	})
}

// TestFreeBSDPipeRead covers the fifo_*/pipe_* cases in the only form that
// is safe for every backend: a read from a pipe that already holds data.
// FreeBSD's kernel AIO refuses pipes unless vfs.aio.enable_unsafe
// (EOPNOTSUPP); pread-based backends get ESPIPE; Linux kernel AIO may read
// the byte or refuse with EINVAL. Either way the request completes once,
// its error keeps its errno, and nothing hangs.
func TestFreeBSDPipeRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pr.Close(); pw.Close() })
		if _, err := pw.Write([]byte{0xc3}); err != nil {
			t.Fatal(err)
		}
		r := aio.NewRequest()
		buf := make([]byte, 1)
		mustPrepare(t, r.PrepareRead(pr, 0, buf, nil))
		err = runExpectErrno(t, c, r)[r]
		switch {
		case err == nil:
			expectResult(t, r, 1)
			if buf[0] != 0xc3 {
				t.Fatalf("read %#x from the pipe, want 0xc3", buf[0])
			}
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ESPIPE), errors.Is(err, syscall.EINVAL):
			t.Logf("read from a pipe: %v", err)
		default:
			t.Fatalf("read from a pipe: %v, want success, EOPNOTSUPP, ESPIPE or EINVAL", err)
		}
	})
}

// queueLimit is the number of requests the tests put in flight where the
// originals use vfs.aio.max_aio_queue_per_proc: that limit where the
// system reports one below 256, else 256.
func queueLimit() int {
	if l, err := aio.SystemLimits(); err == nil && l.MaxOutstanding > 0 && l.MaxOutstanding < 256 {
		return l.MaxOutstanding
	}
	return 256
}

// TestFreeBSDListioEagain is lio_listio_eagain_kevent: two submissions of
// a full queue's worth of 4 KiB writes; the first is accepted, the second
// is refused with ErrAgain (EAGAIN) and stays Prepared. Unlike the
// original, the test then drains and resubmits until all are done.
func TestFreeBSDListioEagain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		per := queueLimit()
		c := newContext(t, b, aio.Config{MaxRequests: per})
		per = c.MaxRequests()
		f := tempFile(t)
		buf := make([]byte, 4096)
		lists := [2][]*aio.Request{make([]*aio.Request, per), make([]*aio.Request, per)}
		for i := range lists {
			for j := range lists[i] {
				r := aio.NewRequest()
				mustPrepare(t, r.PrepareWrite(f, int64((i*per+j)*4096), buf, [2]int{i, j}))
				lists[i][j] = r
			}
		}
		if n, err := c.Submit(lists[0]...); n != per || err != nil {
			t.Fatalf("first Submit(%d) = %d, %v; want %d, nil", per, n, err, per)
		}
		n, err := c.Submit(lists[1]...)
		if !errors.Is(err, aio.ErrAgain) || !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("second Submit(%d) with the queue full = %d, %v; want ErrAgain", per, n, err)
		}
		if n != 0 {
			t.Fatalf("second Submit with the queue full accepted %d", n)
		}
		for _, r := range lists[1] {
			if s := r.State(); s != aio.Prepared {
				t.Fatalf("refused request is %v, want Prepared", s)
			}
		}
		for _, r := range waitN(t, c, per) {
			expectResult(t, r, 4096)
		}
		for _, r := range runAll(t, c, lists[1]) {
			expectResult(t, r, 4096)
		}
		if sz := fileSize(t, f); sz != int64(2*per*4096) {
			t.Fatalf("file size %d, want %d", sz, 2*per*4096)
		}
	})
}

// TestFreeBSDListioEmpty is lio_listio_empty_wait and _nowait: an empty
// Submit returns 0 and nil, and puts nothing in flight.
func TestFreeBSDListioEmpty(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		if n, err := c.Submit(); n != 0 || err != nil {
			t.Fatalf("Submit() = %d, %v; want 0, nil", n, err)
		}
		if n, err := c.Submit([]*aio.Request{}...); n != 0 || err != nil {
			t.Fatalf("Submit(empty slice...) = %d, %v; want 0, nil", n, err)
		}
		if n, err := c.Wait(context.Background(), 1, make([]*aio.Request, 1)); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
			t.Fatalf("Wait after an empty Submit = %d, %v; want 0, ErrNoRequests", n, err)
		}
	})
}

// TestFreeBSDListioOpcodes is lio_listio_opcodes: one batch with a write,
// a read, a writev and a readv on one file, each on its own bytes. The
// file starts as "123456" and memory as "abcdef"; the results are 1, 1, 2
// and 2 bytes; memory ends as "a2cd65" and the file as "a2dc56".
func TestFreeBSDListioOpcodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		if _, err := f.WriteAt([]byte("123456"), 0); err != nil {
			t.Fatal(err)
		}
		buffer := []byte("abcdef")
		write, read, writev, readv := aio.NewRequest(), aio.NewRequest(), aio.NewRequest(), aio.NewRequest()
		mustPrepare(t, write.PrepareWrite(f, 0, buffer[0:1], "write"))                           // a -> 1
		mustPrepare(t, read.PrepareRead(f, 1, buffer[1:2], "read"))                              // b <- 2
		mustPrepare(t, writev.PrepareWritev(f, 2, [][]byte{buffer[3:4], buffer[2:3]}, "writev")) // d -> 3, c -> 4
		mustPrepare(t, readv.PrepareReadv(f, 4, [][]byte{buffer[5:6], buffer[4:5]}, "readv"))    // f <- 5, e <- 6
		run(t, c, write, read, writev, readv)
		expectResult(t, write, 1)
		expectResult(t, read, 1)
		expectResult(t, writev, 2)
		expectResult(t, readv, 2)
		compare(t, "memory", buffer, []byte("a2cd65"))
		compare(t, "file", readFile(t, f.Name()), []byte("a2dc56"))
	})
}

// freebsdRuns is how many runs the two kqueue stress programs make (300 in
// the originals), scaled down.
func freebsdRuns() int {
	if testing.Short() {
		return 2
	}
	return 8
}

// TestFreeBSDKqueueCancelRuns is aio_kqueue_test: each run submits a full
// queue of 32 KiB writes one at a time (offsets nbytes*i*run, so run 0
// overlaps them all at offset 0), cancels about 1/64 of them right after
// submission, then harvests everything. Every request completes exactly
// once, the queue limit is reached without ErrAgain, canceled requests
// report ErrCanceled, and every other one wrote 32768 bytes.
func TestFreeBSDKqueueCancelRuns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		per := queueLimit()
		c := newContext(t, b, aio.Config{MaxRequests: per})
		per = c.MaxRequests()
		f := tempFile(t)
		rng := newRand(t)
		buffer := randBytes(rng, 32768)
		reqs := make([]*aio.Request, per)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
		}
		for run := range freebsdRuns() {
			canceled := make([]bool, per)
			for i, r := range reqs {
				mustPrepare(t, r.PrepareWrite(f, int64(len(buffer)*i*run), buffer, i))
				if n, err := c.Submit(r); n != 1 || err != nil {
					t.Fatalf("run %d: Submit of write %d = %d, %v; want 1, nil", run, i, n, err)
				}
				if x := rng.IntN(64); x == 0 {
					err := r.Cancel()
					checkCancelAnswer(t, err)
					canceled[i] = err == nil
				}
			}
			seen := make([]bool, per)
			ncanceled := 0
			for _, r := range waitN(t, c, per) {
				i := r.User().(int)
				if seen[i] {
					t.Fatalf("run %d: write %d delivered twice", run, i)
				}
				seen[i] = true
				n, err := r.Result()
				if canceled[i] {
					ncanceled++
					if !errors.Is(err, aio.ErrCanceled) {
						t.Fatalf("run %d: write %d canceled, but Result() = %d, %v", run, i, n, err)
					}
					continue
				}
				if err != nil || n != len(buffer) {
					t.Fatalf("run %d, operation %d: Result() = %d, %v; should be %d", run, i, n, err, len(buffer))
				}
			}
			t.Logf("run %d: %d writes, %d canceled", run, per, ncanceled)
		}
	})
}

// TestFreeBSDListioKqueueRuns is lio_kqueue_test without EVFILT_LIO: each
// run makes 5 submissions of a fifth of the queue limit of 32 KiB writes
// (more than the 16 entries of one AIO_LISTIO_MAX list), then collects all
// of them; each wrote 32768 bytes and is delivered once.
func TestFreeBSDListioKqueueRuns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		const lioMax = 5
		per := queueLimit()
		c := newContext(t, b, aio.Config{MaxRequests: per})
		perLio := c.MaxRequests() / lioMax
		f := tempFile(t)
		buffer := randBytes(newRand(t), 32768)
		lio := make([][]*aio.Request, lioMax)
		for j := range lio {
			lio[j] = make([]*aio.Request, perLio)
			for i := range lio[j] {
				lio[j][i] = aio.NewRequest()
			}
		}
		for run := range freebsdRuns() {
			for j := range lio {
				for i, r := range lio[j] {
					k := perLio*j + i
					mustPrepare(t, r.PrepareWrite(f, int64(len(buffer)*k*(run+1)), buffer, [2]int{j, i}))
				}
				if n, err := c.Submit(lio[j]...); n != perLio || err != nil {
					t.Fatalf("run %d: Submit of list %d (%d writes) = %d, %v", run, j, perLio, n, err)
				}
			}
			seen := map[[2]int]bool{}
			for _, r := range waitN(t, c, lioMax*perLio) {
				id := r.User().([2]int)
				if seen[id] {
					t.Fatalf("run %d: list %d entry %d delivered twice", run, id[0], id[1])
				}
				seen[id] = true
				n, err := r.Result()
				if err != nil || n != len(buffer) {
					t.Fatalf("run %d, list %d, entry %d: Result() = %d, %v; should be %d", run, id[0], id[1], n, err, len(buffer))
				}
			}
		}
		// The last run's writes are all in the file.
		run := freebsdRuns() - 1
		whole := readFile(t, f.Name())
		for k := range lioMax * perLio {
			off := len(buffer) * k * (run + 1)
			compare(t, user("write %d of the last run", k), whole[off:off+len(buffer)], buffer)
		}
	})
}

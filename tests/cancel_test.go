package tests

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// cancelOutcome checks what Cancel answered: nil (canceled), ErrInProgress
// (running, not canceled) or ErrAlreadyCompleted (finished); anything else
// is a failure.
func checkCancelAnswer(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, aio.ErrInProgress) && !errors.Is(err, aio.ErrAlreadyCompleted) {
		t.Fatalf("Cancel on a submitted request: %v, want nil, ErrInProgress or ErrAlreadyCompleted", err)
	}
}

// checkCanceledWrite checks the result of a write of data at off given what
// Cancel answered (canceled: whether Cancel returned nil). A canceled write
// reports ErrCanceled (which is also ECANCELED) with 0 bytes and left the
// file untouched; any other completes in full.
func checkCanceledWrite(t *testing.T, r *aio.Request, canceled bool, file, data []byte, off int) {
	t.Helper()
	n, err := r.Result()
	region := file[min(off, len(file)):min(off+len(data), len(file))]
	if canceled {
		if !errors.Is(err, aio.ErrCanceled) || !errors.Is(err, syscall.ECANCELED) || n != 0 {
			t.Fatalf("write %v: Cancel returned nil but Result() = %d, %v; want 0, ErrCanceled", r.User(), n, err)
		}
		if len(bytes.Trim(region, "\x00")) != 0 {
			t.Fatalf("write %v: canceled (Result ErrCanceled) yet its data is in the file", r.User())
		}
		return
	}
	if err != nil || n != len(data) {
		t.Fatalf("write %v: not canceled, Result() = %d, %v; want %d, nil", r.User(), n, err, len(data))
	}
	compare(t, user("file region of write %v", r.User()), region, data)
}

// TestCancelAccounting submits a context's worth of 32 KiB writes, cancels
// a random third of them at once, and collects everything. Every request
// comes back exactly once whatever Cancel answered; those it canceled
// report ErrCanceled and wrote nothing; the others wrote their data.
func TestCancelAccounting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 512})
		rng := newRand(t)
		const size = 32 << 10
		n := c.MaxRequests()
		for round := range 3 {
			f := tempFile(t)
			if err := f.Truncate(int64(n * size)); err != nil {
				t.Fatal(err)
			}
			data := randBytes(rng, n*size)
			reqs := make([]*aio.Request, n)
			for i := range reqs {
				reqs[i] = aio.NewRequest()
				mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*size), data[i*size:(i+1)*size], i))
			}
			submitAll(t, c, reqs...)
			canceled := make([]bool, n)
			answers := map[string]int{}
			for _, i := range rng.Perm(n)[:n/3] {
				err := reqs[i].Cancel()
				checkCancelAnswer(t, err)
				canceled[i] = err == nil
				answers[errString(err)]++
			}
			t.Logf("round %d: Cancel answers %v", round, answers)
			seen := make([]bool, n)
			done := waitN(t, c, n)
			file := readFile(t, f.Name())
			for _, r := range done {
				i := r.User().(int)
				if seen[i] {
					t.Fatalf("request %d delivered twice", i)
				}
				seen[i] = true
				checkCanceledWrite(t, r, canceled[i], file, data[i*size:(i+1)*size], i*size)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "canceled"
	}
	return err.Error()
}

// TestCancelWhileWaiting cancels random requests from other goroutines
// while Wait collects them, so Cancel races completion and delivery.
func TestCancelWhileWaiting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 256})
		rng := newRand(t)
		const size = 8 << 10
		n := c.MaxRequests()
		for range 5 {
			f := tempFile(t)
			if err := f.Truncate(int64(n * size)); err != nil {
				t.Fatal(err)
			}
			data := randBytes(rng, n*size)
			reqs := make([]*aio.Request, n)
			for i := range reqs {
				reqs[i] = aio.NewRequest()
				mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*size), data[i*size:(i+1)*size], i))
			}
			submitAll(t, c, reqs...)
			canceled := make([]bool, n)
			var wg sync.WaitGroup
			const cancelers = 4
			perm := rng.Perm(n)
			for g := range cancelers {
				wg.Go(func() {
					for k := g; k < n/2; k += cancelers {
						i := perm[k]
						err := reqs[i].Cancel()
						if err != nil && !errors.Is(err, aio.ErrInProgress) && !errors.Is(err, aio.ErrAlreadyCompleted) {
							t.Errorf("Cancel of request %d: %v", i, err)
						}
						canceled[i] = err == nil // each index has one canceler
					}
				})
			}
			done := waitN(t, c, n)
			wg.Wait()
			if t.Failed() {
				return
			}
			file := readFile(t, f.Name())
			seen := make([]bool, n)
			for _, r := range done {
				i := r.User().(int)
				if seen[i] {
					t.Fatalf("request %d delivered twice", i)
				}
				seen[i] = true
				checkCanceledWrite(t, r, canceled[i], file, data[i*size:(i+1)*size], i*size)
			}
		}
	})
}

// TestCancelMixed cancels reads, vectored requests and syncs: a canceled
// request reports ErrCanceled, any other its normal result.
func TestCancelMixed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 256})
		f := tempFile(t)
		rng := newRand(t)
		const size = 4096
		n := c.MaxRequests()
		content := randBytes(rng, n*size)
		if _, err := f.WriteAt(content, 0); err != nil {
			t.Fatal(err)
		}
		reqs := make([]*aio.Request, n)
		bufs := make([][]byte, n)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			bufs[i] = make([]byte, size)
			off := int64(i * size)
			switch i % 4 {
			case 0:
				mustPrepare(t, reqs[i].PrepareRead(f, off, bufs[i], i))
			case 1:
				mustPrepare(t, reqs[i].PrepareReadv(f, off, [][]byte{bufs[i][:100], bufs[i][100:]}, i))
			case 2:
				mustPrepare(t, reqs[i].PrepareFlush(f, i))
			case 3:
				mustPrepare(t, reqs[i].PrepareDataSync(f, i))
			}
		}
		submitAll(t, c, reqs...)
		canceled := make([]bool, n)
		for _, i := range rng.Perm(n)[:n/2] {
			err := reqs[i].Cancel()
			checkCancelAnswer(t, err)
			canceled[i] = err == nil
		}
		seen := make([]bool, n)
		for _, r := range waitN(t, c, n) {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("request %d delivered twice", i)
			}
			seen[i] = true
			got, err := r.Result()
			want := size
			if i%4 >= 2 {
				want = 0
			}
			switch {
			case canceled[i]:
				if !errors.Is(err, aio.ErrCanceled) {
					t.Fatalf("request %d: Cancel returned nil but Result() = %d, %v; want ErrCanceled", i, got, err)
				}
			case err != nil || got != want:
				t.Fatalf("request %d: not canceled, Result() = %d, %v; want %d, nil", i, got, err, want)
			case want > 0:
				compare(t, user("read %d", i), bufs[i], content[i*size:(i+1)*size])
			}
		}
	})
}

// TestCancelStates: Cancel on an Idle or Prepared request is
// ErrNotSubmitted; on a Completed one ErrAlreadyCompleted; a second Cancel
// of a submitted request never makes it complete twice.
func TestCancelStates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		r := aio.NewRequest()
		if err := r.Cancel(); !errors.Is(err, aio.ErrNotSubmitted) {
			t.Fatalf("Cancel on an Idle request: %v, want ErrNotSubmitted", err)
		}
		mustPrepare(t, r.PrepareWrite(f, 0, []byte("x"), nil))
		if err := r.Cancel(); !errors.Is(err, aio.ErrNotSubmitted) {
			t.Fatalf("Cancel on a Prepared request: %v, want ErrNotSubmitted", err)
		}
		if s := r.State(); s != aio.Prepared {
			t.Fatalf("request is %v after Cancel on a Prepared request", s)
		}
		submitAll(t, c, r)
		first := r.Cancel()
		checkCancelAnswer(t, first)
		second := r.Cancel()
		checkCancelAnswer(t, second)
		waitN(t, c, 1)
		n, err := r.Result()
		if first == nil || second == nil {
			if !errors.Is(err, aio.ErrCanceled) {
				t.Fatalf("Cancel answered %v then %v, but Result() = %d, %v; want ErrCanceled", first, second, n, err)
			}
		} else if err != nil || n != 1 {
			t.Fatalf("Cancel answered %v then %v, but Result() = %d, %v; want 1, nil", first, second, n, err)
		}
		if err := r.Cancel(); !errors.Is(err, aio.ErrAlreadyCompleted) {
			t.Fatalf("Cancel on a Completed request: %v, want ErrAlreadyCompleted", err)
		}
		// Nothing more comes back.
		ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
		defer cancel()
		if k, err := c.Wait(ctx, 0, make([]*aio.Request, 4)); k != 0 || !errors.Is(err, aio.ErrNoRequests) {
			t.Fatalf("Wait after the only request was delivered: %d, %v; want 0, ErrNoRequests", k, err)
		}
	})
}

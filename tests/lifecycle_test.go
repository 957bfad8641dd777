package tests

import (
	"context"
	"errors"
	"testing"

	"github.com/fileaio/fileaio/aio"
	"github.com/fileaio/fileaio/internal/pin"
)

// TestCloseBusyThenClosed: Close with requests in flight is ErrBusy and
// changes nothing; after draining it succeeds; afterwards Submit, Wait,
// Wakeup and a second Close return ErrClosed, and a refused request keeps
// its state.
func TestCloseBusyThenClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 16})
		f := tempFile(t)
		reqs := prepareWrites(t, f, 4)
		submitAll(t, c, reqs...)
		if err := c.Close(); !errors.Is(err, aio.ErrBusy) {
			t.Fatalf("Close with 4 requests in flight: %v, want ErrBusy", err)
		}
		// Nothing changed: the context still takes and delivers requests.
		more := aio.NewRequest()
		mustPrepare(t, more.PrepareWrite(f, 4, []byte{4}, 4))
		submitAll(t, c, more)
		for _, r := range waitN(t, c, 5) {
			expectResult(t, r, 1)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close with nothing in flight: %v", err)
		}
		if got := c.MaxRequests(); got != 16 {
			t.Errorf("MaxRequests() after Close = %d, want 16", got)
		}
		if err := c.Close(); !errors.Is(err, aio.ErrClosed) {
			t.Fatalf("second Close: %v, want ErrClosed", err)
		}
		r := aio.NewRequest()
		mustPrepare(t, r.PrepareRead(f, 0, make([]byte, 5), "after close"))
		if n, err := c.Submit(r); n != 0 || !errors.Is(err, aio.ErrClosed) {
			t.Fatalf("Submit after Close = %d, %v; want 0, ErrClosed", n, err)
		}
		if s := r.State(); s != aio.Prepared {
			t.Fatalf("request refused by a closed context is %v, want Prepared", s)
		}
		if n, err := c.Wait(context.Background(), 0, make([]*aio.Request, 1)); n != 0 || !errors.Is(err, aio.ErrClosed) {
			t.Fatalf("Wait after Close = %d, %v; want 0, ErrClosed", n, err)
		}
		if err := c.Wakeup(); !errors.Is(err, aio.ErrClosed) {
			t.Fatalf("Wakeup after Close: %v, want ErrClosed", err)
		}
		// The refused request works on another context.
		c2 := newContext(t, b, aio.Config{})
		run(t, c2, r)
		expectResult(t, r, 5)
	})
}

// TestContextChurn creates, uses and closes many contexts in a row (each
// with kernel resources of its own: a kqueue, an AIO ring, an eventfd),
// and checks that no descriptor and no pin is left behind. Several are
// open at the same time, each delivering only its own requests.
func TestContextChurn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		f := tempFile(t)
		before := countFDs(t)
		for round := range 20 {
			cs := make([]*aio.Context, 4)
			mine := make(map[*aio.Request]*aio.Context)
			for i := range cs {
				c, err := aio.NewContext(aio.Config{Backend: b, MaxRequests: 32})
				if err != nil {
					t.Fatalf("round %d: NewContext: %v", round, err)
				}
				cs[i] = c
				reqs := prepareWrites(t, f, 8)
				for _, r := range reqs {
					mine[r] = c
				}
				submitAll(t, c, reqs...)
			}
			for _, c := range cs {
				for _, r := range waitN(t, c, 8) {
					if mine[r] != c {
						t.Fatalf("round %d: a context delivered another context's request", round)
					}
					expectResult(t, r, 1)
				}
				if err := c.Close(); err != nil {
					t.Fatalf("round %d: Close: %v", round, err)
				}
			}
		}
		if after := countFDs(t); after != before {
			t.Fatalf("descriptors: %d before 80 contexts, %d after they were all closed", before, after)
		}
		checkPinsZero(t)
	})
}

// TestPinsReturnToZero: whatever pins a submission takes are all released
// once Wait has returned every request, including requests that failed,
// were canceled, or were refused with ErrAgain.
func TestPinsReturnToZero(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{MaxRequests: 32})
		f := tempFile(t)
		checkPinsZero(t)
		reqs := make([]*aio.Request, 100)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			switch i % 3 {
			case 0:
				mustPrepare(t, reqs[i].PrepareWrite(f, int64(i*100), make([]byte, 100), i))
			case 1:
				mustPrepare(t, reqs[i].PrepareWritev(f, int64(i*100), [][]byte{make([]byte, 50), make([]byte, 50)}, i))
			case 2:
				mustPrepare(t, reqs[i].PrepareRead(f, int64(i*100), make([]byte, 100), i))
			}
		}
		n, err := c.Submit(reqs...)
		if !errors.Is(err, aio.ErrAgain) {
			t.Fatalf("Submit(100) to a context of 32 = %d, %v; want ErrAgain", n, err)
		}
		t.Logf("pins held with %d requests in flight: %d", n, pin.Live())
		for _, r := range reqs {
			if i := r.User().(int); i%5 == 0 && r.State() == aio.Submitted {
				checkCancelAnswer(t, r.Cancel())
			}
		}
		waitN(t, c, n)
		checkPinsZero(t)
		var rest []*aio.Request
		for _, r := range reqs {
			if r.State() == aio.Prepared {
				rest = append(rest, r)
			}
		}
		runAll(t, c, rest)
		checkPinsZero(t)
	})
}

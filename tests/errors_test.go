package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// runExpectErrno submits reqs (all Prepared) and returns, per request, the
// error it failed with: either Submit refused it with an error (it stayed
// Prepared), or Submit accepted it and the error is its Result. Requests
// that succeed have a nil entry.
func runExpectErrno(t *testing.T, c *aio.Context, reqs ...*aio.Request) map[*aio.Request]error {
	t.Helper()
	got := make(map[*aio.Request]error, len(reqs))
	n, err := c.Submit(reqs...)
	accepted := 0
	for _, r := range reqs {
		switch r.State() {
		case aio.Submitted:
			accepted++
		case aio.Prepared:
			if err == nil {
				t.Fatalf("Submit returned nil but left request %v Prepared", r.User())
			}
			got[r] = err
		default:
			t.Fatalf("request %v is %v after Submit", r.User(), r.State())
		}
	}
	if accepted != n {
		t.Fatalf("Submit returned %d but %d requests are Submitted", n, accepted)
	}
	if n > 0 {
		for _, r := range waitN(t, c, n) {
			if _, seen := got[r]; seen {
				t.Fatalf("request %v delivered twice", r.User())
			}
			_, got[r] = r.Result()
		}
	}
	return got
}

// TestErrnoReadOnWriteOnly: a read from a file opened write-only fails
// with EBADF (ERROR_ACCESS_DENIED on Windows), from Submit or through
// Result; Prepare does not probe the access mode. Same for readv.
func TestErrnoReadOnWriteOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		name := tempFile(t).Name()
		if err := os.WriteFile(name, []byte("some content"), 0o600); err != nil {
			t.Fatal(err)
		}
		wo := openFile(t, name, os.O_WRONLY)
		read, readv := aio.NewRequest(), aio.NewRequest()
		mustPrepare(t, read.PrepareRead(wo, 0, make([]byte, 4), "read"))
		mustPrepare(t, readv.PrepareReadv(wo, 0, [][]byte{make([]byte, 2), make([]byte, 2)}, "readv"))
		for _, r := range []*aio.Request{read, readv} {
			err := runExpectErrno(t, c, r)[r]
			if !errors.Is(err, errWrongAccess) {
				t.Fatalf("%v on a write-only file: %v, want %v", r.User(), err, errWrongAccess)
			}
			if r.State() == aio.Completed {
				if n, _ := r.Result(); n != 0 {
					t.Fatalf("%v failed with %v but reports %d bytes", r.User(), errWrongAccess, n)
				}
			}
		}
	})
}

// TestErrnoWriteOnReadOnly: a write to a file opened read-only fails with
// EBADF and changes nothing. Same for writev.
func TestErrnoWriteOnReadOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		name := tempFile(t).Name()
		if err := os.WriteFile(name, []byte("original"), 0o600); err != nil {
			t.Fatal(err)
		}
		ro := openFile(t, name, os.O_RDONLY)
		write, writev := aio.NewRequest(), aio.NewRequest()
		mustPrepare(t, write.PrepareWrite(ro, 0, []byte("XXXX"), "write"))
		mustPrepare(t, writev.PrepareWritev(ro, 0, [][]byte{[]byte("YY"), []byte("YY")}, "writev"))
		got := runExpectErrno(t, c, write, writev)
		for _, r := range []*aio.Request{write, writev} {
			if !errors.Is(got[r], errWrongAccess) {
				t.Fatalf("%v on a read-only file: %v, want %v", r.User(), got[r], errWrongAccess)
			}
		}
		compare(t, "file", readFile(t, name), []byte("original"))
	})
}

// TestErrnoMixedBatch: in one batch, requests that fail (wrong access mode)
// do not disturb the others: each valid one completes with its data, each
// failing one reports EBADF, and each is delivered once. A request that
// failed can be prepared and submitted again.
func TestErrnoMixedBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		rw := tempFile(t)
		content := randBytes(newRand(t), 64*1024)
		if _, err := rw.WriteAt(content, 0); err != nil {
			t.Fatal(err)
		}
		wo := openFile(t, rw.Name(), os.O_WRONLY)
		const k = 32
		reqs := make([]*aio.Request, k)
		bufs := make([][]byte, k)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			bufs[i] = make([]byte, 2048)
			f := rw
			if i%3 == 1 {
				f = wo // fails: read on a write-only descriptor
			}
			mustPrepare(t, reqs[i].PrepareRead(f, int64(i*2048), bufs[i], i))
		}
		got := runExpectErrno(t, c, reqs...)
		for i, r := range reqs {
			err := got[r]
			if i%3 == 1 {
				if !errors.Is(err, errWrongAccess) {
					t.Fatalf("request %d (read on a write-only file): %v, want %v", i, err, errWrongAccess)
				}
				continue
			}
			if err != nil {
				t.Fatalf("request %d (valid read in a batch with failing ones): %v", i, err)
			}
			expectResult(t, r, 2048)
			compare(t, user("read %d", i), bufs[i], content[i*2048:(i+1)*2048])
		}
		// Reuse a failed request for a valid read.
		r := reqs[1]
		if r.State() == aio.Prepared {
			// It was refused at Submit and is still Prepared: prepare anew.
			t.Logf("the failing read was refused by Submit")
		}
		mustPrepare(t, r.PrepareRead(rw, 2048, bufs[1], "again"))
		run(t, c, r)
		expectResult(t, r, 2048)
		compare(t, "read again", bufs[1], content[2048:4096])
	})
}

// TestPrepareRejects: Prepare refuses what can never work (negative
// offset: EINVAL; nil file: os.ErrInvalid; closed file: os.ErrClosed) and
// leaves the request exactly as it was, whatever its state.
func TestPrepareRejects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		f := tempFile(t)
		closed, err := os.Create(f.Name() + ".closed")
		if err != nil {
			t.Fatal(err)
		}
		closed.Close()
		buf := []byte("data")
		bad := []struct {
			name    string
			want    error
			prepare func(r *aio.Request) error
		}{
			{"read at -1", syscall.EINVAL, func(r *aio.Request) error { return r.PrepareRead(f, -1, buf, "bad") }},
			{"write at -4096", syscall.EINVAL, func(r *aio.Request) error { return r.PrepareWrite(f, -4096, buf, "bad") }},
			{"readv at -1", syscall.EINVAL, func(r *aio.Request) error { return r.PrepareReadv(f, -1, [][]byte{buf}, "bad") }},
			{"writev at -1", syscall.EINVAL, func(r *aio.Request) error { return r.PrepareWritev(f, -1, [][]byte{buf}, "bad") }},
			{"read nil file", os.ErrInvalid, func(r *aio.Request) error { return r.PrepareRead(nil, 0, buf, "bad") }},
			{"flush nil file", os.ErrInvalid, func(r *aio.Request) error { return r.PrepareFlush(nil, "bad") }},
			{"datasync nil file", os.ErrInvalid, func(r *aio.Request) error { return r.PrepareDataSync(nil, "bad") }},
			{"write closed file", os.ErrClosed, func(r *aio.Request) error { return r.PrepareWrite(closed, 0, buf, "bad") }},
			{"flush closed file", os.ErrClosed, func(r *aio.Request) error { return r.PrepareFlush(closed, "bad") }},
		}
		check := func(r *aio.Request, state aio.State, user any) {
			t.Helper()
			for _, bd := range bad {
				if err := bd.prepare(r); !errors.Is(err, bd.want) {
					t.Fatalf("%s on a %v request: %v, want %v", bd.name, state, err, bd.want)
				}
				if s, u := r.State(), r.User(); s != state || u != user {
					t.Fatalf("%s: request became %v with user %v, want %v with user %v", bd.name, s, u, state, user)
				}
			}
		}
		r := aio.NewRequest()
		check(r, aio.Idle, nil)
		mustPrepare(t, r.PrepareWrite(f, 0, buf, "good"))
		check(r, aio.Prepared, "good")
		run(t, c, r)
		check(r, aio.Completed, "good")
		expectResult(t, r, len(buf)) // the result survived the refused Prepares
		compare(t, "file", readFile(t, f.Name()), buf)
	})
}

// TestRequestStates: Result is ErrNotSubmitted before submission and
// ErrInProgress while submitted; Prepare on a submitted request is
// ErrInProgress and changes nothing.
func TestRequestStates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{WaitWithoutPending: true})
		f := tempFile(t)
		r := aio.NewRequest()
		if s := r.State(); s != aio.Idle {
			t.Fatalf("NewRequest is %v, want Idle", s)
		}
		if _, err := r.Result(); !errors.Is(err, aio.ErrNotSubmitted) {
			t.Fatalf("Result on an Idle request: %v, want ErrNotSubmitted", err)
		}
		mustPrepare(t, r.PrepareWrite(f, 0, []byte("abc"), "first"))
		if _, err := r.Result(); !errors.Is(err, aio.ErrNotSubmitted) {
			t.Fatalf("Result on a Prepared request: %v, want ErrNotSubmitted", err)
		}
		submitAll(t, c, r)
		if _, err := r.Result(); !errors.Is(err, aio.ErrInProgress) {
			t.Fatalf("Result on a Submitted request: %v, want ErrInProgress", err)
		}
		if err := r.PrepareRead(f, 0, make([]byte, 3), "second"); !errors.Is(err, aio.ErrInProgress) {
			t.Fatalf("PrepareRead on a Submitted request: %v, want ErrInProgress", err)
		}
		if err := r.PrepareFlush(f, "second"); !errors.Is(err, aio.ErrInProgress) {
			t.Fatalf("PrepareFlush on a Submitted request: %v, want ErrInProgress", err)
		}
		// Still Submitted until Wait returns it, even once the I/O is done.
		if s, u := r.State(), r.User(); s != aio.Submitted || u != "first" {
			t.Fatalf("request is %v with user %v, want Submitted with user first", s, u)
		}
		waitN(t, c, 1)
		expectResult(t, r, 3)
		for _, s := range []aio.State{aio.Idle, aio.Prepared, aio.Submitted, aio.Completed} {
			if s.String() == "" {
				t.Fatalf("State(%d) has no name", int(s))
			}
		}
	})
}

// TestSubmitRefusals: Submit refuses the whole call, changing nothing, if a
// request is nil, not Prepared, listed twice, or already submitted here or
// to another context.
func TestSubmitRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c1 := newContext(t, b, aio.Config{})
		c2 := newContext(t, b, aio.Config{})
		f := tempFile(t)
		good := aio.NewRequest()
		mustPrepare(t, good.PrepareWrite(f, 0, []byte("g"), "good"))
		idle := aio.NewRequest()
		other := aio.NewRequest()
		mustPrepare(t, other.PrepareWrite(f, 1, []byte("o"), "other"))
		submitAll(t, c1, other)

		cases := []struct {
			name string
			reqs []*aio.Request
		}{
			{"nil request", []*aio.Request{good, nil}},
			{"idle request", []*aio.Request{good, idle}},
			{"listed twice", []*aio.Request{good, good}},
			{"submitted to another context", []*aio.Request{good, other}},
		}
		for _, cs := range cases {
			n, err := c2.Submit(cs.reqs...)
			if n != 0 || err == nil {
				t.Fatalf("Submit with a %s = %d, %v; want 0 and an error", cs.name, n, err)
			}
			if !errors.Is(err, aio.ErrInvalidState) && !errors.Is(err, aio.ErrInProgress) {
				t.Errorf("Submit with a %s: %v, want ErrInvalidState or ErrInProgress", cs.name, err)
			}
			if s := good.State(); s != aio.Prepared {
				t.Fatalf("after Submit with a %s, the good request is %v, want Prepared", cs.name, s)
			}
		}
		// The same request again on its own context.
		if n, err := c1.Submit(other); n != 0 || err == nil {
			t.Fatalf("Submit of a request already in flight = %d, %v; want 0 and an error", n, err)
		}
		if s := idle.State(); s != aio.Idle {
			t.Fatalf("refused idle request is %v", s)
		}
		// c2 has nothing in flight: nothing was taken.
		if n, err := c2.Wait(context.Background(), 0, make([]*aio.Request, 1)); n != 0 || !errors.Is(err, aio.ErrNoRequests) {
			t.Fatalf("Wait on the context that refused everything = %d, %v; want 0, ErrNoRequests", n, err)
		}
		waitN(t, c1, 1)
		expectResult(t, other, 1)
		// Once completed, the request can go to the other context.
		mustPrepare(t, other.PrepareWrite(f, 2, []byte("p"), "other again"))
		run(t, c2, good, other)
		expectResult(t, good, 1)
		expectResult(t, other, 1)
		compare(t, "file", readFile(t, f.Name()), []byte("gop"))
		// An empty Submit is a no-op.
		if n, err := c2.Submit(); n != 0 || err != nil {
			t.Fatalf("Submit() = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestErrorSentinels: ErrCanceled matches ECANCELED and ErrAgain EAGAIN, so
// callers may test either way.
func TestErrorSentinels(t *testing.T) {
	canceled := fmt.Errorf("wrapped: %w", aio.ErrCanceled)
	if !errors.Is(canceled, syscall.ECANCELED) || !errors.Is(canceled, aio.ErrCanceled) {
		t.Error("a wrapped ErrCanceled does not match syscall.ECANCELED and ErrCanceled")
	}
	again := fmt.Errorf("wrapped: %w", aio.ErrAgain)
	if !errors.Is(again, syscall.EAGAIN) || !errors.Is(again, aio.ErrAgain) {
		t.Error("a wrapped ErrAgain does not match syscall.EAGAIN and ErrAgain")
	}
	all := []error{aio.ErrInProgress, aio.ErrNotSubmitted, aio.ErrAlreadyCompleted, aio.ErrCanceled,
		aio.ErrBusy, aio.ErrNoRequests, aio.ErrInterrupted, aio.ErrClosed, aio.ErrNotSupported,
		aio.ErrInvalidState, aio.ErrAgain}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v matches %v", a, b)
			}
		}
	}
}

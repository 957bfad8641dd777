package aio

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// smReqSnap is everything a caller can observe of a request, plus what
// Prepare stored, so a test can check that a refused call changed nothing.
type smReqSnap struct {
	state   State
	user    any
	n       int
	err     error
	op      opcode
	file    *os.File
	fd      int
	off     int64
	buf     *byte
	bufLen  int
	bufs    *[]byte
	bufsLen int
	owner   *Context
}

func smSnapshot(r *Request) smReqSnap {
	n, err := r.Result()
	return smReqSnap{
		state: r.State(), user: r.User(), n: n, err: err,
		op: r.op, file: r.file, fd: r.fd, off: r.off,
		buf: unsafe.SliceData(r.buf), bufLen: len(r.buf),
		bufs: unsafe.SliceData(r.bufs), bufsLen: len(r.bufs),
		owner: r.ownerCtx(),
	}
}

func smSameSnap(t *testing.T, what string, before, after smReqSnap) {
	t.Helper()
	if before != after {
		t.Errorf("%s changed the request:\n before %+v\n after  %+v", what, before, after)
	}
}

// smPrepareFuncs are the six Prepare variants, each with valid arguments
// except the file and offset given.
var smPrepareFuncs = []struct {
	name    string
	offset  bool // takes an offset
	vector  bool // takes [][]byte
	prepare func(r *Request, f *os.File, off int64, user any) error
}{
	{"Read", true, false, func(r *Request, f *os.File, off int64, u any) error { return r.PrepareRead(f, off, make([]byte, 8), u) }},
	{"Write", true, false, func(r *Request, f *os.File, off int64, u any) error {
		return r.PrepareWrite(f, off, make([]byte, 8), u)
	}},
	{"Flush", false, false, func(r *Request, f *os.File, off int64, u any) error { return r.PrepareFlush(f, u) }},
	{"DataSync", false, false, func(r *Request, f *os.File, off int64, u any) error { return r.PrepareDataSync(f, u) }},
	{"Readv", true, true, func(r *Request, f *os.File, off int64, u any) error {
		return r.PrepareReadv(f, off, [][]byte{make([]byte, 4), make([]byte, 4)}, u)
	}},
	{"Writev", true, true, func(r *Request, f *os.File, off int64, u any) error {
		return r.PrepareWritev(f, off, [][]byte{make([]byte, 4), make([]byte, 4)}, u)
	}},
}

// smReqInState returns a request in state st, submitted (if at all) through
// the fake context c. A Submitted request's job is queued and not completed.
func smReqInState(t *testing.T, c *Context, f *fakeBackend, file *os.File, st State) *Request {
	t.Helper()
	r := NewRequest()
	if st == Idle {
		return r
	}
	if err := r.PrepareRead(file, 16, make([]byte, 32), "orig"); err != nil {
		t.Fatal(err)
	}
	if st == Prepared {
		return r
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if st == Submitted {
		return r
	}
	f.completeOK(r)
	if got := smWaitN(t, c, 1); got[0] != r {
		t.Fatalf("Wait returned %p, want %p", got[0], r)
	}
	if r.State() != Completed {
		t.Fatalf("state %v after Wait", r.State())
	}
	return r
}

// smSettle completes and collects whatever smReqInState left in flight.
func smSettle(t *testing.T, c *Context, f *fakeBackend) {
	t.Helper()
	f.completeAll()
	if n := smInflight(c); n > 0 {
		smWaitN(t, c, n)
	}
}

func TestStateString(t *testing.T) {
	for st, want := range map[State]string{Idle: "Idle", Prepared: "Prepared", Submitted: "Submitted", Completed: "Completed", State(9): "State(9)"} {
		if got := st.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(st), got, want)
		}
	}
}

func TestResultByState(t *testing.T) {
	file := smFile(t, 64)
	for _, tc := range []struct {
		st      State
		wantN   int
		wantErr error
	}{
		{Idle, 0, ErrNotSubmitted},
		{Prepared, 0, ErrNotSubmitted},
		{Submitted, 0, ErrInProgress},
		{Completed, 32, nil},
	} {
		t.Run(tc.st.String(), func(t *testing.T) {
			c, f := newFakeContext(t, Config{}, 4, 8)
			r := smReqInState(t, c, f, file, tc.st)
			n, err := r.Result()
			if n != tc.wantN || err != tc.wantErr {
				t.Errorf("Result = %d, %v; want %d, %v", n, err, tc.wantN, tc.wantErr)
			}
			smSettle(t, c, f)
		})
	}
}

func TestPrepareOnSubmitted(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	r := smReqInState(t, c, f, file, Submitted)
	for _, p := range smPrepareFuncs {
		before := smSnapshot(r)
		if err := p.prepare(r, file, 0, "new"); !errors.Is(err, ErrInProgress) {
			t.Errorf("Prepare%s on a Submitted request = %v, want ErrInProgress", p.name, err)
		}
		// Even with arguments that are wrong in themselves.
		if err := p.prepare(r, nil, -1, "new"); !errors.Is(err, ErrInProgress) {
			t.Errorf("Prepare%s(nil file) on a Submitted request = %v, want ErrInProgress", p.name, err)
		}
		smSameSnap(t, "Prepare"+p.name+" on a Submitted request", before, smSnapshot(r))
	}
	smSettle(t, c, f)
	if n, err := r.Result(); n != 32 || err != nil {
		t.Errorf("Result after completion = %d, %v; want 32, nil", n, err)
	}
}

func TestPrepareFromEachState(t *testing.T) {
	file := smFile(t, 64)
	for _, st := range []State{Idle, Prepared, Completed} {
		for _, p := range smPrepareFuncs {
			t.Run(st.String()+"/"+p.name, func(t *testing.T) {
				c, f := newFakeContext(t, Config{}, 4, 8)
				r := smReqInState(t, c, f, file, st)
				user := &struct{ x int }{7}
				if err := p.prepare(r, file, 24, user); err != nil {
					t.Fatalf("Prepare%s = %v", p.name, err)
				}
				if r.State() != Prepared {
					t.Errorf("state %v, want Prepared", r.State())
				}
				if r.User() != any(user) {
					t.Errorf("User() = %v, want the value just given", r.User())
				}
				if n, err := r.Result(); n != 0 || err != ErrNotSubmitted {
					t.Errorf("Result = %d, %v; want 0, ErrNotSubmitted", n, err)
				}
				if r.file != file || r.fd != -1 {
					t.Errorf("file not recorded")
				}
				if p.offset && r.off != 24 {
					t.Errorf("offset %d, want 24", r.off)
				}
				if !p.offset && r.off != 0 {
					t.Errorf("offset %d, want 0 for a sync", r.off)
				}
				if r.ownerCtx() != nil {
					t.Errorf("a prepared request has an owner")
				}
				smSettle(t, c, f)
			})
		}
	}
}

func TestPrepareRejects(t *testing.T) {
	file := smFile(t, 64)
	closed, err := os.CreateTemp(t.TempDir(), "closed")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	type rejCase struct {
		name string
		call func(r *Request) error
		want error
	}
	var cases []rejCase
	for _, p := range smPrepareFuncs {
		cases = append(cases,
			rejCase{p.name + "/nil-file", func(r *Request) error { return p.prepare(r, nil, 0, "new") }, os.ErrInvalid},
			rejCase{p.name + "/closed-file", func(r *Request) error { return p.prepare(r, closed, 0, "new") }, os.ErrClosed},
		)
		if p.offset {
			cases = append(cases,
				rejCase{p.name + "/negative-offset", func(r *Request) error { return p.prepare(r, file, -1, "new") }, syscall.EINVAL},
				rejCase{p.name + "/min-offset", func(r *Request) error { return p.prepare(r, file, -1<<63, "new") }, syscall.EINVAL},
			)
		}
	}
	tooMany := make([][]byte, maxIovecs+1)
	cases = append(cases,
		rejCase{"Readv/too-many-iovecs", func(r *Request) error { return r.PrepareReadv(file, 0, tooMany, "new") }, syscall.EINVAL},
		rejCase{"Writev/too-many-iovecs", func(r *Request) error { return r.PrepareWritev(file, 0, tooMany, "new") }, syscall.EINVAL},
	)
	for _, st := range []State{Idle, Prepared, Completed} {
		for _, tc := range cases {
			t.Run(st.String()+"/"+tc.name, func(t *testing.T) {
				c, f := newFakeContext(t, Config{}, 4, 8)
				r := smReqInState(t, c, f, file, st)
				before := smSnapshot(r)
				err := tc.call(r)
				if !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
				smSameSnap(t, "a rejected Prepare", before, smSnapshot(r))
			})
		}
	}
}

func TestPrepareAllowsWhatTheKernelJudges(t *testing.T) {
	// Prepare does not probe the access mode or the size: the kernel
	// reports through Result. Empty buffers and nil vectors are fine.
	dir := t.TempDir()
	ro, err := os.Create(dir + "/ro")
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	ro, err = os.Open(dir + "/ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r := NewRequest()
	for _, err := range []error{
		r.PrepareWrite(ro, 0, []byte("x"), nil),
		r.PrepareRead(ro, 1<<40, nil, nil),
		r.PrepareReadv(ro, 0, nil, nil),
		r.PrepareWritev(ro, 0, make([][]byte, maxIovecs), nil),
		r.PrepareFlush(ro, nil),
	} {
		if err != nil {
			t.Errorf("Prepare = %v, want nil", err)
		}
	}
}

func TestCancelByState(t *testing.T) {
	file := smFile(t, 64)
	for _, tc := range []struct {
		st   State
		want error
	}{
		{Idle, ErrNotSubmitted},
		{Prepared, ErrNotSubmitted},
		{Completed, ErrAlreadyCompleted},
	} {
		t.Run(tc.st.String(), func(t *testing.T) {
			c, f := newFakeContext(t, Config{}, 4, 8)
			r := smReqInState(t, c, f, file, tc.st)
			before := smSnapshot(r)
			if err := r.Cancel(); err != tc.want {
				t.Errorf("Cancel = %v, want %v", err, tc.want)
			}
			smSameSnap(t, "Cancel", before, smSnapshot(r))
		})
	}
}

// TestCancelSubmitted drives every answer the kernel can give to a cancel.
func TestCancelSubmitted(t *testing.T) {
	file := smFile(t, 64)
	for _, tc := range []struct {
		name       string
		outcome    cancelOutcome
		err        error
		want       error // from Cancel
		completion syscall.Errno
		wantResult error
	}{
		{"canceled", cancelDone, nil, nil, syscall.ECANCELED, ErrCanceled},
		{"not-canceled", cancelNotCanceled, nil, ErrInProgress, 0, nil},
		{"all-done", cancelAllDone, nil, ErrAlreadyCompleted, 0, nil},
		{"error", cancelAllDone, syscall.EBADF, syscall.EBADF, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newFakeContext(t, Config{}, 4, 8)
			f.cancelFn = func(*Request) (cancelOutcome, error) { return tc.outcome, tc.err }
			r := smReqInState(t, c, f, file, Submitted)
			err := r.Cancel()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Cancel = %v, want %v", err, tc.want)
			}
			if r.State() != Submitted {
				t.Errorf("state %v after Cancel, want Submitted until Wait returns it", r.State())
			}
			if _, err := r.Result(); err != ErrInProgress {
				t.Errorf("Result after Cancel = %v, want ErrInProgress", err)
			}
			if got := smInflight(c); got != 1 {
				t.Errorf("in flight %d after Cancel, want 1", got)
			}
			if tc.completion != 0 {
				f.complete(r, 0, tc.completion)
			} else {
				f.completeOK(r)
			}
			smWaitN(t, c, 1)
			n, err := r.Result()
			if tc.wantResult == nil && (err != nil || n != 32) || tc.wantResult != nil && (err != tc.wantResult || n != 0) {
				t.Errorf("Result = %d, %v; want %v", n, err, tc.wantResult)
			}
			if tc.wantResult == ErrCanceled && !errors.Is(err, syscall.ECANCELED) {
				t.Errorf("ErrCanceled does not match ECANCELED")
			}
		})
	}
}

func TestCancelRejectedAtSubmission(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	f.script = []syscall.Errno{syscall.EBADF}
	r := NewRequest()
	r.PrepareRead(file, 0, make([]byte, 8), nil)
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if err := r.Cancel(); err != ErrAlreadyCompleted {
		t.Errorf("Cancel of a request the kernel rejected = %v, want ErrAlreadyCompleted", err)
	}
	smWaitN(t, c, 1)
	if _, err := r.Result(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Result = %v, want EBADF", err)
	}
}

func TestUserFollowsPrepare(t *testing.T) {
	file := smFile(t, 64)
	r := NewRequest()
	if r.User() != nil {
		t.Errorf("new request's User() = %v", r.User())
	}
	r.PrepareRead(file, 0, nil, 1)
	r.PrepareRead(file, 0, nil, "two")
	if r.User() != "two" {
		t.Errorf("User() = %v, want the last value", r.User())
	}
	r.PrepareRead(nil, 0, nil, "three")
	if r.User() != "two" {
		t.Errorf("a rejected Prepare changed User() to %v", r.User())
	}
}

// TestRequestReuseFake reuses one request for every kind of operation and
// every outcome, and checks it gets a fresh slot generation each time.
func TestRequestReuseFake(t *testing.T) {
	file := smFile(t, 64)
	c, f := newFakeContext(t, Config{}, 4, 8)
	r := NewRequest()
	var gens []uint32
	for i := range 60 {
		p := smPrepareFuncs[i%len(smPrepareFuncs)]
		if err := p.prepare(r, file, int64(i), i); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Submit(r); n != 1 || err != nil {
			t.Fatalf("round %d: Submit = %d, %v", i, n, err)
		}
		gens = append(gens, r.gen)
		var wantErr syscall.Errno
		switch i % 3 {
		case 0:
			f.completeOK(r)
		case 1:
			wantErr = syscall.EIO
			f.complete(r, 0, wantErr)
		case 2:
			if err := r.Cancel(); err != nil {
				t.Fatalf("Cancel = %v", err)
			}
			wantErr = syscall.ECANCELED
			f.deliverCanceled()
		}
		smWaitN(t, c, 1)
		n, err := r.Result()
		if wantErr == 0 && (n != r.length() || err != nil) || wantErr != 0 && !errors.Is(err, wantErr) {
			t.Errorf("round %d: Result = %d, %v; want errno %v", i, n, err, wantErr)
		}
		if r.User() != i {
			t.Errorf("round %d: User() = %v", i, r.User())
		}
	}
	for i := 1; i < len(gens); i++ {
		if gens[i] == gens[i-1] {
			t.Fatalf("reuse %d kept generation %d", i, gens[i])
		}
	}
}

// smWaitN collects exactly want completions from c, failing the test instead
// of hanging.
func smWaitN(t testing.TB, c *Context, want int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make([]*Request, 0, want)
	out := make([]*Request, want)
	for len(got) < want {
		n, err := c.Wait(ctx, 1, out[:want-len(got)])
		got = append(got, out[:n]...)
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", len(got), want, err)
		}
	}
	for _, r := range got {
		if r.State() != Completed {
			t.Errorf("Wait returned a %v request", r.State())
		}
	}
	return got
}

// smInflight reads the context's in-flight count.
func smInflight(c *Context) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight
}

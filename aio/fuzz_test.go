package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/pin"
)

// FuzzContext drives random sequences of operations on two contexts over
// the fake kernel and checks them against a model of the contract: states
// and results, Submit's count and ErrAgain leaving requests Prepared, every
// accepted request delivered exactly once, no completion lost, stale and
// forged events ignored, in-flight counts, Wakeup reported once, Close only
// when idle, and the live pins always those of the jobs in the kernel.
func FuzzContext(f *testing.F) {
	dir := f.TempDir()
	file, err := os.OpenFile(filepath.Join(dir, "data"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { file.Close() })
	closed, err := os.Create(filepath.Join(dir, "closed"))
	if err != nil {
		f.Fatal(err)
	}
	closed.Close()

	for _, seed := range [][]byte{
		{},
		{5, 3, 2, 1, 0, 0, 0, 1, 0, 4, 0, 1, 2, 3, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 2, 8, 0},
		{7, 5, 3, 3, 0, 10, 0, 20, 0, 30, 1, 0, 3, 0, 1, 2, 0, 0, 0, 3, 0, 0, 4, 0, 3, 4, 0, 1, 0, 9, 0, 4, 0, 1, 1, 0},
		{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 5, 0, 4, 0, 0, 0, 6, 0, 7, 0, 0, 0, 1, 0, 1, 0, 0, 0},
		{8, 2, 1, 0, 0, 1, 0, 1, 3, 0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 4, 0, 255, 255, 0},
		{3, 1, 1, 1, 1, 0, 0, 0, 1, 0, 3, 0, 1, 2, 1, 1, 1, 3, 0, 0, 0, 2, 0, 0, 1, 4, 0, 0, 1, 8, 0, 0, 0, 3, 0, 2, 2, 0},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newFuzzModel(t, data, file, closed)
		m.run()
	})
}

type fuzzInput struct {
	data []byte
	pos  int
}

func (in *fuzzInput) more() bool { return in.pos < len(in.data) }

func (in *fuzzInput) byte() byte {
	if in.pos >= len(in.data) {
		return 0
	}
	b := in.data[in.pos]
	in.pos++
	return b
}

func (in *fuzzInput) intn(n int) int { return int(in.byte()) % n }

// fuzzReq is the model of one request.
type fuzzReq struct {
	r     *Request
	state State
	user  int
	pins  int64 // pins it holds while its job is in the kernel
	ctx   int   // the context it is in flight in, or -1

	// While in flight.
	rejected  syscall.Errno // refused by the kernel at submission
	ev        event         // its job's event, as queued
	completed bool          // the kernel posted a completion
	canceled  bool          // cancel answered cancelDone
	resN      int
	resErr    syscall.Errno

	// Once Completed.
	doneN   int
	doneErr syscall.Errno
}

type fuzzCtx struct {
	c        *Context
	f        *fakeBackend
	limit    int
	batch    int
	wwp      bool
	closed   bool
	woken    bool
	inflight int
	past     []event // events of collected jobs, to replay
	cancelAs cancelOutcome
	cancelEr error
	outcomes map[*Request]syscall.Errno
}

type fuzzModel struct {
	t      *testing.T
	in     fuzzInput
	file   *os.File
	closed *os.File
	reqs   []*fuzzReq
	ctxs   [2]*fuzzCtx
	user   int
	step   int
}

func newFuzzModel(t *testing.T, data []byte, file, closed *os.File) *fuzzModel {
	m := &fuzzModel{t: t, in: fuzzInput{data: data}, file: file, closed: closed}
	if n := pin.Live(); n != 0 {
		t.Fatalf("%d pins live before the run", n)
	}
	nreq := 1 + m.in.intn(8)
	for range nreq {
		m.reqs = append(m.reqs, &fuzzReq{r: NewRequest(), ctx: -1})
	}
	for k := range m.ctxs {
		m.open(k)
	}
	return m
}

func (m *fuzzModel) open(k int) {
	cfg := m.in.byte()
	x := &fuzzCtx{
		limit:    1 + int(cfg%6),
		batch:    1 + int(cfg/6%4),
		wwp:      cfg&0x80 != 0,
		outcomes: map[*Request]syscall.Errno{},
	}
	x.c, x.f = newFakeContext(m.t, Config{WaitWithoutPending: x.wwp}, x.batch, x.limit)
	x.f.outcome = func(r *Request) syscall.Errno { return x.outcomes[r] }
	x.f.cancelFn = func(*Request) (cancelOutcome, error) { return x.cancelAs, x.cancelEr }
	m.ctxs[k] = x
}

func (m *fuzzModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("step %d: "+format, append([]any{m.step}, args...)...)
}

func (m *fuzzModel) run() {
	for m.step = 0; m.in.more() && m.step < 500; m.step++ {
		switch op := m.in.intn(10); op {
		case 0:
			m.prepare()
		case 1, 2:
			m.submit()
		case 3:
			m.complete()
		case 4:
			m.cancel()
		case 5:
			m.wait()
		case 6:
			m.wakeup()
		case 7:
			m.close()
		case 8:
			m.forge()
		case 9:
			m.completeAll()
		}
		m.check()
	}
	m.finish()
}

func (m *fuzzModel) pick() *fuzzReq { return m.reqs[m.in.intn(len(m.reqs))] }

func (m *fuzzModel) prepare() {
	q := m.pick()
	kind := m.in.intn(8)
	m.user++
	var err error
	var pins int64 = 1
	var valid bool
	switch kind {
	case 0:
		err, valid, pins = q.r.PrepareRead(m.file, int64(m.in.intn(64)), make([]byte, 8), m.user), true, 2
	case 1:
		err, valid, pins = q.r.PrepareWrite(m.file, 0, make([]byte, 8), m.user), true, 2
	case 2:
		err, valid = q.r.PrepareRead(m.file, 0, nil, m.user), true
	case 3:
		err, valid = q.r.PrepareFlush(m.file, m.user), true
	case 4:
		err, valid, pins = q.r.PrepareReadv(m.file, 4, [][]byte{make([]byte, 4), nil, make([]byte, 4)}, m.user), true, 3
	case 5:
		err = q.r.PrepareWrite(nil, 0, make([]byte, 8), m.user)
	case 6:
		err = q.r.PrepareRead(m.file, -1-int64(m.in.byte()), make([]byte, 8), m.user)
	case 7:
		err = q.r.PrepareDataSync(m.closed, m.user)
	}
	switch {
	case q.state == Submitted:
		if !errors.Is(err, ErrInProgress) {
			m.fatalf("Prepare on a Submitted request = %v", err)
		}
	case !valid:
		if err == nil {
			m.fatalf("Prepare kind %d accepted", kind)
		}
	default:
		if err != nil {
			m.fatalf("Prepare kind %d = %v", kind, err)
		}
		q.state, q.user, q.pins = Prepared, m.user, pins
	}
}

func (m *fuzzModel) submit() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	n := 1 + m.in.intn(6)
	var list []*Request
	var qs []*fuzzReq
	for range n {
		i := m.in.intn(len(m.reqs) + 1)
		if i == len(m.reqs) {
			if m.in.intn(4) != 0 { // nil only now and then
				i = 0
			} else {
				list, qs = append(list, nil), append(qs, nil)
				continue
			}
		}
		list, qs = append(list, m.reqs[i].r), append(qs, m.reqs[i])
	}
	clear(x.outcomes)
	for _, r := range list {
		var e syscall.Errno
		switch m.in.intn(8) {
		case 5:
			e = syscall.EAGAIN
		case 6:
			e = syscall.EBADF
		case 7:
			e = syscall.EINVAL
		}
		if r != nil {
			x.outcomes[r] = e
		}
	}

	// The model's answer.
	var wantErr error
	switch {
	case x.closed:
		wantErr = ErrClosed
	default:
		seen := map[*fuzzReq]bool{}
		for _, q := range qs {
			switch {
			case q == nil:
				wantErr = ErrInvalidState
			case q.state == Submitted:
				wantErr = ErrInProgress
			case q.state != Prepared, seen[q]:
				wantErr = ErrInvalidState
			}
			if wantErr != nil {
				break
			}
			seen[q] = true
		}
	}
	if wantErr != nil {
		got, err := x.c.Submit(list...)
		if got != 0 || !errors.Is(err, wantErr) {
			m.fatalf("Submit = %d, %v; want 0, %v", got, err, wantErr)
		}
		return
	}
	accepted, again := 0, false
	type outcome struct {
		q *fuzzReq
		e syscall.Errno
	}
	var sim []outcome
	pending := qs
	flying := x.inflight
	for len(pending) > 0 {
		room := x.limit - flying
		if room == 0 {
			again = true
			break
		}
		chunk := pending[:min(len(pending), x.batch, room)]
		pending = pending[len(chunk):]
		stop := false
		for _, q := range chunk {
			e := x.outcomes[q.r]
			sim = append(sim, outcome{q, e})
			if e == syscall.EAGAIN {
				stop = true
				continue
			}
			accepted++
			flying++
		}
		if stop {
			again = true
			break
		}
	}
	got, err := x.c.Submit(list...)
	if got != accepted || again != errors.Is(err, ErrAgain) || !again && err != nil {
		m.fatalf("Submit = %d, %v; want %d, again %v", got, err, accepted, again)
	}
	for _, o := range sim {
		q := o.q
		switch o.e {
		case syscall.EAGAIN:
			continue
		case 0:
			q.rejected = 0
			q.ev = x.f.current(q.r)
		default:
			q.rejected = o.e
		}
		q.state, q.ctx = Submitted, k
		q.completed, q.canceled, q.resN, q.resErr = false, false, 0, 0
		x.inflight++
	}
}

// queued returns a request of context k whose job is in the kernel.
func (m *fuzzModel) queued(k int) *fuzzReq {
	var cands []*fuzzReq
	for _, q := range m.reqs {
		if q.state == Submitted && q.ctx == k && q.rejected == 0 {
			cands = append(cands, q)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[m.in.intn(len(cands))]
}

func (m *fuzzModel) complete() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	q := m.queued(k)
	kind := m.in.intn(6)
	if q == nil {
		return
	}
	var n int
	var e syscall.Errno
	switch kind {
	case 0, 1:
		n = q.r.length()
	case 2:
		n = m.in.intn(q.r.length() + 1) // short
	case 3:
		e = syscall.EIO
	case 4:
		e = syscall.ECANCELED
	case 5:
		e = syscall.EBADF
	}
	if !q.completed {
		q.completed, q.resN, q.resErr = true, n, e
	}
	x.f.complete(q.r, int64(n), e)
}

func (m *fuzzModel) completeAll() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	for _, q := range m.reqs {
		if q.state == Submitted && q.ctx == k && q.rejected == 0 && !q.completed {
			q.completed = true
			if q.canceled {
				q.resN, q.resErr = 0, syscall.ECANCELED
			} else {
				q.resN, q.resErr = q.r.length(), 0
			}
		}
	}
	x.f.completeAll()
}

func (m *fuzzModel) forge() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	switch kind := m.in.intn(4); {
	case kind == 0 && len(x.past) > 0:
		x.f.post(x.past[m.in.intn(len(x.past))])
	case kind == 1:
		x.f.post(event{slot: uint32(m.in.intn(x.limit + 2)), gen: 1 << 31})
	default:
		q := m.queued(k)
		if q == nil {
			return
		}
		ev := q.ev
		if kind == 2 {
			ev.gen--
		} else {
			ev.ident++
		}
		x.f.post(ev)
	}
}

func (m *fuzzModel) cancel() {
	q := m.pick()
	ans := m.in.intn(5)
	var want error
	switch {
	case q.state == Idle, q.state == Prepared:
		want = ErrNotSubmitted
	case q.state == Completed, q.rejected != 0:
		want = ErrAlreadyCompleted
	default:
		x := m.ctxs[q.ctx]
		x.cancelEr = nil
		switch ans {
		case 0, 1:
			x.cancelAs = cancelDone
			q.canceled = true
		case 2:
			x.cancelAs, want = cancelNotCanceled, ErrInProgress
		case 3:
			x.cancelAs, want = cancelAllDone, ErrAlreadyCompleted
		case 4:
			x.cancelAs, x.cancelEr, want = cancelAllDone, syscall.EBADF, syscall.EBADF
		}
	}
	err := q.r.Cancel()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		m.fatalf("Cancel of a %v request = %v, want %v", q.state, err, want)
	}
}

func (m *fuzzModel) wakeup() {
	x := m.ctxs[m.in.intn(2)]
	err := x.c.Wakeup()
	if x.closed {
		if err != ErrClosed {
			m.fatalf("Wakeup after Close = %v", err)
		}
		return
	}
	if err != nil {
		m.fatalf("Wakeup = %v", err)
	}
	x.woken = true
}

func (m *fuzzModel) close() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	if x.closed {
		if err := x.c.Close(); err != ErrClosed {
			m.fatalf("second Close = %v", err)
		}
		m.open(k) // start over with a new context; the requests stay
		return
	}
	err := x.c.Close()
	switch {
	case x.inflight > 0:
		if err != ErrBusy {
			m.fatalf("Close with %d in flight = %v", x.inflight, err)
		}
	case err != nil:
		m.fatalf("Close = %v", err)
	default:
		x.closed = true
		x.f.verifyDrained()
	}
}

// validEvents reports which of context k's jobs have an event in the fake
// kernel's queue that names their current submission.
func (m *fuzzModel) validEvents(k int) map[*Request]bool {
	f := m.ctxs[k].f
	f.mu.Lock()
	defer f.mu.Unlock()
	v := map[*Request]bool{}
	for _, ev := range f.queue {
		if int(ev.slot) >= len(f.jobs) {
			continue
		}
		j := &f.jobs[ev.slot]
		if j.state == fjQueued && j.gen == ev.gen && j.ident == ev.ident {
			v[j.r] = true
		}
	}
	return v
}

func (m *fuzzModel) wait() {
	k := m.in.intn(2)
	x := m.ctxs[k]
	outLen := m.in.intn(6)
	atLeast := m.in.intn(outLen + 2) // outLen+1 is invalid
	mode := m.in.intn(4)             // 0: an already canceled context
	out := make([]*Request, outLen)

	valid := m.validEvents(k)
	ready := 0
	for _, q := range m.reqs {
		if q.state == Submitted && q.ctx == k && q.rejected != 0 {
			ready++
		}
	}
	deliverable := ready + len(valid)
	var ctx context.Context
	var cancel context.CancelFunc
	if mode == 0 {
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
	} else {
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if atLeast <= outLen && atLeast > deliverable && !x.woken {
			atLeast = deliverable // never block
		}
	}
	n, err := x.c.Wait(ctx, atLeast, out)
	if ctx.Err() == context.DeadlineExceeded {
		m.fatalf("Wait(atLeast %d, len %d, %d deliverable) blocked", atLeast, outLen, deliverable)
	}

	switch {
	case atLeast > outLen:
		if n != 0 || !errors.Is(err, os.ErrInvalid) {
			m.fatalf("Wait(atLeast %d, len %d) = %d, %v", atLeast, outLen, n, err)
		}
		return
	case x.closed:
		if n != 0 || err != ErrClosed {
			m.fatalf("Wait after Close = %d, %v", n, err)
		}
		return
	case x.woken:
		if err != ErrInterrupted {
			m.fatalf("Wait after Wakeup = %d, %v; want ErrInterrupted", n, err)
		}
		x.woken = false
	case x.inflight == 0 && !x.wwp:
		want := ErrNoRequests
		if mode == 0 {
			want = context.Canceled // a done ctx's error takes precedence
		}
		if n != 0 || err != want {
			m.fatalf("Wait with nothing in flight = %d, %v; want %v", n, err, want)
		}
		return
	case mode == 0:
		if err != context.Canceled && err != ErrNoRequests && !(err == nil && n >= atLeast && atLeast > 0) {
			m.fatalf("Wait(canceled ctx, atLeast %d) = %d, %v", atLeast, n, err)
		}
	default:
		if err != nil || n < atLeast {
			m.fatalf("Wait(atLeast %d, len %d, %d deliverable, %d in flight) = %d, %v", atLeast, outLen, deliverable, x.inflight, n, err)
		}
	}
	if n > outLen || n > deliverable {
		m.fatalf("Wait returned %d, len(out) %d, %d deliverable", n, outLen, deliverable)
	}
	got := map[*Request]bool{}
	for _, r := range out[:n] {
		if got[r] {
			m.fatalf("Wait returned a request twice")
		}
		got[r] = true
		q := m.find(r)
		if q == nil || q.state != Submitted || q.ctx != k {
			m.fatalf("Wait returned a request that is not in flight here")
		}
		if q.rejected == 0 && !valid[r] {
			m.fatalf("Wait returned a request without a completion")
		}
		if q.rejected != 0 {
			q.doneN, q.doneErr = 0, q.rejected
		} else {
			q.doneN, q.doneErr = q.resN, q.resErr
			if q.doneErr != 0 {
				q.doneN = 0
			}
			x.past = append(x.past, q.ev)
			if len(x.past) > 16 {
				x.past = x.past[1:]
			}
		}
		q.state, q.ctx, q.rejected = Completed, -1, 0
		x.inflight--
	}
	// No completion was lost: every job that had one and was not returned
	// still has it in the kernel's queue.
	still := m.validEvents(k)
	for r := range valid {
		if !got[r] && !still[r] {
			m.fatalf("a completion was consumed without its request being returned")
		}
	}
}

func (m *fuzzModel) find(r *Request) *fuzzReq {
	for _, q := range m.reqs {
		if q.r == r {
			return q
		}
	}
	return nil
}

// check compares every request and context with the model.
func (m *fuzzModel) check() {
	var pins int64
	for i, q := range m.reqs {
		if st := q.r.State(); st != q.state {
			m.fatalf("request %d is %v, model %v", i, st, q.state)
		}
		n, err := q.r.Result()
		switch q.state {
		case Idle, Prepared:
			if n != 0 || err != ErrNotSubmitted {
				m.fatalf("request %d (%v): Result = %d, %v", i, q.state, n, err)
			}
		case Submitted:
			if n != 0 || err != ErrInProgress {
				m.fatalf("request %d (Submitted): Result = %d, %v", i, n, err)
			}
			if q.rejected == 0 {
				pins += q.pins
			}
		case Completed:
			ok := n == q.doneN
			switch q.doneErr {
			case 0:
				ok = ok && err == nil
			case syscall.ECANCELED:
				ok = ok && err == ErrCanceled
			default:
				ok = ok && errors.Is(err, q.doneErr)
			}
			if !ok {
				m.fatalf("request %d: Result = %d, %v; want %d, %v", i, n, err, q.doneN, q.doneErr)
			}
		}
		if q.state != Idle && q.r.User() != q.user {
			m.fatalf("request %d: User = %v, want %d", i, q.r.User(), q.user)
		}
	}
	for k, x := range m.ctxs {
		if got := smInflight(x.c); got != x.inflight {
			m.fatalf("context %d: %d in flight, model %d", k, got, x.inflight)
		}
	}
	if got := pin.Live(); got != pins {
		m.fatalf("%d pins live, model %d", got, pins)
	}
}

// finish drains both contexts and closes them.
func (m *fuzzModel) finish() {
	for k, x := range m.ctxs {
		if x.closed {
			continue
		}
		for x.inflight > 0 || x.woken {
			m.completeAllOf(k)
			m.in = fuzzInput{data: []byte{byte(k), 5, 1, 3}} // wait(k, len 5, min 1, background)
			m.wait()
			m.check()
		}
		if err := x.c.Close(); err != nil {
			m.fatalf("Close after draining = %v", err)
		}
		x.closed = true
	}
	if n := pin.Live(); n != 0 {
		m.fatalf("%d pins live at the end", n)
	}
}

func (m *fuzzModel) completeAllOf(k int) {
	m.in = fuzzInput{data: []byte{byte(k)}}
	m.completeAll()
}

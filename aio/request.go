package aio

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/fileaio/fileaio/internal/pin"
)

// State is where a Request stands in its life cycle.
type State int32

const (
	Idle      State = iota // new, nothing prepared
	Prepared               // prepared, not yet accepted by Submit
	Submitted              // accepted by Submit, not yet returned by Wait
	Completed              // returned by Wait; Result is final
)

func (s State) String() string {
	switch s {
	case Idle:
		return "Idle"
	case Prepared:
		return "Prepared"
	case Submitted:
		return "Submitted"
	case Completed:
		return "Completed"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

type opcode uint8

const (
	opNone opcode = iota
	opRead
	opWrite
	opReadv
	opWritev
	opFlush
	opDataSync
)

var opNames = [...]string{"none", "read", "write", "readv", "writev", "flush", "datasync"}

func (o opcode) String() string { return opNames[o] }

// Request is one asynchronous operation. It moves Idle -> Prepared ->
// Submitted -> Completed and may be prepared again once Completed; reusing
// requests is the allocation-free path.
//
// The caller owns the request while it is Idle, Prepared or Completed. From
// Submit until Wait returns it, the request, its buffers and its file belong
// to the context: do not touch the buffers, and do not close the file. The
// request keeps the file reachable until completion.
//
// Files and descriptors: a request holds the *os.File, not a descriptor
// number. Submit reads the descriptor from the file (without changing its
// blocking mode, as os.File.Fd would) and refuses a file closed since
// Prepare with an error matching os.ErrClosed. It keeps the descriptor
// open until the request is handed over, so a file closed by another
// goroutine during Submit keeps its number until the kernel holds the file
// itself; a descriptor number reused by another open is never reached.
// Closing a file while a request on it is in flight is still the caller's
// bug: kernel AIO completes the request on the file, the goroutine engine
// fails it with EBADF if it had not started.
//
// A request learns its file's type and open flags (O_DIRECT, the access
// mode) at its first Submit on that *os.File, and routes by them for as
// long as it is prepared again on the same *os.File. After changing the
// descriptor's flags with fcntl(F_SETFL), use a request that has not been
// submitted on that file yet: one still routed by the old O_DIRECT on
// Linux goes to io_submit, where a buffered read runs inside Submit, or to
// goroutines, where an O_DIRECT read waits in a worker.
//
// Methods of a nil *Request do not panic: as with *os.File, those that
// return an error return one matching os.ErrInvalid and syscall.EINVAL,
// and the others return zero values (State is Idle, User nil).
type Request struct {
	word atomic.Uint64 // stateWord: state and owner together

	op    opcode
	file  *os.File
	rc    syscall.RawConn // file's, kept while the request stays on file
	class fileClass       // of file, learned at the first Submit on it
	fd    int             // file's descriptor, read at Submit
	off   int64
	buf   []byte
	bufs  [][]byte
	user  any

	n   int
	err error

	// Owned by the context while Submitted, under its mutex.
	slot    uint32
	gen     uint32
	done    bool // the kernel has finished with it; only delivery is left
	sorting bool // claimed by a Submit that has not sorted out its outcome

	// The event that reached the waiter while Submit was still sorting
	// out the request's submission; Submit finishes it. Under the
	// context's mutex.
	early    event
	hasEarly bool
	engine   engineID // which engine of the context serves it

	pins pin.Set
	cb   controlBlock // the backend's kernel control block
	pj   portableJob  // the portable backend's per-request state
}

// NewRequest returns an Idle request.
//
// The user value of Prepare* is kept as an interface: nil, a pointer, or
// another pointer-shaped value (a map, a chan, a func) costs nothing, but Go
// boxes any other value (an int above 255, a string, a struct) in a new
// allocation on every Prepare call. Pass a pointer on the allocation-free
// path.
func NewRequest() *Request { return new(Request) }

// PrepareRead prepares a read of len(buf) bytes at off. A read that reaches
// the end of the file completes with the bytes it got and no error.
func (r *Request) PrepareRead(f *os.File, off int64, buf []byte, user any) error {
	return r.prepare(opRead, f, off, buf, nil, user)
}

// PrepareWrite prepares a write of buf at off. On Linux and FreeBSD, on a
// file opened with O_APPEND it writes at the end of the file whatever off
// (as pwrite and aio_write do there), and writes in flight together land
// in no promised order; where requests go through *os.File (Windows) it
// fails. File.WriteAt refuses such a file, as *os.File does.
func (r *Request) PrepareWrite(f *os.File, off int64, buf []byte, user any) error {
	return r.prepare(opWrite, f, off, buf, nil, user)
}

// PrepareFlush prepares a sync of the file's data and metadata (fsync). On
// FreeBSD it starts only once every request submitted earlier to its
// Context on the same open file has completed, whichever engine serves the
// file; elsewhere submit it after those have completed.
func (r *Request) PrepareFlush(f *os.File, user any) error {
	return r.prepare(opFlush, f, 0, nil, nil, user)
}

// PrepareDataSync prepares a sync of the file's data (fdatasync, O_DSYNC),
// ordered as PrepareFlush.
func (r *Request) PrepareDataSync(f *os.File, user any) error {
	return r.prepare(opDataSync, f, 0, nil, nil, user)
}

// PrepareReadv prepares a read at off scattered over bufs in order. The
// request keeps bufs itself (not a copy): do not change it until completion.
// bufs holds at most 1024 buffers (IOV_MAX) whose lengths add up to at
// most the largest int; more, or a negative off, fail with an error that
// says which and matches syscall.EINVAL and os.ErrInvalid.
func (r *Request) PrepareReadv(f *os.File, off int64, bufs [][]byte, user any) error {
	return r.prepare(opReadv, f, off, nil, bufs, user)
}

// PrepareWritev prepares a write at off gathered from bufs in order, with
// the bounds of PrepareReadv.
func (r *Request) PrepareWritev(f *os.File, off int64, bufs [][]byte, user any) error {
	return r.prepare(opWritev, f, off, nil, bufs, user)
}

func (r *Request) prepare(op opcode, f *os.File, off int64, buf []byte, bufs [][]byte, user any) error {
	return r.prepareWith(op, f, nil, fileClass{}, off, buf, bufs, user)
}

// prepareWith prepares r. A caller that keeps f's RawConn and class (File)
// passes them (rc non-nil) so that nothing is looked up; otherwise r keeps
// the ones it learned for f before, or looks them up. r's fields are read
// and written only once the compare-and-swap to statePreparing has made
// this call the request's only user.
func (r *Request) prepareWith(op opcode, f *os.File, rc syscall.RawConn, class fileClass, off int64, buf []byte, bufs [][]byte, user any) error {
	if r == nil {
		return nilReceiver("prepare "+op.String(), "Request")
	}
	w := stateWord(r.word.Load())
	switch {
	case w.is(Submitted), !w.unowned():
		return prepareError(op, ErrInProgress)
	case w.is(statePreparing):
		return prepareError(op, ErrInvalidState)
	}
	if f == nil {
		return prepareError(op, invalidArgument("nil file"))
	}
	if off < 0 {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: invalidArgument(fmt.Sprintf("negative offset %d", off))}
	}
	if len(bufs) > maxIovecs {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: invalidArgument(fmt.Sprintf("%d buffers, more than %d (IOV_MAX)", len(bufs), maxIovecs))}
	}
	if vecLen(bufs) < 0 {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: errVectorTooLong}
	}
	if !r.word.CompareAndSwap(uint64(w), uint64(packState(statePreparing, 0))) {
		return prepareError(op, fmt.Errorf("used by another goroutine: %w", ErrInvalidState))
	}
	if rc != nil || f != r.file || r.rc == nil {
		if rc == nil {
			var err error
			if rc, err = f.SyscallConn(); err == nil && rc.Control(noFd) != nil {
				err = os.ErrClosed
			}
			if err != nil {
				r.word.Store(uint64(w)) // as it was
				return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: err}
			}
			class = fileClass{}
		}
		r.file, r.rc, r.class = f, rc, class
	}
	r.op, r.fd, r.off, r.buf, r.bufs, r.user = op, -1, off, buf, bufs, user
	r.n, r.err = 0, nil
	r.word.Store(uint64(packState(Prepared, 0)))
	return nil
}

func prepareError(op opcode, err error) error { return wrapError("prepare "+op.String(), err) }

func noFd(uintptr) {}

// closedFileError is Submit's error for a request whose file is closed.
//
// Prepare checks that a file is open only when a request is first given
// it (a request prepared again on the same file skips the check, which is
// the cost of a RawConn call); Submit always checks (submitHeld).
func closedFileError(r *Request) error {
	return &os.PathError{Op: r.op.String(), Path: r.file.Name(), Err: os.ErrClosed}
}

// storeFd records r's descriptor, and learns its file's class the first
// time.
func (r *Request) storeFd(fd uintptr) {
	r.fd = int(fd)
	if !r.class.known {
		r.class = classify(fd)
	}
}

// maxIovecs is IOV_MAX on FreeBSD and Linux.
const maxIovecs = 1024

// User returns the value given to the last Prepare call.
func (r *Request) User() any {
	if r == nil {
		return nil
	}
	return r.user
}

// State returns the request's state. It is safe to call from any goroutine.
// A request is Submitted from the moment a Submit takes it; one that Submit
// then refuses (ErrAgain, a closed file) is Prepared again by the time
// Submit returns.
func (r *Request) State() State {
	if r == nil {
		return Idle
	}
	if s := stateWord(r.word.Load()).state(); s != statePreparing {
		return s
	}
	return Prepared
}

// ownerCtx returns the context r is submitted to, or nil.
func (r *Request) ownerCtx() *Context {
	if id := stateWord(r.word.Load()).owner(); id != 0 {
		return contextByID(id)
	}
	return nil
}

// Result returns the number of bytes transferred and the request's error
// once Wait has returned it. A canceled request reports ErrCanceled; a
// kernel error keeps its errno. Before completion it returns ErrNotSubmitted
// (Idle, Prepared) or ErrInProgress (Submitted).
//
// A transfer may be short with no error, as pread and pwrite may: a read
// that reaches the end of the file (0 bytes at or past it), and also a read
// or write in the middle of a file (a full disk, a file size limit, a
// pipe, a signal). Submit the rest to continue; the next attempt reports
// the error, if there is one. An error comes with 0 bytes, on every
// backend, and means nothing moved, with one exception on FreeBSD, which
// reports a write that fails partway as its write(2) does, as the file
// system answers: ZFS reports the bytes it wrote and no error, UFS undoes
// the write and reports the error, and a file system that does neither
// has the kernel report the error alone (unless it is EINTR or
// EWOULDBLOCK), the bytes that moved left in the file uncounted.
func (r *Request) Result() (int, error) {
	if r == nil {
		return 0, nilReceiver("result", "Request")
	}
	switch r.State() {
	case Completed:
		return r.n, r.err
	case Submitted:
		return 0, ErrInProgress
	default:
		return 0, ErrNotSubmitted
	}
}

// Cancel asks the kernel to cancel a submitted request. On success the
// request still completes through Wait, with ErrCanceled as its Result. The
// kernel may refuse: ErrInProgress if the request is already running,
// ErrAlreadyCompleted if it has finished (Wait will return it with its
// result). Cancel on an Idle or Prepared request is ErrNotSubmitted.
//
// A read or write of a pipe, socket or terminal that waits for data (or for
// room) is running: Cancel reports ErrInProgress, and the request completes
// only when data comes, when the other end is closed, or, for a file in Go's
// poller (os.Pipe's, a net connection's File), when a deadline set on it
// with SetReadDeadline or SetWriteDeadline passes: it then completes with
// an error matching syscall.EAGAIN. Do one of those before draining.
func (r *Request) Cancel() error {
	if r == nil {
		return nilReceiver("cancel", "Request")
	}
	for {
		switch r.State() {
		case Idle, Prepared:
			return ErrNotSubmitted
		case Completed:
			return ErrAlreadyCompleted
		}
		c := r.ownerCtx()
		if c == nil {
			runtime.Gosched() // being delivered right now; look again
			continue
		}
		if err, ok := c.cancel(r); ok {
			return err
		}
	}
}

// pinMemory pins what the kernel may touch: the request (which holds the
// control block) and every buffer. Backends pin what they build themselves,
// such as iovec arrays.
func (r *Request) pinMemory() {
	r.pins.Pin(unsafe.Pointer(r), unsafe.Sizeof(*r))
	r.pins.Bytes(r.buf)
	for _, b := range r.bufs {
		r.pins.Bytes(b)
	}
}

// length is the number of bytes the request asks for.
func (r *Request) length() int {
	n := len(r.buf)
	for _, b := range r.bufs {
		n += len(b)
	}
	return n
}

// kernelError turns an errno reported for r into its Result error.
func (r *Request) kernelError(errno syscall.Errno) error {
	if errno == syscall.ECANCELED {
		return ErrCanceled
	}
	return &os.PathError{Op: "aio " + r.op.String(), Path: r.file.Name(), Err: errno}
}

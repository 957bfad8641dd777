package aio

import (
	"fmt"
	"os"
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
// to the context: do not touch the buffers, and do not close the file (that
// is the caller's bug; the kernel may then report EBADF or act on a reused
// descriptor). The request keeps the file reachable until completion.
type Request struct {
	state atomic.Int32
	owner atomic.Pointer[Context] // the context it is submitted to

	op   opcode
	file *os.File
	fd   int
	off  int64
	buf  []byte
	bufs [][]byte
	user any

	n   int
	err error

	// Owned by the context while Submitted, under its mutex.
	slot uint32
	gen  uint32
	done bool // the kernel has finished with it; only delivery is left

	pins pin.Set
	cb   controlBlock // the backend's kernel control block
	pj   portableJob  // the portable backend's per-request state
}

// NewRequest returns an Idle request.
func NewRequest() *Request { return new(Request) }

// PrepareRead prepares a read of len(buf) bytes at off. A read that reaches
// the end of the file completes with the bytes it got and no error.
func (r *Request) PrepareRead(f *os.File, off int64, buf []byte, user any) error {
	return r.prepare(opRead, f, off, buf, nil, user)
}

// PrepareWrite prepares a write of buf at off.
func (r *Request) PrepareWrite(f *os.File, off int64, buf []byte, user any) error {
	return r.prepare(opWrite, f, off, buf, nil, user)
}

// PrepareFlush prepares a sync of the file's data and metadata (fsync). On
// FreeBSD it starts only once every request submitted earlier on the same
// open file has completed; elsewhere submit it after those have completed.
func (r *Request) PrepareFlush(f *os.File, user any) error {
	return r.prepare(opFlush, f, 0, nil, nil, user)
}

// PrepareDataSync prepares a sync of the file's data (fdatasync, O_DSYNC).
func (r *Request) PrepareDataSync(f *os.File, user any) error {
	return r.prepare(opDataSync, f, 0, nil, nil, user)
}

// PrepareReadv prepares a read at off scattered over bufs in order. The
// request keeps bufs itself (not a copy): do not change it until completion.
func (r *Request) PrepareReadv(f *os.File, off int64, bufs [][]byte, user any) error {
	return r.prepare(opReadv, f, off, nil, bufs, user)
}

// PrepareWritev prepares a write at off gathered from bufs in order.
func (r *Request) PrepareWritev(f *os.File, off int64, bufs [][]byte, user any) error {
	return r.prepare(opWritev, f, off, nil, bufs, user)
}

func (r *Request) prepare(op opcode, f *os.File, off int64, buf []byte, bufs [][]byte, user any) error {
	switch State(r.state.Load()) {
	case Submitted:
		return fmt.Errorf("aio: prepare %v: %w", op, ErrInProgress)
	case Idle, Prepared, Completed:
	default:
		return fmt.Errorf("aio: prepare %v: %w", op, ErrInvalidState)
	}
	if f == nil {
		return fmt.Errorf("aio: prepare %v: nil file: %w", op, os.ErrInvalid)
	}
	if off < 0 {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: syscall.EINVAL}
	}
	if len(bufs) > maxIovecs {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: syscall.EINVAL}
	}
	// Fd switches a descriptor in Go's poller (a pipe, a socket) to
	// blocking mode; regular files are never in the poller.
	fd := f.Fd()
	if fd == ^uintptr(0) {
		return &os.PathError{Op: "aio prepare " + op.String(), Path: f.Name(), Err: os.ErrClosed}
	}
	r.op, r.file, r.fd, r.off, r.buf, r.bufs, r.user = op, f, int(fd), off, buf, bufs, user
	r.n, r.err = 0, nil
	r.state.Store(int32(Prepared))
	return nil
}

// maxIovecs is IOV_MAX on FreeBSD and Linux.
const maxIovecs = 1024

// User returns the value given to the last Prepare call.
func (r *Request) User() any { return r.user }

// State returns the request's state. It is safe to call from any goroutine.
func (r *Request) State() State { return State(r.state.Load()) }

// Result returns the number of bytes transferred and the request's error
// once Wait has returned it. A canceled request reports ErrCanceled; a
// kernel error keeps its errno. Before completion it returns ErrNotSubmitted
// (Idle, Prepared) or ErrInProgress (Submitted).
func (r *Request) Result() (int, error) {
	switch State(r.state.Load()) {
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
func (r *Request) Cancel() error {
	for {
		switch State(r.state.Load()) {
		case Idle, Prepared:
			return ErrNotSubmitted
		case Completed:
			return ErrAlreadyCompleted
		}
		c := r.owner.Load()
		if c == nil {
			continue // being delivered or refused right now; look again
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

package aio

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// Errors of the state machine. Kernel errors reported through Result and
// Submit keep their errno: errors.Is(err, syscall.EBADF) works.
var (
	// ErrInProgress: the request is in flight (Result, Prepare*), or the
	// kernel could not cancel it because it is already running (Cancel).
	ErrInProgress = errors.New("aio: request in progress")
	// ErrNotSubmitted: Result or Cancel on a request that was never submitted.
	ErrNotSubmitted = errors.New("aio: request not submitted")
	// ErrAlreadyCompleted: Cancel on a request that has already completed.
	ErrAlreadyCompleted = errors.New("aio: request already completed")
	// ErrCanceled is the Result of a request that was canceled. It also
	// matches syscall.ECANCELED.
	ErrCanceled error = &errnoSentinel{"aio: request canceled", syscall.ECANCELED}
	// ErrBusy: a second concurrent Wait, or Close with requests in flight or
	// a waiter inside Wait.
	ErrBusy = errors.New("aio: context busy")
	// ErrNoRequests: Wait with nothing in flight, unless
	// Config.WaitWithoutPending is set.
	ErrNoRequests = errors.New("aio: no requests in flight")
	// ErrInterrupted: Wait ended by Wakeup.
	ErrInterrupted = errors.New("aio: wait interrupted by Wakeup")
	// ErrClosed: the context is closed.
	ErrClosed = errors.New("aio: context closed")
	// ErrNotSupported: the system offers no kernel AIO.
	ErrNotSupported = errors.New("aio: not supported on this system")
	// ErrInvalidState: a transition the state machine does not allow, such
	// as submitting a request that is not Prepared.
	ErrInvalidState = errors.New("aio: invalid request state")
	// ErrAgain: a request was refused for lack of resources (kernel queue
	// full, or MaxRequests reached); it stays Prepared. Wait for
	// completions and submit it again. It also matches syscall.EAGAIN.
	ErrAgain error = &errnoSentinel{"aio: out of resources, try again", syscall.EAGAIN}
)

// errnoSentinel is a sentinel error that also matches one errno.
type errnoSentinel struct {
	msg   string
	errno syscall.Errno
}

func (e *errnoSentinel) Error() string { return e.msg }
func (e *errnoSentinel) Unwrap() error { return e.errno }

// opError is an error of one of this package's operations. Its message
// names the package once: "aio: submit: request 3: request in progress".
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "aio: " + e.op + ": " + strings.ReplaceAll(e.err.Error(), "aio: ", "")
}

func (e *opError) Unwrap() error { return e.err }

// wrapError names op in err's message; errors.Is and errors.As see err.
func wrapError(op string, err error) error { return &opError{op: op, err: err} }

// nilReceiver is the error of a method called on a nil *Context, *Request,
// *File or *Engine (what names the type): as *os.File's methods give
// os.ErrInvalid, it matches os.ErrInvalid and syscall.EINVAL, like the
// other arguments this package refuses (invalidArgument).
func nilReceiver(op, what string) error {
	return wrapError(op, invalidArgument("nil *"+what))
}

// nilRequest is Submit's refusal of a nil *Request in its list: a request
// in no state (ErrInvalidState, as Submit's doc has always said) and an
// invalid argument (os.ErrInvalid, syscall.EINVAL), as a nil receiver is.
type nilRequest struct{}

func (nilRequest) Error() string { return "nil *Request: invalid argument" }

func (nilRequest) Is(target error) bool {
	return target == ErrInvalidState || target == os.ErrInvalid || target == syscall.EINVAL
}

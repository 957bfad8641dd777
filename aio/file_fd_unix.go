//go:build unix

package aio

import (
	"os"
	"syscall"
)

// fdSyscall is a system call a File makes on its descriptor on the direct
// path: a vectored read or write (bufs at off), or a sync (neither).
type fdSyscall func(fd int, bufs [][]byte, off int64) (int, error)

// withFd makes call on the File's descriptor, held open through its
// RawConn while call runs. If the *os.File was closed (behind the File's
// back), call is not made and the error matches os.ErrClosed: the number,
// perhaps taken by another open since, is never reached. It allocates
// nothing in the steady state.
func (f *File) withFd(call fdSyscall, bufs [][]byte, off int64) (int, error) {
	c := takeFdCall()
	c.bufs = bufs
	return f.runFdCall(c, call, off)
}

// withFdBuf is withFd for a call on one buffer, given to call as bufs[0]
// (a slice the carrier holds, so that none is allocated).
func (f *File) withFdBuf(call fdSyscall, p []byte, off int64) (int, error) {
	c := takeFdCall()
	c.one[0] = p
	c.bufs = c.one[:]
	return f.runFdCall(c, call, off)
}

// runFdCall makes call with c's buffers under the descriptor's hold, and
// gives c back.
func (f *File) runFdCall(c *fdCall, call fdSyscall, off int64) (int, error) {
	c.call, c.off = call, off
	held := f.rc.Control(c.run)
	n, err := c.n, c.err
	c.call, c.bufs, c.one[0], c.n, c.err = nil, nil, nil, 0, nil
	putFdCall(c)
	if held != nil {
		return 0, os.ErrClosed
	}
	return n, err
}

// fdCall carries one withFd call into RawConn.Control, whose function
// cannot carry it without a closure (allocated per call).
type fdCall struct {
	call fdSyscall
	bufs [][]byte
	off  int64
	n    int
	err  error
	run  func(uintptr) // c.do, made once
	one  [1][]byte     // bufs of a call on one buffer
}

func (c *fdCall) do(fd uintptr) { c.n, c.err = c.call(int(fd), c.bufs, c.off) }

// fdCalls holds the fdCalls not in use.
var fdCalls freeList[fdCall]

func takeFdCall() *fdCall {
	if c := fdCalls.take(); c != nil {
		return c
	}
	c := new(fdCall)
	c.run = c.do
	return c
}

func putFdCall(c *fdCall) { fdCalls.put(c) }

// retryEINTR makes call, a read or write system call through x/sys/unix,
// until it is not interrupted. A call that failed moved nothing: its count
// is 0, not the -1 the raw system call returns with the errno.
func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		switch {
		case err == nil:
			return n, nil
		case err != syscall.EINTR:
			return 0, err
		}
	}
}

// SPDX-License-Identifier: BSD-2-Clause

// Package aio is asynchronous file I/O on the kernel's own AIO, in the
// manner of a context/request API: prepare requests, submit them in
// batches, wait for their completions, cancel them, wake the waiter.
//
//	c, err := aio.NewContext(aio.Config{})
//	r := aio.NewRequest()
//	err = r.PrepareRead(f, 0, buf, nil)
//	n, err := c.Submit(r)
//	k, err := c.Wait(ctx, 1, out) // out[:k] are completed; r.Result() gives the bytes
//
// # Backends
//
// DefaultBackend is POSIX AIO with kqueue completions on FreeBSD 13+
// (lio_listio, aio_fsync, aio_return; one kqueue per Context), kernel AIO
// on Linux (io_submit, io_getevents; one kernel AIO context per Context),
// and PortableBackend elsewhere. PortableBackend, on any OS, runs requests
// on a bounded pool of goroutines doing positional system calls.
//
// On Linux, kernel AIO is asynchronous only for files opened with O_DIRECT
// whose buffers, offsets and lengths are aligned (AlignedBuffer,
// Limits.BufferAlignment); a buffered request is performed inside Submit
// and is done when Wait collects it. Linux cannot cancel a file read, write
// or sync: Cancel reports ErrInProgress and the request completes normally.
// On FreeBSD any regular file on a local file system is served
// asynchronously, with or without O_DIRECT, and a request still queued can
// be canceled.
//
// # Ownership
//
// A request belongs to its caller while Idle, Prepared or Completed, and to
// the context from Submit until Wait returns it: in between, do not touch
// its buffers (the kernel reads or fills them at any moment), and do not
// close its file (the kernel may then report EBADF, or act on whatever file
// reuses the descriptor). The context pins what the kernel may touch while
// it may touch it (on FreeBSD the request, which holds the aiocb, and its
// buffers; on Linux the buffers, the control blocks living outside the Go
// heap) and keeps the request reachable until Wait returns it, even if the
// caller drops every reference.
//
// Every request Submit accepts comes back from Wait exactly once, with its
// result; a context with requests in flight cannot be closed.
package aio

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
// A Context serves each request with an engine: the kernel's AIO (POSIX AIO
// with kqueue completions on FreeBSD 13+: lio_listio, aio_readv/aio_writev,
// aio_fsync, aio_return; kernel AIO on Linux: io_submit, io_getevents), or
// the goroutine engine, a bounded pool of goroutines doing ordinary system
// calls. Config.Backend chooses:
//
//   - DefaultBackend gives a request to the kernel's AIO only where that is
//     truly asynchronous, and to goroutines otherwise, in one context and
//     one Wait. Linux kernel AIO is asynchronous only for regular files and
//     disks opened with O_DIRECT whose buffers, offsets and lengths are
//     aligned (AlignedBuffer, Limits.BufferAlignment); it performs a
//     buffered request inside io_submit, and blocks there on a pipe or
//     socket, so those go to goroutines. FreeBSD serves regular files of
//     local file systems, buffered or not, and refuses others (NFS, FUSE,
//     pipes) with EOPNOTSUPP: such a file goes to goroutines from its first
//     refusal on, and the caller never sees the refusal. Context.Stats
//     counts each engine's requests.
//   - PortableBackend uses goroutines for everything, on any OS.
//   - KernelBackend uses the kernel's AIO for everything (see its doc for
//     what that means on Linux).
//
// Where the system offers no kernel AIO (another OS, or Linux refusing
// io_setup), DefaultBackend is PortableBackend.
//
// Linux cannot cancel a file read, write or sync: Cancel of a kernel
// request reports ErrInProgress and the request completes normally. The
// goroutine engine cancels requests no goroutine has started. On FreeBSD a
// request still queued in the kernel can be canceled.
//
// No call blocks on I/O: Submit hands requests over and returns, whatever
// the file (KernelBackend on Linux excepted), and Wakeup, Cancel and Close
// do not wait for a Submit in progress. The buffers' own memory is the
// exception: a page of a buffer that must first be brought in (from swap,
// or from the file a buffer is mapped from) is brought in by whoever
// touches it, which may be Submit (Linux O_DIRECT: io_submit maps the
// buffer) or Wait (which copies page-cache reads itself). Keep buffers in
// ordinary memory.
//
// # Ownership
//
// A request belongs to its caller while Idle, Prepared or Completed, and to
// the context from Submit until Wait returns it: in between, do not touch
// its buffers (the kernel reads or fills them at any moment), and do not
// close its file: that is the caller's bug (kernel AIO still completes the
// request on the file, the goroutine engine fails it with EBADF if it had
// not started; on FreeBSD, whose aio_cancel names the descriptor, Cancel
// of a kernel request then fails with an error matching syscall.EBADF,
// or, once another open has the number, answers for the jobs submitted
// with that number, and the request still completes). A file closed before Submit is refused with an error
// matching os.ErrClosed. Submit reads descriptors through os.File's
// RawConn, never changes their blocking mode, and holds them open until
// the requests are handed over, so a descriptor number closed meanwhile
// and reused by another open is never reached. A Close of one of those
// files by another goroutine during Submit returns at once for a regular
// file (its descriptor closes when Submit is done with it); for a pipe,
// socket or terminal, os.File.Close waits until Submit has handed the
// requests over. The context pins what the kernel may touch while
// it may touch it (on FreeBSD the request, which holds the aiocb, and its
// buffers; on Linux the buffers, the control blocks living outside the Go
// heap) and keeps the request reachable until Wait returns it, even if the
// caller drops every reference.
//
// Every request Submit accepts comes back from Wait exactly once, with its
// result; a context with requests in flight cannot be closed.
package aio

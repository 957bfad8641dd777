package aio

import (
	"context"
	"errors"
	"io"
	"syscall"
)

// engineTransfer runs one call of f on its engine: a read or write of p,
// a vectored one of bufs, or a sync, continuing short transfers until done,
// the end of the file, an error or ctx. fallback asks the caller to run
// the call directly instead: the engine's kernel refuses this file (or, for
// a sync, this operation), which is then served directly from now on (for a
// sync, only syncs are).
func (f *File) engineTransfer(ctx context.Context, op opcode, p []byte, bufs [][]byte, off int64) (n int, err error, fallback bool) {
	e := f.eng
	if e == nil {
		if e, err = sharedEngine(); err != nil {
			return 0, nil, true // the engine only speeds the call up; a later one tries again
		}
	}
	done := ctx.Done() // nil for a ctx that is never done
	fr := e.get()
	defer e.put(fr)
	want := len(p)
	if op == opReadv || op == opWritev {
		want = vecLen(bufs)
	}
	class := f.engineClass()
	total := 0
	for {
		if op == opReadv || op == opWritev {
			bufs = vecAdvance(bufs, 0) // empty buffers first would fill a chunk with nothing
		}
		var perr error
		switch op {
		case opRead:
			perr = fr.r.prepareWith(opRead, f.f, f.rc, class, off+int64(total), p[total:], nil, fr)
		case opWrite:
			perr = fr.r.prepareWith(opWrite, f.f, f.rc, class, off+int64(total), p[total:], nil, fr)
		case opReadv:
			perr = fr.r.prepareWith(opReadv, f.f, f.rc, class, off+int64(total), nil, bufs[:min(len(bufs), maxIovecs)], fr)
		case opWritev:
			perr = fr.r.prepareWith(opWritev, f.f, f.rc, class, off+int64(total), nil, bufs[:min(len(bufs), maxIovecs)], fr)
		case opFlush:
			perr = fr.r.prepareWith(opFlush, f.f, f.rc, class, 0, nil, nil, fr)
		case opDataSync:
			perr = fr.r.prepareWith(opDataSync, f.f, f.rc, class, 0, nil, nil, fr)
		}
		if perr != nil {
			return total, f.pathErr(op.fileOp(), perr), false
		}
		k, rerr, canceled := e.run(done, fr)
		if fr.r.class.noInline && !class.noInline {
			f.noInline.Store(true) // runInline learned that the filesystem refuses
			class.noInline = true
		}
		if fr.r.class.noNowait && !class.noNowait {
			f.noNowait.Store(true) // the engine's kernel learned that the filesystem refuses
			class.noNowait = true
		}
		if fr.r.class.refused && !class.refused {
			// The engine's kernel refused the file, and its goroutines
			// served the call: later calls go straight to them, or, on
			// the shared engine, run directly, as a File opened now would.
			f.refused.Store(true)
			class.refused = true
			if f.eng == nil {
				f.async.Store(false)
			}
		}
		total += k
		switch {
		case canceled && (errors.Is(rerr, errQueuedCancel) || errors.Is(rerr, ErrCanceled)):
			return total, ctxErr(ctx), false
		case rerr != nil && total == 0 && refusesFile(op, rerr):
			// No I/O happened: the kernel does not serve the file.
			f.learnRefusal(op)
			if canceled {
				return 0, ctxErr(ctx), false
			}
			return 0, nil, true
		case rerr != nil:
			// Its own failure, also after ctx was done (the kernel could
			// not cancel it), says more than ctx's.
			return total, f.pathErr(op.fileOp(), rerr), false
		case op == opFlush || op == opDataSync || total == want:
			// Done, also if ctx ended while the kernel finished it.
			return total, nil, false
		case k == 0 && (op == opRead || op == opReadv):
			return total, io.EOF, false
		case k == 0:
			return total, f.pathErr(op.fileOp(), io.ErrShortWrite), false
		case canceled:
			return total, ctxErr(ctx), false
		}
		if done != nil {
			select {
			case <-done: // ended after a short part: the rest is not asked for
				return total, ctxErr(ctx), false
			default:
			}
		}
		if op == opReadv || op == opWritev {
			bufs = vecAdvance(bufs, k)
		}
	}
}

// learnRefusal records that the engine's kernel refuses f's calls of op:
// they, or for a sync only syncs, are served directly from now on.
func (f *File) learnRefusal(op opcode) {
	if op == opFlush || op == opDataSync {
		f.directSync.Store(true)
	} else {
		f.async.Store(false)
	}
}

// engineClass is what the engine's requests for f say of its file.
func (f *File) engineClass() fileClass {
	c := f.class
	c.noInline = c.noInline || f.noInline.Load()
	c.noNowait = c.noNowait || f.noNowait.Load()
	c.refused = c.refused || f.refused.Load()
	return c
}

// refusesFile reports an error by which the engine's kernel says it does
// not serve the file, rather than the I/O failing: EOPNOTSUPP (FreeBSD's
// AIO on NFS, FUSE or a pipe), or EINVAL for a sync (a kernel AIO without
// fsync for this file system). Served directly, the call reports the
// file's own outcome.
func refusesFile(op opcode, err error) bool {
	if errors.Is(err, syscall.EOPNOTSUPP) {
		return true
	}
	return (op == opFlush || op == opDataSync) && errors.Is(err, syscall.EINVAL)
}

// fileOp is the Op of a File's *os.PathError for a request of o.
func (o opcode) fileOp() string {
	switch o {
	case opRead, opReadv:
		return "read"
	case opWrite, opWritev:
		return "write"
	case opFlush:
		return "sync"
	case opDataSync:
		return "datasync"
	}
	return o.String()
}

var _ interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
} = (*File)(nil)

// ctxErr is why a call gave up for ctx, whose Done channel closed:
// ctx.Err(), or context.Canceled should a Context that breaks its
// contract say nil, so that a call given up never looks like a success
// with fewer bytes than asked.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

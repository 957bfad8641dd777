package aio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
)

// File is an open file for ordinary goroutine code: an io.ReaderAt and
// io.WriterAt whose calls go to an asynchronous engine (a Context and a
// goroutine that harvests its completions) where one serves the file
// asynchronously, so that many goroutines keep many requests in flight
// without an OS thread each.
//
// All methods are safe for concurrent use by any number of goroutines. A
// call blocks only its own goroutine, until the kernel has finished with the
// caller's buffers.
//
// Where calls go: by default every File of the process shares one engine,
// started on first use, and uses it only where it helps: on Linux for files
// opened with O_DIRECT (kernel AIO performs a buffered request inside
// io_submit, slower than pread), on FreeBSD for every file with positions
// (POSIX AIO). Elsewhere, and for pipes, sockets, terminals and directories
// everywhere, a call runs the system call in the caller's goroutine, as
// *os.File does. While the shared engine cannot start (the system-wide
// fs.aio-max-nr has no room; ErrAgain from NewEngine), calls run in the
// caller's goroutine too, and each later call tries to start it again. A
// File made by an Engine's OpenFile or NewFile sends every call on a file
// with positions to that engine. A file the kernel's AIO refuses (FreeBSD:
// NFS, SMB, FUSE) is learned from its first refusal: from then on the
// shared engine's File runs its calls in the caller's goroutine, and an
// Engine's File has them served by that engine's goroutines (Kernel says
// which).
//
// With O_DIRECT, buffers, offsets and lengths must be aligned
// (AlignedBuffer; Limits.BufferAlignment), or the kernel fails the call
// with EINVAL.
//
// Errors are *os.PathError, as from *os.File, and keep the kernel's errno:
// errors.Is(err, syscall.EBADF) works. A negative offset fails before any
// system call, with an error matching os.ErrInvalid and syscall.EINVAL.
// A ReadAtContext or WriteAtContext that gives up for its ctx returns
// ctx.Err() itself, not wrapped; one whose request failed although ctx was
// done returns that failure instead, and one that the kernel finished
// first returns as the call without ctx.
//
// Methods of a nil *File do not panic: as with *os.File, those that return
// an error return one matching os.ErrInvalid and syscall.EINVAL (not an
// *os.PathError: there is no name), and the others return zero values.
type File struct {
	f      *os.File
	name   string
	kind   fileKind
	rc     syscall.RawConn // f's, given to the engine's requests
	class  fileClass       // what the engine's routing knows of f
	direct bool            // O_DIRECT (or F_NOCACHE) is in force
	append bool            // O_APPEND: WriteAt is refused, as by *os.File
	eng    *Engine
	async  atomic.Bool // calls go to the engine; cleared if its kernel refuses the file

	directSync atomic.Bool // the engine's kernel cannot sync this file: syncs run directly
	noInline   atomic.Bool // its filesystem refused reads that do not wait (runInline)
	noNowait   atomic.Bool // its filesystem refused kernel AIO writes that do not wait (nowaitEngine)
	refused    atomic.Bool // the engine's kernel refused the file, and its goroutines served the call

	calls *callGate // the calls in flight, for Close
}

// OpenFile opens the named file as os.OpenFile does; flag may include
// O_DIRECT. The File uses the process's shared engine where it helps (see
// File).
func OpenFile(name string, flag int, perm os.FileMode) (*File, error) {
	return openFile(nil, name, flag, perm)
}

// NewFile makes a File of f, which it takes over: use only the File from
// now on, and File.Close closes f. On failure f is left open and unchanged.
// The File reads f's type and open flags (O_DIRECT) here, once: do not
// change them with fcntl afterwards, or calls go where the old flags said.
func NewFile(f *os.File) (*File, error) { return newFile(nil, f, false) }

func openFile(e *Engine, name string, flag int, perm os.FileMode) (*File, error) {
	osFlag, nocache, err := openFlag(flag)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := os.OpenFile(name, osFlag, perm)
	if err != nil {
		return nil, err
	}
	if nocache {
		if err := disableCache(f); err != nil {
			f.Close()
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
	}
	af, err := newFile(e, f, nocache)
	if err != nil {
		f.Close()
		return nil, err
	}
	return af, nil
}

func newFile(e *Engine, f *os.File, nocache bool) (*File, error) {
	if f == nil {
		return nil, wrapError("new file", invalidArgument("nil *os.File"))
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	flags, tty, err := fileStatus(f)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: f.Name(), Err: err}
	}
	af := &File{
		f:      f,
		name:   f.Name(),
		kind:   kindOf(fi.Mode(), tty),
		direct: nocache || directInStatus(flags),
		append: appendInStatus(flags),
		eng:    e,
		calls:  newCallGate(),
	}
	if af.rc, err = f.SyscallConn(); err != nil {
		return nil, &os.PathError{Op: "open", Path: f.Name(), Err: err}
	}
	af.class = fileClass{known: true, kind: af.kind, direct: af.direct}
	_ = af.rc.Control(func(fd uintptr) { af.class = classify(fd) })
	if af.class.kind == kindAnon {
		af.kind = kindAnon // which os.FileMode shows as a regular file
	}
	af.class.kind, af.class.direct = af.kind, af.direct
	af.async.Store(useEngine(thisKernel, af.class, e != nil))
	return af, nil
}

// Kernel names what serves the file's reads and writes: "direct" when each
// call makes the system call in the calling goroutine (as os.File does),
// else the engine that takes them: its kernel interface ("linux-aio",
// "freebsd-aio") or "goroutines".
func (f *File) Kernel() string {
	if f == nil {
		return ""
	}
	if !f.async.Load() {
		return "direct"
	}
	e := f.eng
	if e == nil {
		var err error
		if e, err = sharedEngine(); err != nil {
			return "direct"
		}
	}
	k := e.c.Kernel()
	c := f.engineClass()
	switch {
	case k == "portable":
		return "goroutines"
	case e.c.cfg.Backend == KernelBackend || kernelServes(thisKernel, &c):
		return k
	}
	return "goroutines"
}

// Name returns the name of the file as given to OpenFile, or f.Name() of
// the file given to NewFile.
func (f *File) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// Stat returns the FileInfo of the file, as (*os.File).Stat.
func (f *File) Stat() (os.FileInfo, error) {
	if f == nil {
		return nil, nilReceiver("stat", "File")
	}
	t, err := f.begin("stat")
	if err != nil {
		return nil, err
	}
	defer f.end(t)
	return f.f.Stat()
}

// Close makes every later call fail with an error matching os.ErrClosed,
// waits for the calls in flight to return, then closes the descriptor, so
// that the kernel never acts on a reused descriptor number, and no write
// lands once Close has returned. A second Close returns an error matching
// os.ErrClosed.
func (f *File) Close() error {
	if f == nil {
		return nilReceiver("close", "File")
	}
	if !f.calls.close() {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	return f.f.Close()
}

// begin counts a call in, or refuses it on a closed File; end(t) counts it
// out.
func (f *File) begin(op string) (gateTicket, error) {
	t, ok := f.calls.enter()
	if !ok {
		return 0, &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	return t, nil
}

func (f *File) end(t gateTicket) { f.calls.leave(t) }

var (
	errNegativeOffset = invalidArgument("negative offset")
	errVectorTooLong  = invalidArgument("buffers longer in all than the largest int")
	errAppendMode     = fmt.Errorf("WriteAt on a file opened with O_APPEND: %w", os.ErrInvalid)
)

// invalidArgument is an argument the File refuses before any system call.
// It matches os.ErrInvalid, and syscall.EINVAL, which Prepare and the
// kernel give for the same argument.
type invalidArgument string

func (e invalidArgument) Error() string { return string(e) + ": invalid argument" }

func (e invalidArgument) Is(target error) bool {
	return target == os.ErrInvalid || target == syscall.EINVAL
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt: n < len(p) only with an
// error, io.EOF at the end of the file. Short transfers are continued.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.readAt(context.Background(), p, off)
}

// ReadAtContext is ReadAt that gives up when ctx is done. It returns only
// once the kernel has let go of p: the request in flight was canceled,
// withdrawn before it reached the kernel, or ran to its end (where the
// kernel cannot cancel it; Linux never can). Then:
//   - canceled or withdrawn: the bytes read so far, and ctx.Err();
//   - failed (EIO, EBADF...): the bytes read before it, and that error,
//     the *os.PathError ReadAt gives, not ctx.Err();
//   - completed: as ReadAt, if that finishes the call (n == len(p) and a
//     nil error, or io.EOF); else the bytes so far and ctx.Err(), the rest
//     not asked for.
//
// On the direct path (see File) ctx is looked at only before the system
// call, whose outcome is the call's.
func (f *File) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return f.readAt(ctx, p, off)
}

// WriteAt writes p at off, as io.WriterAt: an error whenever n < len(p).
// Short transfers are continued.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	return f.writeAt(context.Background(), p, off)
}

// WriteAtContext is WriteAt that gives up when ctx is done, as
// ReadAtContext: once the kernel has let go of p it returns the bytes
// written so far with ctx.Err() if the request in flight was canceled or
// withdrawn, or completed short of p's end; with the request's own error
// (the *os.PathError WriteAt gives: ENOSPC, EIO...) if it failed; and
// len(p) with a nil error if the kernel finished the write first. That n
// is exact: n == 0 with ctx.Err() means nothing landed.
func (f *File) WriteAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return f.writeAt(ctx, p, off)
}

func (f *File) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	if f == nil {
		return 0, nilReceiver("read", "File")
	}
	if !f.async.Load() {
		return f.directAt(ctx, "read", p, off)
	}
	t, err := f.begin("read")
	if err != nil {
		return 0, err
	}
	defer f.end(t)
	switch {
	case off < 0:
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errNegativeOffset}
	case len(p) == 0:
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if f.async.Load() {
		n, err, fallback := f.engineTransfer(ctx, opRead, p, nil, off)
		if !fallback {
			return n, err
		}
	}
	return f.f.ReadAt(p, off)
}

func (f *File) writeAt(ctx context.Context, p []byte, off int64) (int, error) {
	if f == nil {
		return 0, nilReceiver("write", "File")
	}
	if !f.async.Load() {
		return f.directAt(ctx, "write", p, off)
	}
	t, err := f.begin("write")
	if err != nil {
		return 0, err
	}
	defer f.end(t)
	switch {
	case f.append:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errAppendMode}
	case off < 0:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errNegativeOffset}
	case len(p) == 0:
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if f.async.Load() {
		n, err, fallback := f.engineTransfer(ctx, opWrite, p, nil, off)
		if !fallback {
			return n, err
		}
	}
	return f.directWrite(p, off)
}

// directAt is ReadAt or WriteAt (op "read" or "write") in the caller's
// goroutine, through *os.File for a read and directWrite for a write. It
// is counted as every call is: *os.File alone would defer closing the
// descriptor until pread or pwrite has returned, but its Close would not
// wait, and a write could land after File.Close had returned.
func (f *File) directAt(ctx context.Context, op string, p []byte, off int64) (int, error) {
	t, err := f.begin(op)
	if err != nil {
		return 0, err
	}
	defer f.end(t)
	switch {
	case op == "write" && f.append:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errAppendMode}
	case off < 0:
		return 0, &os.PathError{Op: op + "at", Path: f.name, Err: errNegativeOffset}
	case len(p) == 0:
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if op == "write" {
		return f.directWrite(p, off)
	}
	return f.f.ReadAt(p, off)
}

// ReadvAt reads at off into bufs in order, as ReadAt into their
// concatenation: n < the total length only with an error, io.EOF at the end
// of the file. Buffers whose lengths add up past the largest int (where
// int has 32 bits) fail before any system call, with an error matching
// os.ErrInvalid and syscall.EINVAL, as a negative offset does.
func (f *File) ReadvAt(bufs [][]byte, off int64) (int, error) {
	return f.vectored(opReadv, bufs, off)
}

// WritevAt writes bufs in order at off, as WriteAt of their concatenation:
// an error whenever n < the total length. Buffers too long in all fail as
// for ReadvAt, writing nothing.
func (f *File) WritevAt(bufs [][]byte, off int64) (int, error) {
	return f.vectored(opWritev, bufs, off)
}

func (f *File) vectored(op opcode, bufs [][]byte, off int64) (int, error) {
	name := "read"
	if op == opWritev {
		name = "write"
	}
	if f == nil {
		return 0, nilReceiver(name, "File")
	}
	t, err := f.begin(name)
	if err != nil {
		return 0, err
	}
	defer f.end(t)
	switch {
	case op == opWritev && f.append:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errAppendMode}
	case off < 0:
		return 0, &os.PathError{Op: name + "at", Path: f.name, Err: errNegativeOffset}
	}
	switch vecLen(bufs) {
	case 0:
		return 0, nil
	case -1:
		return 0, &os.PathError{Op: name + "at", Path: f.name, Err: errVectorTooLong}
	}
	if f.async.Load() {
		n, err, fallback := f.engineTransfer(context.Background(), op, nil, bufs, off)
		if !fallback {
			return n, err
		}
	}
	return f.directVectored(op, bufs, off)
}

// directVectored runs preadv/pwritev in the caller's goroutine (or a loop
// where the system has none) until done.
func (f *File) directVectored(op opcode, bufs [][]byte, off int64) (int, error) {
	once, name := readvOnce, "read"
	if op == opWritev {
		once, name = writevOnce, "write"
	}
	if f.kind.isStream() {
		once = vecReadByBuffer
		if op == opWritev {
			once = vecWriteByBuffer
		}
	}
	done, want := 0, vecLen(bufs)
	for done < want {
		bufs = vecAdvance(bufs, 0) // empty buffers first would fill a chunk with nothing
		n, err := once(f, bufs[:min(len(bufs), maxIovecs)], off+int64(done))
		done += n
		if err != nil {
			return done, f.pathErr(name, err)
		}
		if n == 0 {
			if op == opReadv {
				return done, io.EOF
			}
			return done, f.pathErr(name, io.ErrShortWrite)
		}
		bufs = vecAdvance(bufs, n)
	}
	return done, nil
}

// vecReadByBuffer and vecWriteByBuffer are one ReadAt or WriteAt of the
// first non-empty buffer through *os.File: on a stream they report what
// *os.File reports.
func vecReadByBuffer(f *File, bufs [][]byte, off int64) (int, error) {
	n, err := f.f.ReadAt(firstNonEmpty(bufs), off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func vecWriteByBuffer(f *File, bufs [][]byte, off int64) (int, error) {
	return f.f.WriteAt(firstNonEmpty(bufs), off)
}

func firstNonEmpty(bufs [][]byte) []byte {
	for _, b := range bufs {
		if len(b) > 0 {
			return b
		}
	}
	return nil
}

// Sync commits the file's data and metadata to stable storage (fsync). It
// covers every write that returned before Sync was called.
func (f *File) Sync() error { return f.sync(opFlush, "sync") }

// DataSync commits the file's data, and the metadata needed to read it
// back, to stable storage (fdatasync; a full sync where the system has no
// fdatasync). It covers every write that returned before it was called.
func (f *File) DataSync() error { return f.sync(opDataSync, "datasync") }

func (f *File) sync(op opcode, name string) error {
	if f == nil {
		return nilReceiver(name, "File")
	}
	t, err := f.begin(name)
	if err != nil {
		return err
	}
	defer f.end(t)
	if f.async.Load() && !f.directSync.Load() {
		_, err, fallback := f.engineTransfer(context.Background(), op, nil, nil, 0)
		if !fallback {
			return err
		}
	}
	if op == opFlush {
		return f.f.Sync()
	}
	if err := dataSyncOnce(f); err != nil {
		return f.pathErr(name, err)
	}
	return nil
}

// pathErr is err as *os.PathError with op and the File's name, keeping the
// errno of a kernel error.
func (f *File) pathErr(op string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &os.PathError{Op: op, Path: f.name, Err: err}
}

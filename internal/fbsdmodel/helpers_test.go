//go:build linux

package fbsdmodel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/fileaio/fileaio/internal/pin"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// aiocb mirrors FreeBSD's struct aiocb as a program lays it out.
type aiocb struct {
	fildes   int32
	_        [4]byte
	offset   int64
	buf      unsafe.Pointer
	nbytes   uint64
	_        [2]int32
	_        uintptr
	opcode   int32
	reqprio  int32
	status   int64
	err      int64
	kinfo    int64 // _aiocb_private.kernelinfo
	notify   int32
	kq       int32
	value    uint64
	kevFlags uint16
	_        [62]byte
}

// keventT mirrors struct kevent; iovec and timespec their structs.
type keventT struct {
	ident  uintptr
	filter int16
	flags  uint16
	fflags uint32
	data   int64
	udata  uintptr
	ext    [4]uint64
}

type iovec struct {
	base unsafe.Pointer
	len  uint64
}

type timespec struct{ sec, nsec int64 }

func TestMirrorLayouts(t *testing.T) {
	var cb aiocb
	var kev keventT
	got := []uintptr{unsafe.Sizeof(cb), unsafe.Offsetof(cb.buf), unsafe.Offsetof(cb.opcode), unsafe.Offsetof(cb.status),
		unsafe.Offsetof(cb.err), unsafe.Offsetof(cb.notify), unsafe.Offsetof(cb.kq), unsafe.Offsetof(cb.value),
		unsafe.Offsetof(cb.kevFlags), unsafe.Sizeof(kev), unsafe.Offsetof(kev.data), unsafe.Offsetof(kev.udata)}
	want := []uintptr{aiocbSize, offBuf, offOpcode, offStatus, offError, offNotify, offSigKqueue, offSigValue, offKevFlags,
		keventSize, 16, 24}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("layout (-want +got):\n%s", diff)
	}
}

var poll = &timespec{}

// env is one kernel, a read-write file of 64 KiB and one kqueue.
type env struct {
	t    *testing.T
	k    *Kernel
	f    *os.File
	fd   int
	kq   int
	pins pin.Set
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	e := &env{t: t, k: New(cfg)}
	e.f = e.file(os.O_RDWR)
	e.fd = int(e.f.Fd())
	e.kq = e.kqueue()
	t.Cleanup(func() {
		e.k.Close()
		e.pins.Unpin()
		unix.Close(e.kq)
	})
	return e
}

// kqueue returns a close-on-exec kqueue, made as the release the kernel
// plays allows.
func (e *env) kqueue() int {
	e.t.Helper()
	if e.k.Osreldate() >= Osreldate14 {
		kq, err := e.k.Kqueuex(KQUEUE_CLOEXEC)
		if err != nil {
			e.t.Fatal(err)
		}
		return kq
	}
	kq, err := e.k.Kqueue()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(kq), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		e.t.Fatal(err)
	}
	return kq
}

// file opens the env's data file (created on first use) with flag.
func (e *env) file(flag int) *os.File {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "data")
	if err := os.WriteFile(path, bytes.Repeat([]byte("0123456789abcdef"), 4096), 0o600); err != nil {
		e.t.Fatal(err)
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

// cb returns a pinned aiocb on fd reporting to the env's kqueue with flags.
func (e *env) cb(fd int, off int64, buf []byte, flags uint16) *aiocb {
	cb := &aiocb{fildes: int32(fd), offset: off, nbytes: uint64(len(buf)), notify: SIGEV_KEVENT,
		kq: int32(e.kq), value: 0xdeadbeef, kevFlags: flags, status: 7, err: 7}
	if len(buf) > 0 {
		cb.buf = unsafe.Pointer(&buf[0])
	}
	e.pins.Pin(unsafe.Pointer(cb), aiocbSize)
	e.pins.Bytes(buf)
	return cb
}

func (e *env) buf(n int) []byte {
	b := make([]byte, n)
	e.pins.Bytes(b)
	return b
}

func (e *env) submit(call func(unsafe.Pointer) error, cb *aiocb) {
	e.t.Helper()
	if err := call(unsafe.Pointer(cb)); err != nil {
		e.t.Fatalf("submission: %v", err)
	}
}

// write queues a write of n bytes at off with the given kevent flags.
func (e *env) write(off int64, n int, flags uint16) *aiocb {
	e.t.Helper()
	cb := e.cb(e.fd, off, bytes.Repeat([]byte{'w'}, n), flags)
	e.submit(e.k.AioWrite, cb)
	return cb
}

// finish waits until aio_error stops answering EINPROGRESS and returns its answer.
func (e *env) finish(cb *aiocb) int {
	e.t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if v, _ := e.k.AioError(unsafe.Pointer(cb)); v != int(unix.EINPROGRESS) {
			return v
		}
	}
	e.t.Fatal("job never finished")
	return 0
}

// kevent makes one kevent call on the env's kqueue collecting up to n events.
func (e *env) kevent(changes []keventT, n int, ts *timespec) ([]keventT, error) {
	evs := make([]keventT, n+1)
	var c unsafe.Pointer
	if len(changes) > 0 {
		c = unsafe.Pointer(&changes[0])
	}
	got, err := e.k.Kevent(e.kq, c, len(changes), unsafe.Pointer(&evs[0]), n, unsafe.Pointer(ts))
	if err != nil {
		return nil, err
	}
	return evs[:got], nil
}

// harvest collects events until it has n of them, failing after 5 s.
func (e *env) harvest(n int) []keventT {
	e.t.Helper()
	var all []keventT
	for end := time.Now().Add(5 * time.Second); len(all) < n && time.Now().Before(end); {
		evs, err := e.kevent(nil, n-len(all), &timespec{nsec: 10e6})
		if err != nil && !errors.Is(err, syscall.EINTR) {
			e.t.Fatal(err)
		}
		all = append(all, evs...)
	}
	if len(all) != n {
		e.t.Fatalf("harvested %d events, want %d", len(all), n)
	}
	return all
}

// ret calls aio_return and fails the test on an error.
func (e *env) ret(cb *aiocb) int {
	e.t.Helper()
	n, err := e.k.AioReturn(unsafe.Pointer(cb))
	if err != nil {
		e.t.Fatalf("aio_return: %v", err)
	}
	return n
}

func (e *env) noViolations() {
	e.t.Helper()
	if v := e.k.Violations(); len(v) > 0 {
		e.t.Fatalf("violations: %q", v)
	}
}

func (e *env) wantViolation(substr string) {
	e.t.Helper()
	for _, v := range e.k.Violations() {
		if bytes.Contains([]byte(v), []byte(substr)) {
			return
		}
	}
	e.t.Fatalf("no violation containing %q in %q", substr, e.k.Violations())
}

func identOf(cb *aiocb) uintptr { return uintptr(unsafe.Pointer(cb)) }

//go:build linux

package fbsdmodel

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AIO on a file that is not a regular file or directory of a local mount is
// refused with EOPNOTSUPP at submission, every operation alike (§F.4), and
// aio_fsync on a descriptor without a vnode (pipe, socket) with EINVAL before
// that (§E).
func TestUnsafeFilesRefused(t *testing.T) {
	e := newEnv(t, Config{})
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, fd := range append(p[:], sp[:]...) {
			unix.Close(fd)
		}
	})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ff, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR does not block on Linux
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ff.Close() })
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	remote := e.file(os.O_RDWR)
	if err := e.k.SetNonLocal(int(remote.Fd()), true); err != nil {
		t.Fatal(err)
	}
	// A second descriptor of the same file is on the same mount.
	remote2, err := os.OpenFile(remote.Name(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote2.Close() })

	iov := []iovec{{unsafe.Pointer(&e.buf(8)[0]), 8}}
	e.pins.Pin(unsafe.Pointer(&iov[0]), iovecSize)
	fsync := func(p unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, p) }
	type call struct {
		name string
		do   func(unsafe.Pointer) error
		vec  bool
	}
	calls := []call{{"read", e.k.AioRead, false}, {"write", e.k.AioWrite, false},
		{"readv", e.k.AioReadv, true}, {"writev", e.k.AioWritev, true}, {"fsync", fsync, false}}
	files := []struct {
		name      string
		fd, rfd   int // rfd: for reads, where fd is write-only
		fsyncWant syscall.Errno
	}{
		{"pipe", p[1], p[0], unix.EINVAL},
		{"socket", sp[0], sp[0], unix.EINVAL},
		{"fifo", int(ff.Fd()), int(ff.Fd()), unix.EOPNOTSUPP},
		{"character device", int(null.Fd()), int(null.Fd()), unix.EOPNOTSUPP},
		{"non-local file", int(remote.Fd()), int(remote.Fd()), unix.EOPNOTSUPP},
		{"non-local file, other descriptor", int(remote2.Fd()), int(remote2.Fd()), unix.EOPNOTSUPP},
	}
	for _, f := range files {
		for _, c := range calls {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				fd := f.fd
				if c.name == "read" || c.name == "readv" {
					fd = f.rfd
				}
				cb := e.cb(fd, 0, e.buf(8), EV_ONESHOT)
				if c.vec {
					cb.buf, cb.nbytes = unsafe.Pointer(&iov[0]), 1
				}
				want := syscall.Errno(unix.EOPNOTSUPP)
				if c.name == "fsync" {
					want = f.fsyncWant
				}
				if err := c.do(unsafe.Pointer(cb)); !errors.Is(err, want) || cb.err != int64(want) || cb.status != -1 {
					t.Fatalf("submission = %v (status %d, error %d), want %v", err, cb.status, cb.err, want)
				}
			})
		}
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d, want 0", n)
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("refused jobs posted %d events", len(evs))
	}

	// The mark is lifted: the same descriptor is served again.
	if err := e.k.SetNonLocal(int(remote.Fd()), false); err != nil {
		t.Fatal(err)
	}
	cb := e.cb(int(remote.Fd()), 0, e.buf(8), EV_ONESHOT)
	e.submit(e.k.AioRead, cb)
	e.harvest(1)
	if n := e.ret(cb); n != 8 {
		t.Fatalf("read after the mark was lifted = %d", n)
	}
	if err := e.k.SetNonLocal(-1, true); err != unix.EBADF {
		t.Fatalf("SetNonLocal(-1) = %v, want EBADF", err)
	}
	e.noViolations()
}

// Config.NonLocal puts every regular file on a non-local mount.
func TestEveryFileNonLocal(t *testing.T) {
	e := newEnv(t, Config{NonLocal: true})
	cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
	if err := e.k.AioRead(unsafe.Pointer(cb)); err != unix.EOPNOTSUPP {
		t.Fatalf("aio_read = %v, want EOPNOTSUPP", err)
	}
	list := []*aiocb{e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)}
	list[0].opcode = LIO_READ
	if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), 1, nil); err != unix.EIO || list[0].err != int64(unix.EOPNOTSUPP) {
		t.Fatalf("lio_listio = %v, entry error %d; want EIO, EOPNOTSUPP", err, list[0].err)
	}
	e.noViolations()
}

// With vfs.aio.enable_unsafe a pipe is served, as a stream: a write into it
// and a read out of it both complete.
func TestEnableUnsafeServesPipe(t *testing.T) {
	e := newEnv(t, Config{EnableUnsafe: true})
	if v, _ := e.k.SysctlUint32("vfs.aio.enable_unsafe"); v != 1 {
		t.Fatalf("vfs.aio.enable_unsafe = %d", v)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	w := e.cb(p[1], 99, []byte("through the pipe"), EV_ONESHOT)
	e.submit(e.k.AioWrite, w)
	buf := e.buf(16)
	r := e.cb(p[0], 12345, buf, EV_ONESHOT)
	e.submit(e.k.AioRead, r)
	e.harvest(2)
	if n := e.ret(w); n != 16 {
		t.Fatalf("write = %d", n)
	}
	if n := e.ret(r); n != 16 || string(buf) != "through the pipe" {
		t.Fatalf("read = %d, %q", n, buf)
	}
	if err := e.k.SetSysctl("vfs.aio.enable_unsafe", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.k.AioWrite(unsafe.Pointer(w)); err != unix.EOPNOTSUPP {
		t.Fatalf("with enable_unsafe cleared: %v, want EOPNOTSUPP", err)
	}
	e.noViolations()
}

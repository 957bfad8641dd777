//go:build linux

package fbsdmodel

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestSubmissionWriteBacks(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	cb := e.write(0, 100, EV_ONESHOT)
	if cb.status != -1 || cb.err != int64(unix.EINPROGRESS) {
		t.Fatalf("after submission status=%d error=%d, want -1/EINPROGRESS", cb.status, cb.err)
	}
	e.k.Release()
	if v := e.finish(cb); v != 0 {
		t.Fatalf("aio_error = %d", v)
	}
	if cb.status != -1 || cb.err != int64(unix.EINPROGRESS) {
		t.Fatalf("completion wrote the user aiocb: status=%d error=%d", cb.status, cb.err)
	}
	if n := e.ret(cb); n != 100 || cb.status != 100 || cb.err != 0 {
		t.Fatalf("aio_return = %d, status=%d error=%d; want 100, 100, 0", n, cb.status, cb.err)
	}
	e.noViolations()
}

func TestSubmissionRejects(t *testing.T) {
	e := newEnv(t, Config{})
	wronly := int(e.file(os.O_WRONLY).Fd())
	rdonly := int(e.file(os.O_RDONLY).Fd())
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	closed, err := unix.Open(e.f.Name(), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(closed)
	iovs := make([]iovec, IOV_MAX+1)
	e.pins.Pin(unsafe.Pointer(&iovs[0]), uintptr(len(iovs))*iovecSize)

	cases := []struct {
		name  string
		setup func(cb *aiocb)
		call  func(unsafe.Pointer) error
		want  syscall.Errno
	}{
		{"closed fd", func(cb *aiocb) { cb.fildes = int32(closed) }, e.k.AioRead, unix.EBADF},
		{"negative fd", func(cb *aiocb) { cb.fildes = -1 }, e.k.AioWrite, unix.EBADF},
		{"read on write-only", func(cb *aiocb) { cb.fildes = int32(wronly) }, e.k.AioRead, unix.EBADF},
		{"write on read-only", func(cb *aiocb) { cb.fildes = int32(rdonly) }, e.k.AioWrite, unix.EBADF},
		{"readv on write-only", func(cb *aiocb) { cb.fildes, cb.buf, cb.nbytes = int32(wronly), unsafe.Pointer(&iovs[0]), 1 }, e.k.AioReadv, unix.EBADF},
		{"negative offset", func(cb *aiocb) { cb.offset = -1 }, e.k.AioRead, unix.EINVAL},
		{"nbytes above SSIZE_MAX", func(cb *aiocb) { cb.nbytes = 1 << 63 }, e.k.AioRead, unix.EINVAL},
		{"SIGEV_THREAD", func(cb *aiocb) { cb.notify = SIGEV_THREAD }, e.k.AioRead, unix.EINVAL},
		{"unknown notify", func(cb *aiocb) { cb.notify = 99 }, e.k.AioWrite, unix.EINVAL},
		{"SIGEV_SIGNAL bad signo", func(cb *aiocb) { cb.notify, cb.kq = SIGEV_SIGNAL, 0 }, e.k.AioWrite, unix.EINVAL},
		{"kevent flag EV_ADD", func(cb *aiocb) { cb.kevFlags = EV_ADD }, e.k.AioRead, unix.EINVAL},
		{"kevent flag EV_EOF", func(cb *aiocb) { cb.kevFlags = EV_ONESHOT | EV_EOF }, e.k.AioRead, unix.EINVAL},
		{"kqueue is a file", func(cb *aiocb) { cb.kq = int32(e.fd) }, e.k.AioRead, unix.EBADF},
		{"kqueue closed number", func(cb *aiocb) { cb.kq = int32(closed) }, e.k.AioRead, unix.EBADF},
		{"pipe is unsafe AIO", func(cb *aiocb) { cb.fildes = int32(p[0]) }, e.k.AioRead, unix.EOPNOTSUPP},
		{"iovcnt above IOV_MAX", func(cb *aiocb) { cb.buf, cb.nbytes = unsafe.Pointer(&iovs[0]), IOV_MAX+1 }, e.k.AioWritev, unix.EINVAL},
		{"iov array NULL", func(cb *aiocb) { cb.buf, cb.nbytes = nil, 1 }, e.k.AioReadv, unix.EFAULT},
		{"fsync on closed fd", func(cb *aiocb) { cb.fildes = int32(closed) }, func(p unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, p) }, unix.EBADF},
		{"fsync on pipe", func(cb *aiocb) { cb.fildes = int32(p[1]) }, func(p unsafe.Pointer) error { return e.k.AioFsync(O_DSYNC, p) }, unix.EINVAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cb := e.cb(e.fd, 0, e.buf(16), EV_ONESHOT)
			c.setup(cb)
			err := c.call(unsafe.Pointer(cb))
			if !errors.Is(err, c.want) {
				t.Fatalf("submission = %v, want %v", err, c.want)
			}
			if cb.status != -1 || cb.err != int64(c.want) {
				t.Fatalf("aiocb status=%d error=%d, want -1/%d", cb.status, cb.err, c.want)
			}
			if v, _ := e.k.AioError(unsafe.Pointer(cb)); v != int(c.want) {
				t.Fatalf("aio_error = %d, want %d", v, c.want)
			}
			if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
				t.Fatalf("aio_return = %v, want EINVAL", err)
			}
			if n := e.k.Outstanding(); n != 0 {
				t.Fatalf("Outstanding = %d", n)
			}
		})
	}
	if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
		t.Fatalf("rejected jobs posted %d events", len(evs))
	}
}

func TestFsyncBadOpTouchesNothing(t *testing.T) {
	e := newEnv(t, Config{})
	cb := e.cb(e.fd, 0, nil, EV_ONESHOT)
	if err := e.k.AioFsync(666, unsafe.Pointer(cb)); err != unix.EINVAL {
		t.Fatalf("aio_fsync(666) = %v, want EINVAL", err)
	}
	if cb.status != 7 || cb.err != 7 {
		t.Fatalf("aiocb touched: status=%d error=%d", cb.status, cb.err)
	}
}

func TestQueueLimit(t *testing.T) {
	e := newEnv(t, Config{MaxQueuePerProc: 4})
	e.k.Hold()
	var cbs []*aiocb
	for i := range 4 {
		cbs = append(cbs, e.write(int64(i)*10, 10, EV_ONESHOT))
	}
	over := e.cb(e.fd, 100, e.buf(10), EV_ONESHOT)
	if err := e.k.AioWrite(unsafe.Pointer(over)); err != unix.EAGAIN || over.err != int64(unix.EAGAIN) || over.status != -1 {
		t.Fatalf("fifth submission = %v, status=%d error=%d; want EAGAIN, -1, EAGAIN", err, over.status, over.err)
	}
	e.k.Release()
	e.harvest(4)
	if err := e.k.AioWrite(unsafe.Pointer(over)); err != unix.EAGAIN {
		t.Fatalf("with 4 finished, unreturned jobs: %v, want EAGAIN", err)
	}
	e.ret(cbs[0])
	if n := e.k.Outstanding(); n != 3 {
		t.Fatalf("Outstanding = %d, want 3", n)
	}
	e.submit(e.k.AioWrite, over)
	e.harvest(1)
	for _, cb := range append(cbs[1:], over) {
		e.ret(cb)
	}
	e.noViolations()
}

// The kernel runs a job from its copy of the aiocb and of the iovec array
// (§A): changing them after submission changes nothing.
func TestKernelCopies(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	a, b := e.buf(16), e.buf(16)
	cb := e.cb(e.fd, 16, a, EV_ONESHOT)
	e.submit(e.k.AioRead, cb)
	cb.buf, cb.offset = unsafe.Pointer(&b[0]), 0

	data := []byte("vectored-write!!")
	iov := []iovec{{unsafe.Pointer(&data[8]), 8}, {unsafe.Pointer(&data[0]), 8}}
	e.pins.Bytes(data)
	e.pins.Pin(unsafe.Pointer(&iov[0]), 2*iovecSize)
	vcb := e.cb(e.fd, 4096, nil, EV_ONESHOT)
	vcb.buf, vcb.nbytes = unsafe.Pointer(&iov[0]), 2
	e.submit(e.k.AioWritev, vcb)
	iov[0], iov[1] = iovec{}, iovec{}
	e.k.Release()
	e.harvest(2)
	if e.ret(cb) != 16 || e.ret(vcb) != 16 {
		t.Fatal("short transfer")
	}
	if !bytes.Equal(a, []byte("0123456789abcdef")) || !bytes.Equal(b, make([]byte, 16)) {
		t.Fatalf("read went to %q / %q, want the first buffer", a, b)
	}
	got := make([]byte, 16)
	if _, err := e.f.ReadAt(got, 4096); err != nil || string(got) != "-write!!vectored" {
		t.Fatalf("file holds %q (%v)", got, err)
	}
}

func TestReadvRoundTrip(t *testing.T) {
	e := newEnv(t, Config{})
	lo, hi := e.buf(5), e.buf(3)
	iov := []iovec{{unsafe.Pointer(&hi[0]), 3}, {unsafe.Pointer(&lo[0]), 5}}
	e.pins.Pin(unsafe.Pointer(&iov[0]), 2*iovecSize)
	cb := e.cb(e.fd, 2, nil, EV_ONESHOT)
	cb.buf, cb.nbytes = unsafe.Pointer(&iov[0]), 2
	e.submit(e.k.AioReadv, cb)
	e.harvest(1)
	if n := e.ret(cb); n != 8 || string(hi) != "234" || string(lo) != "56789" {
		t.Fatalf("readv = %d, %q %q", n, hi, lo)
	}
	empty := e.cb(e.fd, 0, nil, EV_ONESHOT)
	e.submit(e.k.AioReadv, empty)
	e.harvest(1)
	if n := e.ret(empty); n != 0 {
		t.Fatalf("readv of 0 iovecs = %d", n)
	}
}

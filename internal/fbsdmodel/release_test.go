//go:build linux

package fbsdmodel

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On 13.x lio_listio refuses LIO_READV and LIO_WRITEV entries with EINVAL in
// the entry, before any iovec is read, while aio_readv and aio_writev serve
// the same request; from 14.0 on the list takes them (§B, §H).
func TestVectoredListByRelease(t *testing.T) {
	for _, rel := range []int{Osreldate13, Osreldate14, Osreldate15} {
		e := newEnv(t, Config{Osreldate: rel})
		if v, err := e.k.SysctlUint32("kern.osreldate"); v != uint32(rel) || err != nil || e.k.Osreldate() != rel {
			t.Fatalf("kern.osreldate = %d, %v; Osreldate() = %d; want %d", v, err, e.k.Osreldate(), rel)
		}
		buf := e.buf(8)
		iov := []iovec{{unsafe.Pointer(&buf[0]), 8}}
		e.pins.Pin(unsafe.Pointer(&iov[0]), iovecSize)
		vec := e.cb(e.fd, 0, nil, EV_ONESHOT)
		vec.opcode, vec.buf, vec.nbytes = LIO_READV, unsafe.Pointer(&iov[0]), 1
		noIov := e.cb(e.fd, 0, nil, EV_ONESHOT) // a NULL iovec array: EFAULT where it is read
		noIov.opcode, noIov.buf, noIov.nbytes = LIO_WRITEV, nil, 1
		plain := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		plain.opcode = LIO_READ
		err := e.listio(LIO_NOWAIT, []*aiocb{vec, noIov, plain}, nil)
		if rel < Osreldate14 {
			if err != unix.EIO || vec.err != int64(unix.EINVAL) || noIov.err != int64(unix.EINVAL) || vec.status != -1 {
				t.Fatalf("%d: lio_listio = %v, entries %d/%d; want EIO, EINVAL/EINVAL", rel, err, vec.err, noIov.err)
			}
			e.harvest(1)
			e.ret(plain)
			e.submit(e.k.AioReadv, vec) // the single call serves it
			e.harvest(1)
			if n := e.ret(vec); n != 8 || string(buf) != "01234567" {
				t.Fatalf("%d: aio_readv = %d, %q", rel, n, buf)
			}
		} else {
			if err != unix.EIO || vec.err != int64(unix.EINPROGRESS) || noIov.err != int64(unix.EFAULT) {
				t.Fatalf("%d: lio_listio = %v, entries %d/%d; want EIO, EINPROGRESS/EFAULT", rel, err, vec.err, noIov.err)
			}
			e.harvest(2)
			e.ret(plain)
			if n := e.ret(vec); n != 8 || string(buf) != "01234567" {
				t.Fatalf("%d: LIO_READV = %d, %q", rel, n, buf)
			}
		}
		e.noViolations()
	}
}

// kqueuex exists from 14.0 on and makes a close-on-exec kqueue with
// KQUEUE_CLOEXEC; on 13.x it is ENOSYS, and calling it is a violation
// (FreeBSD also sends SIGSYS). kqueue is never close-on-exec.
func TestKqueuex(t *testing.T) {
	cloexec := func(t *testing.T, fd int) bool {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl&unix.FD_CLOEXEC != 0
	}
	e := newEnv(t, Config{Osreldate: Osreldate14})
	for _, c := range []struct {
		flags uint32
		want  bool
	}{{KQUEUE_CLOEXEC, true}, {0, false}} {
		kq, err := e.k.Kqueuex(c.flags)
		if err != nil {
			t.Fatal(err)
		}
		if got := cloexec(t, kq); got != c.want {
			t.Errorf("kqueuex(%#x): close-on-exec %v, want %v", c.flags, got, c.want)
		}
		unix.Close(kq)
	}
	if _, err := e.k.Kqueuex(2); err != unix.EINVAL {
		t.Fatalf("kqueuex(2) = %v, want EINVAL", err)
	}
	kq, err := e.k.Kqueue()
	if err != nil {
		t.Fatal(err)
	}
	if cloexec(t, kq) {
		t.Error("kqueue() is close-on-exec")
	}
	unix.Close(kq)
	e.noViolations()

	old := newEnv(t, Config{Osreldate: Osreldate13})
	if _, err := old.k.Kqueuex(KQUEUE_CLOEXEC); err != unix.ENOSYS {
		t.Fatalf("kqueuex on 13.x = %v, want ENOSYS", err)
	}
	old.wantViolation("kqueuex called on FreeBSD 1302000")
}

// A kqueue that is not close-on-exec is a violation once the program uses
// it, for a kevent change or as an aiocb's kqueue.
func TestKqueueWithoutCloexecIsViolation(t *testing.T) {
	for _, use := range []string{"kevent", "aiocb"} {
		e := newEnv(t, Config{})
		kq, err := e.k.Kqueue()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(kq) })
		e.noViolations()
		switch use {
		case "kevent":
			ch := []keventT{{ident: 1, filter: EVFILT_USER, flags: EV_ADD | EV_CLEAR}}
			if _, err := e.k.Kevent(kq, unsafe.Pointer(&ch[0]), 1, nil, 0, nil); err != nil {
				t.Fatal(err)
			}
		case "aiocb":
			cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
			cb.kq = int32(kq)
			e.submit(e.k.AioRead, cb)
			e.finish(cb)
			e.ret(cb)
		}
		e.wantViolation("without close-on-exec")
	}
}

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		osrel, nonLocal string // "-" leaves the variable unset
		want            Config
		bad             bool
	}{
		{"-", "-", Config{}, false},
		{"1302000", "-", Config{Osreldate: 1302000}, false},
		{"1500000", "1", Config{Osreldate: 1500000, NonLocal: true}, false},
		{"-", "0", Config{}, false},
		{"13.2", "-", Config{}, true},
		{"-1", "-", Config{}, true},
		{"-", "yes", Config{}, true},
	}
	for _, c := range cases {
		for name, v := range map[string]string{EnvOsreldate: c.osrel, EnvNonLocal: c.nonLocal} {
			t.Setenv(name, v) // restored after the test
			if v == "-" {
				os.Unsetenv(name)
			}
		}
		got, err := ConfigFromEnv()
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("%s=%s %s=%s: %+v, %v; want %+v, error %v", EnvOsreldate, c.osrel, EnvNonLocal, c.nonLocal, got, err, c.want, c.bad)
		}
	}
}

//go:build linux

package fbsdmodel

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestAioError(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	queued := e.write(0, 10, EV_ONESHOT)
	if v, _ := e.k.AioError(unsafe.Pointer(queued)); v != int(unix.EINPROGRESS) {
		t.Fatalf("queued: %d", v)
	}
	e.k.Release()
	e.finish(queued)
	e.k.FailNext(unix.ENOSPC)
	failed := e.write(10, 10, EV_ONESHOT)
	e.finish(failed)
	returned := e.write(20, 10, EV_ONESHOT)
	e.finish(returned)
	e.ret(returned)
	e.harvest(2)

	cases := []struct {
		name string
		cb   *aiocb
		want unix.Errno
	}{
		{"finished", queued, 0},
		{"failed", failed, unix.ENOSPC},
		{"returned (status is the count)", returned, unix.EINVAL},
		{"unknown, stale status", &aiocb{status: 5, err: 9}, unix.EINVAL},
		{"unknown, status -1", &aiocb{status: -1, err: 9}, 9},
	}
	for _, c := range cases {
		if v, err := e.k.AioError(unsafe.Pointer(c.cb)); v != int(c.want) || err != nil {
			t.Errorf("%s: aio_error = %d, %v; want %d", c.name, v, err, c.want)
		}
	}
	// kern_aio_error reads an unknown aiocb with fuword, which answers -1
	// for an address it cannot read: -1 as the value, and no error.
	if v, err := e.k.AioError(nil); v != -1 || err != nil {
		t.Errorf("aio_error(NULL) = %d, %v; want -1, nil", v, err)
	}
	e.ret(queued)
	if _, err := e.k.AioReturn(unsafe.Pointer(failed)); !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("aio_return of failed job = %v", err)
	}
	// FailNext applies once.
	again := e.write(30, 10, EV_ONESHOT)
	e.harvest(1)
	if n := e.ret(again); n != 10 {
		t.Fatalf("job after FailNext = %d", n)
	}
}

func TestAioReturnOnce(t *testing.T) {
	e := newEnv(t, Config{})
	e.k.Hold()
	cb := e.write(0, 10, EV_ONESHOT)
	if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
		t.Fatalf("aio_return of a queued job = %v, want EINVAL", err)
	}
	e.k.Release()
	e.harvest(1)
	if n := e.ret(cb); n != 10 {
		t.Fatalf("aio_return = %d", n)
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
		t.Fatalf("second aio_return = %v, want EINVAL", err)
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(&aiocb{})); err != unix.EINVAL {
		t.Fatalf("aio_return of an unknown aiocb = %v, want EINVAL", err)
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d", n)
	}
}

func TestSysctl(t *testing.T) {
	e := newEnv(t, Config{MaxQueuePerProc: 77})
	cases := []struct {
		name string
		want uint32
		err  error
	}{
		{"vfs.aio.max_aio_queue_per_proc", 77, nil},
		{"p1003_1b.aio_listio_max", 77, nil},
		{"vfs.aio.max_aio_per_proc", 32, nil},
		{"vfs.aio.num_queue_count", 0, nil},
		{"vfs.aio.max_aio_queue", 1024, nil},
		{"vfs.aio.enable_unsafe", 0, nil},
		{"kern.osreldate", Osreldate15, nil},
		{"vfs.aio.max_aio_queue_per_pro", 0, unix.ENOENT},
	}
	for _, c := range cases {
		if v, err := e.k.SysctlUint32(c.name); v != c.want || err != c.err {
			t.Errorf("%s = %d, %v; want %d, %v", c.name, v, err, c.want, c.err)
		}
	}
}

func TestDefault(t *testing.T) {
	k := Default()
	if k != Default() {
		t.Fatal("Default is not one instance")
	}
	if v, _ := k.SysctlUint32("vfs.aio.max_aio_queue_per_proc"); v != 256 || k.cfg.EINTRPercent != 10 || k.cfg.Workers != 4 {
		t.Fatalf("Default: queue limit %d, EINTR %d%%, %d workers", v, k.cfg.EINTRPercent, k.cfg.Workers)
	}
}

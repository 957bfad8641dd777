//go:build linux

package fbsdmodel

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Before a process's first AIO call the kernel has no AIO state for it
// (p_aioinfo is NULL): aio_error answers EINVAL whatever the aiocb holds,
// aio_return is EINVAL, aio_cancel AIO_ALLDONE and aio_suspend EAGAIN.
// aio_read and friends (even when they reject the aiocb), lio_listio past
// its length check and aio_waitcomplete make the state; from then on
// aio_error reads an unknown aiocb's fields (kern_aio_error, §B).
func TestNoAIOStateYet(t *testing.T) {
	stale := func() *aiocb { return &aiocb{status: -1, err: int64(unix.ENOSPC)} }
	e := newEnv(t, Config{})
	cb := stale()
	if v, err := e.k.AioError(unsafe.Pointer(cb)); v != int(unix.EINVAL) || err != nil {
		t.Fatalf("aio_error with no AIO state = %d, %v; want EINVAL", v, err)
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
		t.Fatalf("aio_return with no AIO state = %v, want EINVAL", err)
	}
	if r := e.cancel(e.fd, cb); r != AIO_ALLDONE {
		t.Fatalf("aio_cancel with no AIO state = %d, want AIO_ALLDONE", r)
	}
	list := []unsafe.Pointer{unsafe.Pointer(cb)}
	if err := e.k.AioSuspend(unsafe.Pointer(&list[0]), 1, unsafe.Pointer(poll)); err != unix.EAGAIN {
		t.Fatalf("aio_suspend with no AIO state = %v, want EAGAIN", err)
	}
	e.k.ResetViolations() // aio_suspend is one
	if cb.status != -1 || cb.err != int64(unix.ENOSPC) {
		t.Fatalf("the calls wrote the aiocb: status=%d error=%d", cb.status, cb.err)
	}

	makers := []struct {
		name string
		call func(e *env)
	}{
		{"a rejected aio_read", func(e *env) {
			bad := e.cb(-1, 0, e.buf(8), EV_ONESHOT)
			if err := e.k.AioRead(unsafe.Pointer(bad)); err != unix.EBADF {
				t.Fatalf("aio_read on fd -1 = %v", err)
			}
		}},
		{"an empty lio_listio", func(e *env) {
			if err := e.listio(LIO_NOWAIT, nil, nil); err != nil {
				t.Fatalf("empty lio_listio = %v", err)
			}
		}},
		{"a polling aio_waitcomplete", func(e *env) {
			var got uintptr
			if _, err := e.k.AioWaitcomplete(unsafe.Pointer(&got), unsafe.Pointer(poll)); err != unix.EAGAIN {
				t.Fatalf("aio_waitcomplete poll = %v", err)
			}
			e.k.ResetViolations()
		}},
	}
	for _, m := range makers {
		e := newEnv(t, Config{})
		lo := &aiocb{}
		if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&lo), e.k.maxQueuePerProc+1, nil); err != unix.EINVAL {
			t.Fatalf("lio_listio above the limit = %v", err)
		}
		if v, _ := e.k.AioError(unsafe.Pointer(stale())); v != int(unix.EINVAL) {
			t.Fatalf("a lio_listio refused by its length made AIO state: aio_error = %d", v)
		}
		m.call(e)
		if v, _ := e.k.AioError(unsafe.Pointer(stale())); v != int(unix.ENOSPC) {
			t.Errorf("after %s: aio_error of an unknown aiocb with status -1 = %d, want the error it holds (ENOSPC)", m.name, v)
		}
		if v, _ := e.k.AioError(unsafe.Pointer(&aiocb{status: 3})); v != int(unix.EINVAL) {
			t.Errorf("after %s: aio_error of an unknown aiocb with status 3 = %d, want EINVAL", m.name, v)
		}
		list := []unsafe.Pointer{unsafe.Pointer(stale())}
		if err := e.k.AioSuspend(unsafe.Pointer(&list[0]), 1, unsafe.Pointer(poll)); err != nil {
			t.Errorf("after %s: aio_suspend of an unknown aiocb = %v, want nil (all finished)", m.name, err)
		}
		e.k.ResetViolations()
		e.noViolations()
	}
}

// The job holds its own reference to the file (§F): closing aio_fildes
// while the job is queued changes nothing for the job, which still does its
// I/O; aio_cancel on the closed number is EBADF. Once the number is reused
// for another file, aio_cancel matches the old job by the number stored in
// its aiocb (§C), and cancels it.
func TestDescriptorClosedInFlight(t *testing.T) {
	e := newEnv(t, Config{})
	dup := func() int {
		fd, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	e.k.Hold()
	fd := dup()
	data := []byte("closed-while-queued")
	cb := e.cb(fd, 100, data, EV_ONESHOT)
	e.submit(e.k.AioWrite, cb)
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
	if _, err := e.k.AioCancel(fd, unsafe.Pointer(cb)); err != unix.EBADF {
		t.Fatalf("aio_cancel on the closed descriptor = %v, want EBADF", err)
	}

	other, err := os.CreateTemp(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	reused := dup()
	victim := e.cb(reused, 200, e.buf(8), EV_ONESHOT)
	e.submit(e.k.AioRead, victim)
	unix.Close(reused)
	if err := unix.Dup3(int(other.Fd()), reused, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(reused)
	if r := e.cancel(reused, nil); r != AIO_CANCELED {
		t.Fatalf("aio_cancel(reused number, NULL) = %d, want AIO_CANCELED (the old job matches by number)", r)
	}
	e.k.Release()

	e.harvest(2)
	if n := e.ret(cb); n != len(data) {
		t.Fatalf("aio_return of the write whose descriptor was closed = %d, want %d", n, len(data))
	}
	got := make([]byte, len(data))
	if _, err := e.f.ReadAt(got, 100); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file holds %q (%v), want %q", got, err, data)
	}
	if _, err := e.k.AioReturn(unsafe.Pointer(victim)); !errors.Is(err, unix.ECANCELED) {
		t.Fatalf("aio_return of the job canceled through the reused number = %v, want ECANCELED", err)
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d", n)
	}
	e.noViolations()
}

// aio_readv, aio_writev (and on 14.0 and later a LIO_READV or LIO_WRITEV
// list entry) copy the iovec array in together with the aiocb, before any
// other check (aiocb_copyin, §A.2): a NULL array is EFAULT even on a bad
// descriptor. 13.x's lio_listio copies no array and refuses the opcode
// (EINVAL, §B).
func TestIovecCopiedInFirst(t *testing.T) {
	for _, rel := range []int{Osreldate13, Osreldate14} {
		e := newEnv(t, Config{Osreldate: rel})
		single := e.cb(-1, 0, nil, EV_ONESHOT)
		single.nbytes = 1
		if err := e.k.AioReadv(unsafe.Pointer(single)); err != unix.EFAULT || single.err != int64(unix.EFAULT) {
			t.Errorf("%d: aio_readv of a NULL iovec array on fd -1 = %v, error field %d; want EFAULT", rel, err, single.err)
		}
		entry := e.cb(-1, 0, nil, EV_ONESHOT)
		entry.opcode, entry.nbytes = LIO_WRITEV, 1
		want := int64(unix.EFAULT)
		if rel < Osreldate14 {
			want = int64(unix.EINVAL)
		}
		if err := e.listio(LIO_NOWAIT, []*aiocb{entry}, nil); err != unix.EIO || entry.err != want {
			t.Errorf("%d: LIO_WRITEV entry of a NULL iovec array on fd -1: lio_listio %v, entry error %d; want EIO, %d", rel, err, entry.err, want)
		}
		if n := e.k.Outstanding(); n != 0 {
			t.Fatalf("%d: Outstanding = %d", rel, n)
		}
		e.noViolations()
	}
}

// aio_fsync_errors: an op other than O_SYNC or O_DSYNC is EINVAL with the
// aiocb untouched; a descriptor that is not open is EBADF, an unknown
// sigev_notify EINVAL, both stored in the aiocb (§E).
func TestFsyncErrors(t *testing.T) {
	e := newEnv(t, Config{})
	fsync := func(op int, cb *aiocb) error { return e.k.AioFsync(op, unsafe.Pointer(cb)) }
	untouched := e.cb(e.fd, 0, nil, EV_ONESHOT)
	if err := fsync(666, untouched); err != unix.EINVAL || untouched.status != 7 || untouched.err != 7 {
		t.Fatalf("aio_fsync(666) = %v, status=%d error=%d; want EINVAL, the aiocb untouched", err, untouched.status, untouched.err)
	}
	badFd := e.cb(666, 0, nil, EV_ONESHOT)
	if err := fsync(O_SYNC, badFd); err != unix.EBADF || badFd.err != int64(unix.EBADF) {
		t.Fatalf("aio_fsync on descriptor 666 = %v, error %d; want EBADF", err, badFd.err)
	}
	badNotify := e.cb(e.fd, 0, nil, EV_ONESHOT)
	badNotify.notify = 666
	if err := fsync(O_SYNC, badNotify); err != unix.EINVAL || badNotify.err != int64(unix.EINVAL) {
		t.Fatalf("aio_fsync with sigev_notify 666 = %v, error %d; want EINVAL", err, badNotify.err)
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("Outstanding = %d", n)
	}
	e.noViolations()
}

// lio_listio(LIO_NOWAIT) with one bad entry, wherever it sits: the call is
// -1/EIO; every other entry is queued, runs and posts its kevent; aio_error
// of the bad one returns its errno as the value, and aio_return of it is
// EINVAL and changes nothing (§B per-entry outcome).
func TestLioListioOneBadEntry(t *testing.T) {
	for bad := range 3 {
		e := newEnv(t, Config{})
		list := make([]*aiocb, 3)
		for i := range list {
			fd := e.fd
			if i == bad {
				fd = -1
			}
			list[i] = e.cb(fd, int64(i)*8, e.buf(8), EV_ONESHOT)
			list[i].opcode = LIO_READ
		}
		if err := e.listio(LIO_NOWAIT, list, nil); err != unix.EIO {
			t.Fatalf("bad entry %d: lio_listio = %v, want EIO", bad, err)
		}
		if v, _ := e.k.AioError(unsafe.Pointer(list[bad])); v != int(unix.EBADF) {
			t.Fatalf("bad entry %d: aio_error = %d, want EBADF", bad, v)
		}
		evs := e.harvest(2)
		for _, ev := range evs {
			if ev.ident == identOf(list[bad]) {
				t.Fatalf("bad entry %d posted an event", bad)
			}
		}
		for i, cb := range list {
			if i == bad {
				if n, err := e.k.AioReturn(unsafe.Pointer(cb)); n != -1 || err != unix.EINVAL {
					t.Fatalf("bad entry %d: aio_return = %d, %v; want -1, EINVAL", bad, n, err)
				}
				if v, _ := e.k.AioError(unsafe.Pointer(cb)); v != int(unix.EBADF) || cb.status != -1 {
					t.Fatalf("bad entry %d after aio_return: aio_error %d, status %d; want EBADF, -1", bad, v, cb.status)
				}
				continue
			}
			if v, _ := e.k.AioError(unsafe.Pointer(cb)); v != 0 {
				t.Fatalf("bad entry %d: entry %d aio_error = %d, want 0", bad, i, v)
			}
			if n := e.ret(cb); n != 8 {
				t.Fatalf("bad entry %d: entry %d read %d bytes", bad, i, n)
			}
		}
		if evs, _ := e.kevent(nil, 4, poll); len(evs) != 0 {
			t.Fatalf("bad entry %d: %d more events", bad, len(evs))
		}
		e.noViolations()
	}
}

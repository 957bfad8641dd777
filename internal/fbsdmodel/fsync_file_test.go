//go:build linux

package fbsdmodel

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stateOf is the state of the oldest job the kernel knows under cb.
func (e *env) stateOf(cb *aiocb) jobState {
	e.t.Helper()
	e.k.mu.Lock()
	defer e.k.mu.Unlock()
	j := e.k.firstLocked(identOf(cb), anyJob)
	if j == nil {
		e.t.Fatalf("aiocb %#x is not known to the kernel", identOf(cb))
	}
	return j.state
}

// An fsync waits for the earlier jobs on the same open file, whatever
// descriptor number each was submitted through: a dup'ed descriptor is the
// same file, and a number that names another file since is not
// (aio_queue_file compares job->fd_file, §E).
func TestFsyncOrderIsByOpenFile(t *testing.T) {
	e := newEnv(t, Config{Workers: 2})
	e.k.Stall()
	run := e.write(0, 10, EV_ONESHOT)
	e.waitRunning(1)

	dup, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	viaDup := e.cb(dup, 0, nil, EV_ONESHOT)
	e.submit(func(p unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, p) }, viaDup)
	if !kcmpWorks() {
		t.Log("kcmp(KCMP_FILE) is not served here: the model cannot tell a dup'ed descriptor's file, so that half is not checked")
	} else if s := e.stateOf(viaDup); s != parked {
		t.Errorf("fsync through a dup of the written descriptor: state %d, want parked (%d) behind the running write", s, parked)
	}

	// The written descriptor's number now names a second open of another
	// file; the running write still holds the first.
	other, err := os.CreateTemp(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	first, err := unix.FcntlInt(uintptr(e.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(first)
	if err := unix.Dup3(int(other.Fd()), e.fd, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Dup3(first, e.fd, unix.O_CLOEXEC)
	sameNumber := e.cb(e.fd, 0, nil, EV_ONESHOT)
	e.submit(func(p unsafe.Pointer) error { return e.k.AioFsync(O_SYNC, p) }, sameNumber)
	if s := e.stateOf(sameNumber); s == parked {
		t.Errorf("fsync of another file under the written descriptor's number is parked behind the write")
	}

	e.k.Unstall()
	e.harvest(3)
	e.ret(run)
	for _, cb := range []*aiocb{viaDup, sameNumber} {
		if n := e.ret(cb); n != 0 {
			t.Fatalf("aio_return of fsync = %d", n)
		}
	}
	e.noViolations()
}

//go:build linux

package fbsdmodel

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A process's exit (or exec) runs its AIO state down (aio_proc_rundown):
// the jobs still queued are canceled, the running ones are waited for (they
// complete, they are not canceled), and every finished job is freed, with
// no notification for any of them (aio_bio_done_notify skips the knotes
// under KAIO_RUNDOWN, and aio_free_entry drops events not yet collected).
// Their slots of the queue limits, the system-wide one included, come back.
func TestExitRunsAIODown(t *testing.T) {
	sys := NewSystem(0)
	e := newEnv(t, Config{System: sys})
	other := newEnv(t, Config{System: sys})
	o := other.write(0, 4, EV_ONESHOT) // another process's job stays

	done := e.write(0, 4, EV_ONESHOT)
	e.finish(done) // finished, its event not collected, never returned
	e.k.Stall()
	running := e.cb(e.fd, 100, []byte("ran!"), EV_ONESHOT)
	e.submit(e.k.AioWrite, running)
	for end := time.Now().Add(5 * time.Second); e.k.Running() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("no worker took the job")
		}
	}
	e.k.Hold()
	queued := e.write(200, 4, EV_ONESHOT)
	sync := e.cb(e.fd, 0, nil, EV_ONESHOT) // parked behind the running and the queued job
	if err := e.k.AioFsync(O_SYNC, unsafe.Pointer(sync)); err != nil {
		t.Fatal(err)
	}
	if q := sys.Queued(); q != 5 {
		t.Fatalf("num_queue_count = %d before the exit, want 5", q)
	}

	exited := make(chan struct{})
	go func() { e.k.Exit(); close(exited) }()
	e.k.Unstall()
	<-exited

	if q := sys.Queued(); q != 1 {
		t.Fatalf("num_queue_count = %d after the exit, want 1 (the other process's job)", q)
	}
	if n := e.k.Outstanding(); n != 0 {
		t.Fatalf("%d jobs known after the exit", n)
	}
	got := make([]byte, 8)
	if _, err := unix.Pread(e.fd, got, 96); err != nil || !bytes.Equal(got[4:], []byte("ran!")) {
		t.Fatalf("the running job's write: %q, %v; want it done, not canceled", got, err)
	}
	if _, err := unix.Pread(e.fd, got[:4], 200); err != nil || bytes.Equal(got[:4], []byte("wwww")) {
		t.Fatalf("the queued job wrote %q, want it canceled before it ran", got[:4])
	}
	if evs, err := e.kevent(nil, 4, poll); err != nil || len(evs) != 0 {
		t.Fatalf("events after the exit: %+v, %v; want none", evs, err)
	}
	for _, cb := range []*aiocb{done, running, queued, sync} {
		if _, err := e.k.AioReturn(unsafe.Pointer(cb)); err != unix.EINVAL {
			t.Fatalf("aio_return after the exit = %v, want EINVAL (no such job)", err)
		}
	}
	e.k.Release()
	other.harvest(1)
	other.ret(o)
}

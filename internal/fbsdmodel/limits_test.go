//go:build linux

package fbsdmodel

import (
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vfs.aio.max_aio_queue counts the jobs of every process of a System: a
// process with nothing queued gets EAGAIN while others hold the slots, and
// is served once they are freed (§D).
func TestSystemQueueLimit(t *testing.T) {
	sys := NewSystem(6)
	a := newEnv(t, Config{System: sys})
	b := newEnv(t, Config{System: sys})
	a.k.Hold()
	var held []*aiocb
	for i := range 4 {
		held = append(held, a.write(int64(i)*10, 10, EV_ONESHOT))
	}
	release := sys.Occupy(2)
	if q, _ := b.k.SysctlUint32("vfs.aio.num_queue_count"); q != 6 || sys.Free() != 0 {
		t.Fatalf("num_queue_count = %d, free %d; want 6, 0", q, sys.Free())
	}
	over := b.cb(b.fd, 0, b.buf(8), EV_ONESHOT)
	if err := b.k.AioRead(unsafe.Pointer(over)); err != unix.EAGAIN || over.err != int64(unix.EAGAIN) || b.k.Outstanding() != 0 {
		t.Fatalf("at the system limit: %v, error %d, outstanding %d; want EAGAIN", err, over.err, b.k.Outstanding())
	}
	release()
	release() // a second call frees nothing more
	if sys.Free() != 2 {
		t.Fatalf("free after release = %d, want 2", sys.Free())
	}
	b.submit(b.k.AioRead, over)
	b.harvest(1)
	b.ret(over)
	a.k.Release()
	a.harvest(len(held))
	for _, cb := range held {
		a.ret(cb)
	}
	if sys.Queued() != 0 {
		t.Fatalf("num_queue_count = %d after every aio_return", sys.Queued())
	}
	a.noViolations()
	b.noViolations()
}

// vfs.aio.max_aio_per_proc bounds how many jobs of the process run at once;
// the others wait queued, and none is refused (aio_selectjob, §D).
func TestMaxAIOPerProcBoundsRunning(t *testing.T) {
	e := newEnv(t, Config{Workers: 8, MaxAIOPerProc: 2})
	if v, _ := e.k.SysctlUint32("vfs.aio.max_aio_per_proc"); v != 2 {
		t.Fatalf("vfs.aio.max_aio_per_proc = %d", v)
	}
	e.k.Stall()
	var cbs []*aiocb
	for i := range 8 {
		cbs = append(cbs, e.write(int64(i)*10, 10, EV_ONESHOT)) // each one accepted
	}
	for deadline := time.Now().Add(5 * time.Second); e.k.Running() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			e.k.Unstall()
			t.Fatalf("%d jobs running, want 2", e.k.Running())
		}
	}
	// The jobs no worker may take stay queued, so cancelable (§C).
	canceled := 0
	for _, cb := range cbs {
		if v, err := e.k.AioCancel(e.fd, unsafe.Pointer(cb)); err == nil && v == AIO_CANCELED {
			canceled++
		}
	}
	e.k.Unstall()
	if canceled != 6 {
		t.Fatalf("%d jobs canceled, want the 6 beyond max_aio_per_proc", canceled)
	}
	e.harvest(8)
	for _, cb := range cbs {
		e.k.AioReturn(unsafe.Pointer(cb))
	}
	if m := e.k.Stats().MaxRunning; m > 2 {
		t.Fatalf("%d jobs ran at once, max_aio_per_proc is 2", m)
	}
	e.noViolations()
}

// Lowering vfs.aio.max_aio_queue_per_proc at run time lowers lio_listio's
// limit at once (it is also p1003_1b.aio_listio_max): a longer list is
// refused whole with EINVAL, nothing touched (§B).
func TestQueueLimitLoweredAtRunTime(t *testing.T) {
	e := newEnv(t, Config{})
	if err := e.k.SetSysctl("vfs.aio.max_aio_queue_per_proc", 2); err != nil {
		t.Fatal(err)
	}
	if err := e.k.SetSysctl("p1003_1b.aio_listio_max", 8); err != unix.EPERM {
		t.Fatalf("setting p1003_1b.aio_listio_max = %v, want EPERM (read-only)", err)
	}
	if err := e.k.SetSysctl("vfs.aio.no_such", 8); err != unix.ENOENT {
		t.Fatalf("setting an unknown sysctl = %v, want ENOENT", err)
	}
	if v, _ := e.k.SysctlUint32("p1003_1b.aio_listio_max"); v != 2 {
		t.Fatalf("p1003_1b.aio_listio_max = %d, want 2", v)
	}
	var cbs []*aiocb
	for range 3 {
		cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		cb.opcode = LIO_READ
		cbs = append(cbs, cb)
	}
	if err := e.listio(LIO_NOWAIT, cbs, nil); err != unix.EINVAL || cbs[0].err != 7 {
		t.Fatalf("3 entries over a limit of 2: %v, entry error %d; want EINVAL, untouched", err, cbs[0].err)
	}
	if err := e.listio(LIO_NOWAIT, cbs[:2], nil); err != nil {
		t.Fatalf("2 entries: %v", err)
	}
	e.harvest(2)
	e.ret(cbs[0])
	e.ret(cbs[1])
	e.noViolations()
}

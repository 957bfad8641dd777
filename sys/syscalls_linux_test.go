//go:build linux && (amd64 || arm64)

package sys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func newIoContext(t *testing.T, nr int) uintptr {
	t.Helper()
	ctx, err := IoSetup(nr)
	// fs.aio-max-nr is shared by every process: another may hold it all for a moment.
	for deadline := time.Now().Add(30 * time.Second); err == unix.EAGAIN && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		ctx, err = IoSetup(nr)
	}
	if err == unix.ENOSYS || err == unix.EPERM {
		t.Skipf("IoSetup(%d): %v: this kernel has no AIO or refuses it (CONFIG_AIO=n, qemu-user, seccomp); package aio tests its fallback", nr, err)
	}
	if err != nil {
		t.Fatalf("IoSetup(%d): %v", nr, err)
	}
	t.Cleanup(func() {
		if err := IoDestroy(ctx); err != nil {
			t.Errorf("IoDestroy: %v", err)
		}
	})
	return ctx
}

func tempFile(t *testing.T, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "f"), flag|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// reap collects exactly want events, failing on a timeout.
func reap(t *testing.T, ctx uintptr, want int) []IoEvent {
	t.Helper()
	evs := make([]IoEvent, want)
	got := 0
	for got < want {
		ts := unix.Timespec{Sec: 10}
		n, err := IoGetevents(ctx, want-got, evs[got:], &ts)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("IoGetevents: %v", err)
		}
		if n == 0 {
			t.Fatalf("IoGetevents: timed out with %d of %d events", got, want)
		}
		got += n
	}
	return evs
}

func TestIoSubmitWriteReadBack(t *testing.T) {
	ctx := newIoContext(t, 8)
	f := tempFile(t, os.O_RDWR)
	want := []byte("kernel AIO writes this, then reads it back")
	wcb := Iocb{Data: 7, LioOpcode: IOCB_CMD_PWRITE, Fildes: uint32(f.Fd()), Buf: addr(want), Nbytes: uint64(len(want)), Offset: 100}
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&wcb)
	pin.Pin(&want[0])
	if n, err := IoSubmit(ctx, []*Iocb{&wcb}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(write) = %d, %v", n, err)
	}
	ev := reap(t, ctx, 1)[0]
	if ev.Data != 7 || ev.Obj != uint64(uintptr(unsafe.Pointer(&wcb))) || ev.Res != int64(len(want)) {
		t.Fatalf("write event = %+v, want data 7, obj %p, res %d", ev, &wcb, len(want))
	}

	got := make([]byte, len(want))
	head := make([]byte, 10)
	pin.Pin(&got[0])
	pin.Pin(&head[0])
	iov := []unix.Iovec{{Base: &head[0]}, {Base: &got[0]}}
	iov[0].SetLen(len(head))
	iov[1].SetLen(len(got))
	pin.Pin(&iov[0])
	rcb := Iocb{Data: 8, LioOpcode: IOCB_CMD_PREAD, Fildes: uint32(f.Fd()), Buf: addr(got), Nbytes: uint64(len(got)), Offset: 100}
	vcb := Iocb{Data: 9, LioOpcode: IOCB_CMD_PREADV, Fildes: uint32(f.Fd()), Buf: uint64(uintptr(unsafe.Pointer(&iov[0]))), Nbytes: 2, Offset: 90}
	scb := Iocb{Data: 10, LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(f.Fd())}
	pin.Pin(&rcb)
	pin.Pin(&vcb)
	pin.Pin(&scb)
	if n, err := IoSubmit(ctx, []*Iocb{&rcb, &scb}); n != 2 || err != nil {
		t.Fatalf("IoSubmit(read, fdsync) = %d, %v", n, err)
	}
	for _, ev := range reap(t, ctx, 2) {
		switch ev.Data {
		case 8:
			if ev.Res != int64(len(want)) || !bytes.Equal(got, want) {
				t.Fatalf("read: res %d, bytes %q; want %d, %q", ev.Res, got, len(want), want)
			}
		case 10:
			if ev.Res != 0 {
				t.Fatalf("fdsync: res %d", ev.Res)
			}
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	clear(got)
	if n, err := IoSubmit(ctx, []*Iocb{&vcb}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(readv) = %d, %v", n, err)
	}
	if ev := reap(t, ctx, 1)[0]; ev.Res != int64(len(head)+len(got)) || !bytes.Equal(head, make([]byte, len(head))) || !bytes.Equal(got, want) {
		t.Fatalf("readv: res %d, bytes %q %q; want %d, the hole's zeros, %q", ev.Res, head, got, len(head)+len(got), want)
	}
}

// TestIoSubmitRejects shows how io_submit reports an iocb it refuses: as its
// error when it is the first, as a short count otherwise, never as an event.
func TestIoSubmitRejects(t *testing.T) {
	ctx := newIoContext(t, 8)
	f := tempFile(t, os.O_WRONLY)
	buf := make([]byte, 16)
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&buf[0])
	good := Iocb{Data: 1, LioOpcode: IOCB_CMD_PWRITE, Fildes: uint32(f.Fd()), Buf: addr(buf), Nbytes: uint64(len(buf))}
	bad := Iocb{Data: 2, LioOpcode: IOCB_CMD_PREAD, Fildes: uint32(f.Fd()), Buf: addr(buf), Nbytes: uint64(len(buf))}
	pin.Pin(&good)
	pin.Pin(&bad)
	if n, err := IoSubmit(ctx, []*Iocb{&bad, &good}); n != 0 || !errors.Is(err, unix.EBADF) {
		t.Fatalf("IoSubmit(read on write-only, write) = %d, %v; want 0, EBADF", n, err)
	}
	if n, err := IoSubmit(ctx, []*Iocb{&good, &bad}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(write, read on write-only) = %d, %v; want 1, nil", n, err)
	}
	if ev := reap(t, ctx, 1)[0]; ev.Data != 1 || ev.Res != int64(len(buf)) {
		t.Fatalf("event %+v, want the write's", ev)
	}
	var ev [1]IoEvent
	if n, err := IoGetevents(ctx, 0, ev[:], &unix.Timespec{}); n != 0 || err != nil {
		t.Fatalf("IoGetevents after a rejected iocb = %d, %v; want 0, nil", n, err)
	}
}

// TestIoCancelPoll cancels a poll, the kind of job the kernel can cancel,
// and a finished write, which it cannot.
func TestIoCancelPoll(t *testing.T) {
	ctx := newIoContext(t, 8)
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	var pin runtime.Pinner
	defer pin.Unpin()
	poll := Iocb{Data: 3, LioOpcode: IOCB_CMD_POLL, Fildes: uint32(efd), Buf: unix.POLLIN}
	pin.Pin(&poll)
	if n, err := IoSubmit(ctx, []*Iocb{&poll}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(poll) = %d, %v", n, err)
	}
	var res IoEvent
	if err := IoCancel(ctx, &poll, &res); err != unix.EINPROGRESS && err != nil {
		t.Fatalf("IoCancel(poll) = %v, want EINPROGRESS", err)
	}
	if ev := reap(t, ctx, 1)[0]; ev.Data != 3 || (ev.Res != 0 && ev.Res != -int64(unix.ECANCELED)) {
		t.Fatalf("canceled poll event %+v, want res 0 (no event seen) or -ECANCELED", ev)
	}

	f := tempFile(t, os.O_RDWR)
	buf := []byte("x")
	pin.Pin(&buf[0])
	w := Iocb{Data: 4, LioOpcode: IOCB_CMD_PWRITE, Fildes: uint32(f.Fd()), Buf: addr(buf), Nbytes: 1}
	pin.Pin(&w)
	if n, err := IoSubmit(ctx, []*Iocb{&w}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(write) = %d, %v", n, err)
	}
	if err := IoCancel(ctx, &w, &res); err != unix.EINVAL && err != unix.EAGAIN {
		t.Fatalf("IoCancel(write) = %v, want EINVAL or EAGAIN", err)
	}
	if ev := reap(t, ctx, 1)[0]; ev.Data != 4 || ev.Res != 1 {
		t.Fatalf("write event %+v, want res 1", ev)
	}
}

// TestIoPollWakes shows the wakeup the aio backend builds on: a poll on an
// eventfd completes when the eventfd is written, even before it is armed.
func TestIoPollWakes(t *testing.T) {
	ctx := newIoContext(t, 8)
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	if _, err := unix.Write(efd, one); err != nil {
		t.Fatal(err)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	poll := Iocb{Data: 5, LioOpcode: IOCB_CMD_POLL, Fildes: uint32(efd), Buf: unix.POLLIN}
	pin.Pin(&poll)
	if n, err := IoSubmit(ctx, []*Iocb{&poll}); n != 1 || err != nil {
		t.Fatalf("IoSubmit(poll) = %d, %v", n, err)
	}
	if ev := reap(t, ctx, 1)[0]; ev.Data != 5 || ev.Res&unix.POLLIN == 0 {
		t.Fatalf("poll event %+v, want POLLIN", ev)
	}
}

// TestIoSetupRefusesZero: the kernel's errno comes back as is, EINVAL for
// no room, or the refusal of a kernel without AIO.
func TestIoSetupRefusesZero(t *testing.T) {
	want := unix.EINVAL
	if ctx, err := IoSetup(1); err == unix.ENOSYS || err == unix.EPERM {
		want = err.(unix.Errno)
	} else if err == nil {
		_ = IoDestroy(ctx)
	}
	if _, err := IoSetup(0); err != want {
		t.Fatalf("IoSetup(0) = %v, want %v", err, want)
	}
}

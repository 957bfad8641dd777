//go:build linux && fbsdmodel

package fbsdmodel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Only under the fbsdmodel tag does internal/pin record what is pinned, so
// that the model refuses to touch memory the program did not pin; without
// it the host would write whatever lies past the buffer.

// aio_writev_dos_iov_len: an iovec claiming 1 GiB over a 13-byte buffer is
// accepted at submission (only the lengths' sum is checked then) and fails
// when the job runs, with EFAULT; the model also records the memory the
// program did not pin (§F.5).
func TestWritevHugeIovLen(t *testing.T) {
	e := newEnv(t, Config{})
	buf := e.buf(13)
	iov := []iovec{{unsafe.Pointer(&buf[0]), 1 << 30}}
	e.pins.Pin(unsafe.Pointer(&iov[0]), iovecSize)
	cb := e.cb(e.fd, 0, nil, EV_ONESHOT)
	cb.buf, cb.nbytes = unsafe.Pointer(&iov[0]), 1
	e.submit(e.k.AioWritev, cb)
	if cb.err != int64(unix.EINPROGRESS) {
		t.Fatalf("after submission error=%d, want EINPROGRESS", cb.err)
	}
	if ev := e.harvest(1)[0]; ev.data != int64(unix.EFAULT) {
		t.Fatalf("event data %d, want EFAULT", ev.data)
	}
	if n, err := e.k.AioReturn(unsafe.Pointer(cb)); n != -1 || err != unix.EFAULT {
		t.Fatalf("aio_return = %d, %v; want -1, EFAULT", n, err)
	}
	e.wantViolation("unpinned memory: buffer")
	e.k.ResetViolations()
}

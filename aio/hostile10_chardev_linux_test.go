//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// h10Kmsg opens /dev/kmsg in blocking mode (out of Go's poller, as a
// descriptor given to os.NewFile is) at its end, so that a read waits for
// the kernel's next message.
func h10Kmsg(t *testing.T) *os.File {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("writing /dev/kmsg, to end the blocked read, needs root")
	}
	fd, err := unix.Open("/dev/kmsg", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("/dev/kmsg: %v", err)
	}
	f := os.NewFile(uintptr(fd), "/dev/kmsg")
	t.Cleanup(func() { f.Close() })
	if _, err := unix.Seek(fd, 0, 2); err != nil {
		t.Skipf("seek to the end of /dev/kmsg: %v", err)
	}
	return f
}

// h10ReleaseKmsg writes debug messages to the kernel's log, each through a
// descriptor of its own (writes are rate-limited per open /dev/kmsg),
// until the read dev of /dev/kmsg comes back from c (with any others
// still in flight), and checks that it
// read messages (or found one longer than its buffer: EINVAL).
func h10ReleaseKmsg(t *testing.T, c *Context, dev *Request) {
	t.Helper()
	out := make([]*Request, 1)
	for range 200 {
		fd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = unix.Write(fd, []byte("<7>fileaio: TestH10BlockedCharDeviceHoldsNoWorker\n"))
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		n, _ := c.Wait(ctx, 1, out)
		cancel()
		if n == 1 && out[0] == dev {
			if k, err := dev.Result(); k <= 0 && !errors.Is(err, unix.EINVAL) {
				t.Fatalf("/dev/kmsg read = %d, %v; want messages", k, err)
			}
			return
		}
	}
	t.Fatal("the /dev/kmsg read is not back after 200 messages")
}

// TestH10BlockedCharDeviceHoldsNoWorker: with Workers: 1, a read of a
// character device that waits without end (/dev/kmsg at its end, in
// blocking mode: pread waits there for the kernel's next message) is in
// flight beside 8 reads of a regular file. Those complete while it waits,
// as beside a stream read (TestOneWorkerBlockedStream): a worker waiting
// on such a device does not count against the pool. Once messages come,
// the device read completes with them and the context closes.
func TestH10BlockedCharDeviceHoldsNoWorker(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c := h3Context(t, Config{MaxRequests: 16, Workers: 1}, be)
			kmsg := h10Kmsg(t)
			f, want := inlineFile(t, 4096)
			dev := NewRequest()
			devBuf := make([]byte, 1024)
			if err := dev.PrepareRead(kmsg, 0, devBuf, "kmsg"); err != nil {
				t.Fatal(err)
			}
			rs, bufs := []*Request{dev}, [][]byte{devBuf}
			for i := range 8 {
				r, buf := NewRequest(), make([]byte, 4096)
				if err := r.PrepareRead(f, 0, buf, i); err != nil {
					t.Fatal(err)
				}
				rs, bufs = append(rs, r), append(bufs, buf)
			}
			if n, err := c.Submit(rs...); n != len(rs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			out := make([]*Request, len(rs))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := 0
			for got < 8 {
				n, err := c.Wait(ctx, 1, out)
				for _, r := range out[:n] {
					if r == dev {
						t.Fatalf("the read of /dev/kmsg at its end completed before a message came: %s", fmtResult(r))
					}
					i := r.User().(int)
					if k, err := r.Result(); k != 4096 || err != nil || string(bufs[i+1]) != string(want) {
						t.Fatalf("file read %d = %d, %v", i, k, err)
					}
				}
				got += n
				if err != nil {
					// Let the device read go, so that the context can close.
					t.Errorf("%d of the 8 file reads back after 10 s, then %v: they wait behind the /dev/kmsg read for the one worker", got, err)
					h10ReleaseKmsg(t, c, dev)
					return
				}
			}
			// The device read continues short reads (as every read of the
			// goroutine engine does), so it waits until messages fill its
			// buffer: write messages until it is back.
			h10ReleaseKmsg(t, c, dev)
		})
	}
}

//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// kmsgAtEnd opens /dev/kmsg at its end with os.OpenFile, which puts a
// character device that can be polled in Go's poller (non-blocking mode),
// or, if blocking, with os.NewFile, which leaves it in blocking mode.
func kmsgAtEnd(t *testing.T, blocking bool) *os.File {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("writing /dev/kmsg, to end the waiting read, needs root")
	}
	var f *os.File
	if blocking {
		f = h10Kmsg(t)
	} else {
		var err error
		if f, err = os.OpenFile("/dev/kmsg", os.O_RDWR, 0); err != nil {
			t.Skipf("/dev/kmsg: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		if _, err := f.Seek(0, 2); err != nil {
			t.Skipf("seek to the end of /dev/kmsg: %v", err)
		}
	}
	return f
}

// TestCharDeviceReadWaitsForData: a read of a character device with no
// data yet (/dev/kmsg at its end) waits for data, in Go's poller when the
// device is there, as a read of a pipe does, instead of failing with
// EAGAIN; and it is one read, as kernel AIO's would be: the message that
// came, not a buffer filled by reading on.
func TestCharDeviceReadWaitsForData(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		name := "poller"
		if blocking {
			name = "blocking"
		}
		t.Run(name, func(t *testing.T) {
			kmsg := kmsgAtEnd(t, blocking)
			for _, b := range []Backend{DefaultBackend, PortableBackend} {
				c, err := NewContext(Config{Backend: b})
				if err != nil {
					t.Fatal(err)
				}
				r := NewRequest()
				buf := make([]byte, 64<<10)
				if err := r.PrepareRead(kmsg, 0, buf, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Submit(r); err != nil {
					t.Fatal(err)
				}
				out := make([]*Request, 1)
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				n, _ := c.Wait(ctx, 1, out)
				cancel()
				if n == 1 {
					k, err := r.Result()
					t.Fatalf("%v: the read of /dev/kmsg at its end completed before a message came: %d, %v", b, k, err)
				}
				for i := 0; ; i++ {
					fd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					_, err = unix.Write(fd, []byte("<7>fileaio: TestCharDeviceReadWaitsForData\n"))
					unix.Close(fd)
					if err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					n, _ = c.Wait(ctx, 1, out)
					cancel()
					if n == 1 {
						break
					}
					if i == 4 {
						t.Fatalf("%v: the read of /dev/kmsg is not back 2 s after each of 5 messages: it reads on to fill its %d bytes", b, len(buf))
					}
				}
				k, err := r.Result()
				if err != nil || k <= 0 || k >= len(buf) {
					t.Errorf("%v: read of /dev/kmsg = %d, %v; want one message (0 < n < %d), nil", b, k, err, len(buf))
				}
				if errors.Is(err, syscall.EAGAIN) {
					t.Errorf("%v: EAGAIN reached the caller", b)
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

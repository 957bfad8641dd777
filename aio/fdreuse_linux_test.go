package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A descriptor number closed behind the library's back and taken by
// another file must never be reached: no byte of a request, or of a File's
// call, may land in (or come from) the file that reused the number.

// reuseNumber closes f and opens a new file, "victim", holding 8 bytes
// 'v', under f's descriptor number if that number was freed by the close.
// It returns the victim's path; the number is closed at cleanup if it
// was taken here.
func reuseNumber(t *testing.T, f *os.File) string {
	t.Helper()
	num := fdNumber(t, f)
	path := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(path, []byte("vvvvvvvv"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.Close()
	v, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if _, err := unix.FcntlInt(uintptr(num), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		return path // still open: the library holds it
	}
	if err := unix.Dup3(fdNumber(t, v), num, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(num) })
	return path
}

func checkVictim(t *testing.T, path string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "vvvvvvvv" {
		t.Errorf("the file that took the closed descriptor's number holds %d bytes, starting %.12q; want \"vvvvvvvv\"", len(got), got)
	}
}

func TestFileCallsAfterOSFileClosed(t *testing.T) {
	calls := []struct {
		name string
		call func(*File) error
	}{
		{"WritevAt", func(af *File) error {
			_, err := af.WritevAt([][]byte{[]byte("XXXX")}, 0)
			return err
		}},
		{"ReadvAt", func(af *File) error {
			buf := make([]byte, 8)
			n, err := af.ReadvAt([][]byte{buf}, 0)
			if n > 0 {
				t.Errorf("ReadvAt read %q from the file that took the number", buf[:n])
			}
			return err
		}},
		{"DataSync", func(af *File) error { return af.DataSync() }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "own"))
			if err != nil {
				t.Fatal(err)
			}
			af, err := NewFile(f)
			if err != nil {
				t.Fatal(err)
			}
			victim := reuseNumber(t, f) // behind af's back
			if err := c.call(af); !errors.Is(err, os.ErrClosed) {
				t.Errorf("%s on a File whose *os.File was closed = %v, want an error matching os.ErrClosed", c.name, err)
			}
			checkVictim(t, victim)
			af.Close()
		})
	}
}

func TestSubmitHoldsDescriptors(t *testing.T) {
	cases := []struct {
		be     Backend
		direct bool
	}{{DefaultBackend, false}, {DefaultBackend, true}, {PortableBackend, false}, {KernelBackend, false}, {KernelBackend, true}}
	for _, tc := range cases {
		name := tc.be.String() + "/buffered"
		if tc.direct {
			name = tc.be.String() + "/direct"
		}
		t.Run(name, func(t *testing.T) {
			c, err := NewContext(Config{Backend: tc.be, MaxRequests: 4})
			if errors.Is(err, ErrNotSupported) {
				t.Skipf("no kernel AIO here: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			own := filepath.Join(t.TempDir(), "own")
			flags := os.O_RDWR | os.O_CREATE
			if tc.direct {
				flags |= unix.O_DIRECT
			}
			f, err := os.OpenFile(own, flags, 0o600)
			if tc.direct && errors.Is(err, unix.EINVAL) {
				t.Skipf("the filesystem of %s refuses O_DIRECT", own)
			}
			if err != nil {
				t.Fatal(err)
			}
			data := AlignedBuffer(4096)
			for i := range data {
				data[i] = 'X'
			}
			r := NewRequest()
			if err := r.PrepareWrite(f, 0, data, nil); err != nil {
				t.Fatal(err)
			}
			var victim string
			testHookSubmitHeld = func() { victim = reuseNumber(t, f) }
			defer func() { testHookSubmitHeld = nil }()
			n, err := c.Submit(r)
			testHookSubmitHeld = nil
			if n != 1 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := c.Wait(ctx, 1, make([]*Request, 1)); err != nil {
				t.Fatal(err)
			}
			if victim == "" {
				t.Fatal("the submission hook did not run")
			}
			checkVictim(t, victim)
			// The request wrote its own file, or failed as one on a closed
			// file, or (KernelBackend) as one the kernel refuses (the
			// FreeBSD model's non-local mount): nothing else.
			got, err := r.Result()
			switch {
			case err == nil:
				if b, _ := os.ReadFile(own); got != len(data) || string(b) != string(data) {
					t.Errorf("Result = %d, nil but %s holds %d bytes, not the %d written", got, own, len(b), len(data))
				}
			case errors.Is(err, unix.EBADF):
			case tc.be == KernelBackend && errors.Is(err, unix.EOPNOTSUPP):
			default:
				t.Errorf("Result = %d, %v; want %d bytes written, or EBADF", got, err, len(data))
			}
		})
	}
}

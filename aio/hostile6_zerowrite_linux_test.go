//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A write the kernel answers with 0 bytes and no error, as a device does
// at its end (/dev/vcs1 at the screen's size) and as a FUSE server may:
// the request completes with what pwrite said, never loops on it.

// h6ZeroWriteCheck writes 16 bytes at off of f (opened read-write, where
// pwrite answers 0) through a Context of each goroutine-serving backend
// and through File, and checks that each completes: the request with 0
// bytes and no error (what pwrite reported), File's calls with 0 bytes
// and io.ErrShortWrite in an *os.PathError. pwriteOnly says only pwrite
// answers 0, not the kernel's AIO, which the File of a KernelBackend
// engine uses for a regular file.
func h6ZeroWriteCheck(t *testing.T, path string, off int64, pwriteOnly bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	stuck := false // a worker holds f for ever: its Close would wait for it (a device is in Go's poller)
	defer func() {
		if !stuck {
			f.Close()
		}
	}()
	p := make([]byte, 16)
	for _, be := range []Backend{PortableBackend, DefaultBackend} {
		c := h3Context(t, Config{MaxRequests: 4}, be)
		r := NewRequest()
		for _, vectored := range []bool{false, true} {
			if vectored {
				err = r.PrepareWritev(f, off, [][]byte{p[:8], nil, p[8:]}, nil)
			} else {
				err = r.PrepareWrite(f, off, p, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), h5Hang)
			k, err := c.Wait(ctx, 1, make([]*Request, 1))
			cancel()
			if k != 1 {
				stuck = true
				t.Fatalf("%v: a write pwrite answers with 0 bytes never came back (Wait = %d, %v)", be, k, err)
			}
			if n, err := r.Result(); n != 0 || err != nil {
				t.Fatalf("%v: write (vectored %v) pwrite answers with 0 bytes = %d, %v; want 0, nil as pwrite said", be, vectored, n, err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatalf("%v: Close: %v", be, err)
		}
	}
	h6ForEachOpener(t, func(t *testing.T, o h6Opener) {
		if pwriteOnly && o.name == "kernel" {
			t.Skip("kernel AIO writes this File, not pwrite")
		}
		af := o.open(t, path, os.O_RDWR)
		for what, call := range map[string]func() (int, error){
			"WriteAt":  func() (int, error) { return af.WriteAt(p, off) },
			"WritevAt": func() (int, error) { return af.WritevAt([][]byte{p[:8], p[8:]}, off) },
		} {
			n, err := call()
			var pe *os.PathError
			if n != 0 || !errors.Is(err, io.ErrShortWrite) || !errors.As(err, &pe) {
				t.Errorf("%s where pwrite answers 0 = %d, %v; want 0 and an *os.PathError matching io.ErrShortWrite", what, n, err)
			}
		}
	})
}

// TestH6VcsWriteAtEnd: a virtual console's memory (/dev/vcs1) takes a
// write at its end with 0 bytes and no error.
func TestH6VcsWriteAtEnd(t *testing.T) {
	const vcs = "/dev/vcs1"
	f, err := os.Open(vcs)
	if err != nil {
		t.Skipf("%s: %v (a write at a device's end needs a virtual console and root)", vcs, err)
	}
	size, err := f.ReadAt(make([]byte, 1<<20), 0)
	f.Close()
	if size == 0 || err != nil && err != io.EOF {
		t.Skipf("reading %s: %d bytes, %v", vcs, size, err)
	}
	if n, err := unix.Pwrite(h6OpenFd(t, vcs), make([]byte, 16), int64(size)); n != 0 || err != nil {
		t.Skipf("pwrite at the end of %s = %d, %v; not the 0 bytes this test needs", vcs, n, err)
	}
	h6ZeroWriteCheck(t, vcs, int64(size), false)
}

// h6OpenFd opens path read-write as a descriptor closed at the test's end.
func h6OpenFd(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("open %s: %v", path, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// h6ZeroWriteEnv marks the child process of TestH6ZeroByteWrites.
const h6ZeroWriteEnv = "FILEAIO_TEST_H6_PWRITE0"

// h6ZeroWriteFilter is a seccomp program that makes pwrite64, pwritev and
// pwritev2 of this architecture return 0 without writing, and allows
// every other system call.
func h6ZeroWriteFilter() []unix.SockFilter {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: jt, Jf: jf, K: k}
	}
	return []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArch),
		jeq(auditArch, 0, 5), // another architecture: allow
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataNr),
		jeq(unix.SYS_PWRITE64, 2, 0),
		jeq(unix.SYS_PWRITEV, 1, 0),
		jeq(unix.SYS_PWRITEV2, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO), // errno 0: the call returns 0
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	}
}

// TestH6ZeroByteWrites: where every pwrite returns 0 (a seccomp filter in
// a child process plays the filesystem), writes of a regular file complete
// as h6ZeroWriteCheck says.
func TestH6ZeroByteWrites(t *testing.T) {
	if os.Getenv(h6ZeroWriteEnv) == "" {
		if os.Getenv(noAIOEnv) != "" {
			t.Skip("not again in TestNoKernelAIO's child")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestH6ZeroByteWrites$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), h6ZeroWriteEnv+"=1")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case errors.Is(err, syscall.ENOEXEC):
			t.Skipf("cannot run the test binary again: %v", err)
		case errors.As(err, &exit) && exit.ExitCode() == noAIOUnsupportedExit:
			t.Skipf("the child cannot install a seccomp filter: %s", strings.TrimSpace(string(out)))
		case err != nil || !strings.Contains(string(out), "--- PASS: TestH6ZeroByteWrites"):
			t.Fatalf("child where pwrite returns 0: %v\n%s", err, out)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := installSeccomp(h6ZeroWriteFilter()); err != nil {
		t.Log(err)
		os.Exit(noAIOUnsupportedExit)
	}
	if n, err := unix.Pwrite(h6OpenFd(t, path), make([]byte, 16), 0); n != 0 || err != nil {
		// An emulator (qemu-user) may take the filter for its own calls,
		// of another architecture.
		t.Logf("pwrite under the filter = %d, %v: the filter does not act here", n, err)
		os.Exit(noAIOUnsupportedExit)
	}
	h6ZeroWriteCheck(t, path, 0, true)
}

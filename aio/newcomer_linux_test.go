//go:build linux && !fbsdmodel

package aio_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// directOrSkip makes a file of size zero bytes and opens it with O_DIRECT, or
// skips where the temporary directory's file system refuses O_DIRECT.
func directOrSkip(t *testing.T, o fileOpener, size int) (*aio.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blocks")
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	probe, err := os.OpenFile(path, os.O_RDWR|aio.O_DIRECT, 0)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s refuses O_DIRECT", filepath.Dir(path))
	}
	if err != nil {
		t.Fatal(err)
	}
	probe.Close()
	return o.open(t, path, os.O_RDWR|aio.O_DIRECT), path
}

// TestNewcomerStorageServerDirect is the storage server of
// TestNewcomerStorageServer on O_DIRECT Files with AlignedBuffer, the
// README's first example grown to many goroutines.
func TestNewcomerStorageServerDirect(t *testing.T) {
	for _, o := range fileOpeners() {
		t.Run(o.name, func(t *testing.T) {
			f, _ := directOrSkip(t, o, 0)
			storageServer(t, f, 4096, 64, aio.AlignedBuffer)
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestNewcomerDirectMisaligned: with O_DIRECT, a misaligned offset or
// length fails with an *os.PathError matching EINVAL, as documented.
func TestNewcomerDirectMisaligned(t *testing.T) {
	for _, o := range fileOpeners() {
		t.Run(o.name, func(t *testing.T) {
			f, _ := directOrSkip(t, o, 1<<16)
			defer f.Close()
			buf := aio.AlignedBuffer(8192)
			for name, call := range map[string]func() (int, error){
				"ReadAt at offset 1":   func() (int, error) { return f.ReadAt(buf[:4096], 1) },
				"ReadAt of 100 bytes":  func() (int, error) { return f.ReadAt(buf[:100], 0) },
				"WriteAt at offset 1":  func() (int, error) { return f.WriteAt(buf[:4096], 1) },
				"WriteAt of 100 bytes": func() (int, error) { return f.WriteAt(buf[:100], 0) },
			} {
				n, err := call()
				var pe *os.PathError
				if n != 0 || !errors.Is(err, syscall.EINVAL) || !errors.As(err, &pe) {
					t.Errorf("%s: %d, %v; want 0 and an *os.PathError matching EINVAL", name, n, err)
				}
			}
		})
	}
}

// TestNewcomerFileKernel: File.Kernel names what serves the file, as its
// documentation and the README say: the caller's goroutine for a buffered
// file on the shared engine, kernel AIO for O_DIRECT on the shared engine
// (where the kernel offers it), goroutines for an Engine's buffered file;
// and Stats agree.
func TestNewcomerFileKernel(t *testing.T) {
	shared := fileOpeners()[0]
	path := filepath.Join(t.TempDir(), "buffered")
	buffered := shared.open(t, path, os.O_RDWR|os.O_CREATE)
	defer buffered.Close()
	if k := buffered.Kernel(); k != "direct" {
		t.Errorf("shared engine, buffered file: Kernel %q, want direct", k)
	}
	direct, _ := directOrSkip(t, shared, 4096)
	defer direct.Close()
	want := "linux-aio"
	if !linuxAIOBuilt {
		want = "direct" // built without kernel AIO: served in the caller's goroutine
	} else if c, err := aio.NewContext(aio.Config{}); err == nil {
		if c.Kernel() != "linux-aio" {
			want = "goroutines" // no kernel AIO here: the shared engine is portable
		}
		c.Close()
	}
	if k := direct.Kernel(); k != want {
		t.Errorf("shared engine, O_DIRECT file: Kernel %q, want %q", k, want)
	}

	e, err := aio.NewEngine(aio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f, err := e.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 4096), 0); err != nil {
		t.Fatal(err)
	}
	if k := f.Kernel(); k != "goroutines" {
		t.Errorf("Engine, buffered file: Kernel %q, want goroutines", k)
	}
	if st := e.Stats(); st.Goroutines != 1 || st.Kernel != 0 {
		t.Errorf("Engine, one buffered write: Stats %+v, want one request served by goroutines", st)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// linuxAIOBuilt says whether this build has the Linux kernel AIO backend
// (amd64 and arm64); elsewhere, as on 386 and arm, DefaultBackend is the
// goroutine engine and an O_DIRECT File is served directly.
const linuxAIOBuilt = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"

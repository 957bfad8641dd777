//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestH7FileDirectWriteClosed: File.WriteAt on the direct path (a
// buffered file: pwrite in the caller's goroutine) after the *os.File it
// took over was closed behind its back, and its descriptor number taken
// by another open, fails with an error matching os.ErrClosed and writes
// nothing anywhere; after File.Close it fails the same way, zero-length
// writes too; a negative offset matches os.ErrInvalid and EINVAL.
func TestH7FileDirectWriteClosed(t *testing.T) {
	dir := h5Dir(t)
	osf, err := os.OpenFile(filepath.Join(dir, "taken"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(osf)
	if err != nil {
		t.Fatal(err)
	}
	if k := f.Kernel(); k != "direct" {
		t.Skipf("a buffered File here is served by %q", k)
	}
	if _, err := f.WriteAt([]byte("x"), -1); !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("WriteAt at -1 = %v; want os.ErrInvalid and EINVAL", err)
	}
	fd := osf.Fd()
	osf.Close()
	other, err := os.OpenFile(filepath.Join(dir, "other"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.Fd() != fd {
		t.Logf("the other file has descriptor %d, not the closed one's %d", other.Fd(), fd)
	}
	for _, p := range [][]byte{[]byte("must not land"), make([]byte, 1<<20)} {
		if n, err := f.WriteAt(p, 0); n != 0 || !errors.Is(err, os.ErrClosed) {
			t.Fatalf("WriteAt of %d bytes with the *os.File closed = %d, %v; want 0, os.ErrClosed", len(p), n, err)
		}
		if n, err := f.WritevAt([][]byte{p}, 0); n != 0 || !errors.Is(err, os.ErrClosed) {
			t.Fatalf("WritevAt of %d bytes with the *os.File closed = %d, %v; want 0, os.ErrClosed", len(p), n, err)
		}
	}
	if got, err := os.ReadFile(other.Name()); err != nil || len(got) != 0 {
		t.Fatalf("the file that took the descriptor holds %d bytes (%v)", len(got), err)
	}
	_ = f.Close()
	for _, p := range [][]byte{nil, []byte("x")} {
		var pe *os.PathError
		if n, err := f.WriteAt(p, 0); n != 0 || !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) {
			t.Fatalf("WriteAt of %d bytes after Close = %d, %v; want 0 and an *os.PathError matching os.ErrClosed", len(p), n, err)
		}
	}
}

// TestH7FileDirectCloseRacesWrites: goroutines write a buffered File on
// the direct path until their writes fail, while Close runs: every write
// that returned is whole or refused with os.ErrClosed, and once Close has
// returned nothing more lands in the file.
func TestH7FileDirectCloseRacesWrites(t *testing.T) {
	path := filepath.Join(h5Dir(t), "race")
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if k := f.Kernel(); k != "direct" {
		f.Close()
		t.Skipf("a buffered File here is served by %q", k)
	}
	const writers, size = 4, 64 << 10
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := bytes.Repeat([]byte{byte(i + 1)}, size)
			for k := int64(0); ; k++ {
				n, err := f.WriteAt(p, (k%16)*writers*size+int64(i*size))
				if k == 0 {
					started <- struct{}{}
				}
				switch {
				case err == nil && n == size:
					continue
				case n == 0 && errors.Is(err, os.ErrClosed):
				default:
					errs <- err
				}
				return
			}
		}()
	}
	for range writers {
		<-started
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	atClose, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("WriteAt racing Close: %v", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, atClose) {
		t.Fatalf("the file changed after Close returned (%d bytes then, %d now, %v)", len(atClose), len(after), err)
	}
}

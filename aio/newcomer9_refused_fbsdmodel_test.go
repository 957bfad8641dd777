//go:build linux && fbsdmodel && (amd64 || arm64)

package aio

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFileLearnsRefusal: a File opened before FreeBSD refused its file (a
// non-local mount) learns the refusal from the first call the engine
// rerouted: a File of the shared engine then runs its calls directly, as
// one opened after the refusal does, and says "direct"; a File of its own
// Engine stays with the engine's goroutines and says "goroutines". Before,
// both kept saying "freebsd-aio", and every call asked the kernel first.
func TestFileLearnsRefusal(t *testing.T) {
	k := kqModel(t)
	if modelRefusesFiles() {
		t.Skip("every file is non-local in this run: Files open as direct")
	}
	eng, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, c := range []struct {
		name string
		open func(string) (*File, error)
		want string
	}{
		{"shared engine", func(p string) (*File, error) { return OpenFile(p, os.O_RDWR, 0) }, "direct"},
		{"own engine", func(p string) (*File, error) { return eng.OpenFile(p, os.O_RDWR, 0) }, "goroutines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data")
			if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := c.open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Kernel(); got != "freebsd-aio" {
				t.Fatalf("Kernel() before any call = %q; want freebsd-aio", got)
			}
			fd := fdNumber(t, f.f)
			if err := k.SetNonLocal(fd, true); err != nil {
				t.Fatal(err)
			}
			defer k.SetNonLocal(fd, false)
			defer refusedFiles.remove(refusedKey(f.class))
			if n, err := f.WriteAt([]byte("refused"), 0); n != 7 || err != nil {
				t.Fatalf("WriteAt on the refused file = %d, %v", n, err)
			}
			if got := f.Kernel(); got != c.want {
				t.Errorf("Kernel() after the refusal = %q; want %q", got, c.want)
			}
			if !f.engineClass().refused && f.async.Load() {
				t.Error("the File's next call would ask the kernel again")
			}
			buf := make([]byte, 7)
			if n, err := f.ReadAt(buf, 0); n != 7 || err != nil || string(buf) != "refused" {
				t.Fatalf("ReadAt after the refusal = %d, %v, %q", n, err, buf)
			}
		})
	}
}

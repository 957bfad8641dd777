package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// ReadvAt and WritevAt take any number of buffers, empty ones included:
// more than IOV_MAX (1024) empty buffers in front of the data must not end
// the call early with io.EOF or io.ErrShortWrite.
func TestFileVectoredLeadingEmptyBuffers(t *testing.T) {
	engines := map[string]func(t *testing.T, name string) *aio.File{
		"shared": func(t *testing.T, name string) *aio.File {
			f, err := aio.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			return f
		},
		"portable-engine": func(t *testing.T, name string) *aio.File {
			e, err := aio.NewEngine(aio.Config{Backend: aio.PortableBackend})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			f, err := e.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			return f
		},
	}
	for label, open := range engines {
		t.Run(label, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "f")
			data := []byte("0123456789")
			if err := os.WriteFile(name, data, 0o600); err != nil {
				t.Fatal(err)
			}
			f := open(t, name)
			defer f.Close()

			bufs := make([][]byte, 1025)
			bufs[1024] = make([]byte, len(data))
			if n, err := f.ReadvAt(bufs, 0); n != len(data) || err != nil || !bytes.Equal(bufs[1024], data) {
				t.Errorf("ReadvAt(1024 empty + %d bytes) = %d, %v, %q; want %d, nil", len(data), n, err, bufs[1024], len(data))
			}
			bufs[1024] = []byte("abcdefghij")
			if n, err := f.WritevAt(bufs, 0); n != len(data) || err != nil {
				t.Errorf("WritevAt(1024 empty + %d bytes) = %d, %v; want %d, nil", len(data), n, err, len(data))
			}
		})
	}
}

package tests

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// The Engine gathers the calls of all its Files into shared submissions.
// A call on a File whose *os.File was closed behind its back (a misuse)
// fails; calls on another, healthy File of the same engine must not fail
// with it.
func TestFileClosedBehindBackSparesOthers(t *testing.T) {
	for _, b := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(b.String(), func(t *testing.T) {
			e, err := aio.NewEngine(aio.Config{Backend: b, MaxRequests: 64})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			dir := t.TempDir()
			open := func(name string) (*os.File, *aio.File) {
				osf, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := osf.WriteAt(make([]byte, 4096), 0); err != nil {
					t.Fatal(err)
				}
				af, err := e.NewFile(osf)
				if err != nil {
					t.Fatal(err)
				}
				return osf, af
			}
			badOS, bad := open("bad")
			_, good := open("good")
			t.Cleanup(func() { good.Close(); bad.Close() })
			badOS.Close() // behind the File's back

			var wg sync.WaitGroup
			var goodFailures atomic.Int64
			var firstErr atomic.Value
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 512)
					for range 300 {
						if g%2 == 0 {
							_, _ = bad.ReadAt(buf, 0)
							continue
						}
						if _, err := good.ReadAt(buf, 0); err != nil {
							goodFailures.Add(1)
							firstErr.CompareAndSwap(nil, err)
						}
					}
				}()
			}
			wg.Wait()
			if n := goodFailures.Load(); n > 0 {
				t.Errorf("%d ReadAt calls on a healthy File failed, first: %v", n, firstErr.Load())
			}
		})
	}
}

package tests

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// Prepare on a request another goroutine is preparing or submitting is
// refused (ErrInvalidState, ErrInProgress): the request's state word
// decides. The refused call must not read what the winner writes; under
// -race these loops report a data race if it does.
func TestPrepareRacesPrepare(t *testing.T) {
	dir := t.TempDir()
	f1 := openFile(t, filepath.Join(dir, "a"), os.O_RDWR|os.O_CREATE)
	f2 := openFile(t, filepath.Join(dir, "b"), os.O_RDWR|os.O_CREATE)
	r := aio.NewRequest()
	buf := make([]byte, 8)
	var wg sync.WaitGroup
	for _, f := range []*os.File{f1, f2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20000 {
				_ = r.PrepareRead(f, 0, buf, nil)
			}
		}()
	}
	wg.Wait()
}

func TestPrepareRacesSubmit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		dir := t.TempDir()
		files := []*os.File{
			openFile(t, filepath.Join(dir, "a"), os.O_RDWR|os.O_CREATE),
			openFile(t, filepath.Join(dir, "b"), os.O_RDWR|os.O_CREATE),
		}
		r := aio.NewRequest()
		buf := make([]byte, 8)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // a hostile goroutine that keeps trying to take r
			defer wg.Done()
			other := openFile(t, filepath.Join(dir, "c"), os.O_RDWR|os.O_CREATE)
			for {
				select {
				case <-stop:
					return
				default:
					_ = r.PrepareRead(other, 0, buf, nil)
				}
			}
		}()
		out := make([]*aio.Request, 1)
		for i := range 3000 {
			if err := r.PrepareRead(files[i%2], 0, buf, nil); err != nil {
				continue
			}
			if n, _ := c.Submit(r); n == 1 {
				if _, err := c.Wait(context.Background(), 1, out); err != nil {
					t.Fatalf("Wait: %v", err)
				}
			}
		}
		close(stop)
		wg.Wait()
	})
}

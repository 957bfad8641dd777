package tests

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// A read of an empty pipe waits in the poller for data; requests on a
// regular file submitted in the same call must not wait with it.
func TestPipeReadDoesNotHoldFileReads(t *testing.T) {
	for _, b := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(b.String(), func(t *testing.T) {
			c := newContext(t, b, aio.Config{})
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pr.Close(); pw.Close() })
			f := tempFile(t)
			if _, err := f.WriteAt(make([]byte, 4096), 0); err != nil {
				t.Fatal(err)
			}
			const files = 31
			reqs := []*aio.Request{aio.NewRequest()}
			mustPrepare(t, reqs[0].PrepareRead(pr, 0, make([]byte, 8), nil))
			for i := 0; i < files; i++ {
				r := aio.NewRequest()
				mustPrepare(t, r.PrepareRead(f, int64(i*64), make([]byte, 64), nil))
				reqs = append(reqs, r)
			}
			submitAll(t, c, reqs...)

			// Only the pipe read may be left waiting: the file reads need
			// nothing but the page cache.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out := make([]*aio.Request, files+1)
			got := 0
			for got < files {
				n, err := c.Wait(ctx, files-got, out[got:])
				got += n
				if err != nil {
					break
				}
			}
			pending := 0
			for _, r := range reqs[1:] {
				if r.State() != aio.Completed {
					pending++
				}
			}
			if pending > 0 {
				t.Errorf("%d of %d file reads still in flight while a pipe read waits for data (Wait got %d)", pending, files, got)
			}
			if _, err := pw.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), hangTimeout)
			defer dcancel()
			for c.InFlight() > 0 {
				if _, err := c.Wait(dctx, 1, out); err != nil && !errors.Is(err, aio.ErrNoRequests) {
					t.Fatalf("draining: %v", err)
				}
			}
		})
	}
}

// Two pipe reads submitted together: data on the second pipe completes its
// read while the first pipe stays empty.
func TestPipeReadDoesNotHoldPipeRead(t *testing.T) {
	for _, b := range []aio.Backend{aio.DefaultBackend, aio.PortableBackend} {
		t.Run(b.String(), func(t *testing.T) {
			c := newContext(t, b, aio.Config{Workers: 1})
			var pws [2]*os.File
			var reqs [2]*aio.Request
			for i := range pws {
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pr.Close(); pw.Close() })
				pws[i] = pw
				reqs[i] = aio.NewRequest()
				mustPrepare(t, reqs[i].PrepareRead(pr, 0, make([]byte, 8), nil))
			}
			submitAll(t, c, reqs[:]...)
			if _, err := pws[1].Write([]byte("second")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out := make([]*aio.Request, 2)
			n, err := c.Wait(ctx, 1, out)
			if n != 1 || out[0] != reqs[1] {
				t.Errorf("Wait = %d, %v; want the second pipe's read, whose pipe has data", n, err)
			}
			if _, err := pws[0].Write([]byte("first")); err != nil {
				t.Fatal(err)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), hangTimeout)
			defer dcancel()
			for c.InFlight() > 0 {
				if _, err := c.Wait(dctx, 1, out); err != nil && !errors.Is(err, aio.ErrNoRequests) {
					t.Fatalf("draining: %v", err)
				}
			}
		})
	}
}

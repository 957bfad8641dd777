//go:build unix

package aio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSubmitClosedFileMidBatch: a batch whose third request is on a file
// closed since Prepare, between requests on a file that stays open (one
// of them after it), is refused whole: the error names that request and
// its file, every request stays Prepared, nothing is in flight; the batch
// without it then runs.
func TestSubmitClosedFileMidBatch(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c, err := NewContext(Config{Backend: be, MaxRequests: 8})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			dir := t.TempDir()
			open := func(name, data string) *os.File {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			a, b := open("a", "abcd"), open("b", "wxyz")
			defer a.Close()
			reqs := []*Request{NewRequest(), NewRequest(), NewRequest(), NewRequest()}
			files := []*os.File{a, a, b, a}
			for i, r := range reqs {
				if err := r.PrepareRead(files[i], int64(i), make([]byte, 1), nil); err != nil {
					t.Fatal(err)
				}
			}
			b.Close()
			n, err := c.Submit(reqs...)
			var pe *os.PathError
			if n != 0 || !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) || pe.Path != b.Name() || !strings.Contains(err.Error(), "request 2") {
				t.Fatalf("Submit of a batch whose request 2 is on a closed file = %d, %v; want 0 and an *os.PathError for %s matching os.ErrClosed, naming request 2", n, err, b.Name())
			}
			for i, r := range reqs {
				if s := r.State(); s != Prepared {
					t.Errorf("request %d of the refused batch is %v, want Prepared", i, s)
				}
			}
			if k := c.InFlight(); k != 0 {
				t.Fatalf("InFlight = %d after a refused Submit", k)
			}
			keep := []*Request{reqs[0], reqs[1], reqs[3]}
			if n, err := c.Submit(keep...); n != 3 || err != nil {
				t.Fatalf("Submit of the batch without the closed file's request = %d, %v", n, err)
			}
			for _, r := range holdCollect(t, c, 3) {
				i := slices.Index(reqs, r)
				if n, err := r.Result(); n != 1 || err != nil || r.buf[0] != "abcd"[i] {
					t.Errorf("request %d = %d, %v, %q; want 1 byte %q", i, n, err, r.buf[:n], "abcd"[i])
				}
			}
		})
	}
}

// TestSubmitSharedFileClassLearned: requests new to a pipe, several in a
// row and one after a request on another file, all in one Submit, are all
// served as reads of a stream (the ones after the first of a row share its
// descriptor and class), not as positional reads, which fail with ESPIPE.
func TestSubmitSharedFileClassLearned(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c, err := NewContext(Config{Backend: be, MaxRequests: 8})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			defer pw.Close()
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte("f"), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := pw.Write([]byte("abc")); err != nil {
				t.Fatal(err)
			}
			files := []*os.File{pr, pr, f, pr}
			reqs := make([]*Request, len(files))
			for i := range reqs {
				reqs[i] = NewRequest()
				if err := reqs[i].PrepareRead(files[i], 0, make([]byte, 1), nil); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			var piped []byte
			for _, r := range holdCollect(t, c, len(reqs)) {
				n, err := r.Result()
				if n != 1 || err != nil {
					t.Errorf("read of %s = %d, %v; want 1 byte", r.file.Name(), n, err)
					continue
				}
				if r.file == pr {
					piped = append(piped, r.buf[0])
				}
			}
			slices.Sort(piped)
			if string(piped) != "abc" {
				t.Errorf("the pipe's reads got %q, want the bytes of \"abc\"", piped)
			}
		})
	}
}

// holdCollect waits for n completions of c.
func holdCollect(t *testing.T, c *Context, n int) []*Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]*Request, n)
	got := 0
	for got < n {
		k, err := c.Wait(ctx, n-got, out[got:])
		got += k
		if err != nil {
			t.Fatalf("Wait after %d of %d: %v", got, n, err)
		}
	}
	return out
}

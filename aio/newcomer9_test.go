package aio_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// TestPrepareRefusalSaysWhy: a Prepare refused for its arguments says which
// one was wrong, as File.ReadAt does for a negative offset, and still
// matches syscall.EINVAL and os.ErrInvalid.
func TestPrepareRefusalSaysWhy(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := aio.NewRequest()
	buf := make([]byte, 8)
	bufs := make([][]byte, 1025)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"PrepareRead off -1", r.PrepareRead(f, -1, buf, nil), "negative offset -1"},
		{"PrepareWrite off -4096", r.PrepareWrite(f, -4096, buf, nil), "negative offset -4096"},
		{"PrepareReadv 1025 buffers", r.PrepareReadv(f, 0, bufs, nil), "1025 buffers"},
		{"PrepareWritev off -1", r.PrepareWritev(f, -1, bufs[:1], nil), "negative offset -1"},
		{"PrepareFlush nil file", r.PrepareFlush(nil, nil), "nil file"},
	} {
		if c.err == nil {
			t.Errorf("%s: nil error", c.name)
			continue
		}
		if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %q does not say %q", c.name, c.err, c.want)
		}
		if !errors.Is(c.err, syscall.EINVAL) || !errors.Is(c.err, os.ErrInvalid) {
			t.Errorf("%s: %v matches syscall.EINVAL %v, os.ErrInvalid %v; want both", c.name, c.err, errors.Is(c.err, syscall.EINVAL), errors.Is(c.err, os.ErrInvalid))
		}
		if strings.Count(c.err.Error(), "aio") != 1 {
			t.Errorf("%s: %q names the package other than once", c.name, c.err)
		}
	}
	if s := r.State(); s != aio.Idle {
		t.Errorf("after the refusals the request is %v; want Idle", s)
	}
}

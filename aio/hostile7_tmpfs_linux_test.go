//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
)

// h7Refusals is DefaultBackend's kernel engine, counting the requests
// io_submit refused with EOPNOTSUPP.
type h7Refusals struct {
	*linuxBackend
	n atomic.Int64
}

func (k *h7Refusals) submit(batch []*Request, res []syscall.Errno) {
	k.linuxBackend.submit(batch, res)
	for _, e := range res[:len(batch)] {
		if e == syscall.EOPNOTSUPP {
			k.n.Add(1)
		}
	}
}

// h7CountRefusals makes a DefaultBackend context whose kernel engine
// counts its refusals, or skips t.
func h7CountRefusals(t *testing.T, cfg Config) (*Context, *h7Refusals) {
	t.Helper()
	c, mb := h5Context(t, cfg)
	lb, ok := mb.k.(*linuxBackend)
	if !ok {
		t.Skipf("DefaultBackend's kernel engine is %T", mb.k)
	}
	k := &h7Refusals{linuxBackend: lb}
	mb.k = k // nothing is in flight yet
	return c, k
}

// h7Tmpfs mounts a tmpfs of its own and creates name there, after checking
// that it takes O_DIRECT, or skips t. (Its device number may be one an
// earlier mount had, whose refusals the process remembers.)
func h7Tmpfs(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_DIRECT, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("tmpfs refuses O_DIRECT: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// TestH7TmpfsRefusalLearnedForTheFilesystem: tmpfs refuses kernel AIO
// writes that must not wait (EOPNOTSUPP to RWF_NOWAIT), and the refusal
// says so for its filesystem, whose writes go to goroutines from then on:
// io_submit is not asked again, whether the next write comes in a new
// Request (a pool shared by many files) or from a File.
func TestH7TmpfsRefusalLearnedForTheFilesystem(t *testing.T) {
	const writes = 4
	t.Run("requests", func(t *testing.T) {
		c, k := h7CountRefusals(t, Config{MaxRequests: 4})
		f, err := os.OpenFile(h7Tmpfs(t, "requests"), os.O_RDWR|syscall.O_DIRECT, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		data := AlignedBuffer(h5Block)
		copy(data, "tmpfs")
		for i := range writes {
			r := NewRequest()
			if err := r.PrepareWrite(f, int64(i*h5Block), data, nil); err != nil {
				t.Fatal(err)
			}
			h5Submit(t, c, r)
			h5Gather(t, c, 1)
			if n, err := r.Result(); n != len(data) || err != nil {
				t.Fatalf("write %d = %d, %v", i, n, err)
			}
		}
		h5CheckStats(t, c, 0, writes)
		if n := k.n.Load(); n > 1 {
			t.Fatalf("io_submit refused %d of %d writes in new requests on one tmpfs file with EOPNOTSUPP; want only the first asked, at most", n, writes)
		}
	})
	t.Run("File", func(t *testing.T) {
		c, k := h7CountRefusals(t, Config{MaxRequests: 4, WaitWithoutPending: true})
		e := newEngine(c)
		defer func() {
			if err := e.Close(); err != nil {
				t.Errorf("Engine.Close: %v", err)
			}
		}()
		f, err := e.OpenFile(h7Tmpfs(t, "file"), os.O_RDWR|syscall.O_DIRECT, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		data := AlignedBuffer(h5Block)
		copy(data, "tmpfs File")
		for i := range writes {
			if n, err := f.WriteAt(data, int64(i*h5Block)); n != len(data) || err != nil {
				t.Fatalf("WriteAt %d = %d, %v", i, n, err)
			}
		}
		got := AlignedBuffer(writes * h5Block)
		if n, err := f.ReadAt(got, 0); n != len(got) || err != nil {
			t.Fatalf("ReadAt = %d, %v", n, err)
		}
		for i := range writes {
			if !bytes.Equal(got[i*h5Block:(i+1)*h5Block], data) {
				t.Fatalf("block %d differs from what WriteAt wrote", i)
			}
		}
		if s := e.Stats(); s.Goroutines != writes || s.Kernel != 1 {
			t.Fatalf("Stats() = %+v; want the %d writes served by goroutines, the read by the kernel", s, writes)
		}
		if n := k.n.Load(); n > 1 {
			t.Fatalf("io_submit refused %d of %d File.WriteAt calls on one tmpfs file with EOPNOTSUPP; want only the first asked, at most", n, writes)
		}
	})
}

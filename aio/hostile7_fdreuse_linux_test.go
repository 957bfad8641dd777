//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestH7RefusedWriteFileClosedAndNumberReused: on ext4 DefaultBackend's
// O_DIRECT writes that extend their file are refused by the kernel
// (RWF_NOWAIT, EAGAIN) and handed to the goroutine engine when Wait
// collects the refusal. The caller closes the file between Submit and Wait
// (its bug) and opens another, which takes the same descriptor number: no
// byte may reach the other file, and each request still comes back once,
// failed with EBADF (the goroutine engine found its file closed) or done.
func TestH7RefusedWriteFileClosedAndNumberReused(t *testing.T) {
	dir := nowaitExt4Dir(t)
	c, mb := h5Context(t, Config{MaxRequests: 16})
	const writes = 8
	f := nowaitOpen(t, dir, "closed")
	fd := f.Fd()
	reqs := h5Requests(writes)
	for i, r := range reqs {
		buf := AlignedBuffer(h5Block)
		for j := range buf {
			buf[j] = 0xa5
		}
		if err := r.PrepareWrite(f, int64(i*h5Block), buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	h5Submit(t, c, reqs...)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	other, err := os.OpenFile(filepath.Join(dir, "other"), os.O_RDWR|os.O_CREATE|syscall.O_DIRECT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.Fd() != fd {
		t.Logf("the other file has descriptor %d, not the closed one's %d", other.Fd(), fd)
	}
	done := 0
	for _, r := range h5Gather(t, c, writes) {
		n, err := r.Result()
		switch {
		case errors.Is(err, syscall.EBADF) && n == 0:
		case err == nil && n == h5Block:
			done++
		default:
			t.Errorf("write on a file closed after Submit = %d, %v; want EBADF or the whole block", n, err)
		}
	}
	h5Idle(t, c, mb)
	if s := c.Stats(); s.Kernel+s.Goroutines != writes {
		t.Fatalf("Stats() = %+v after %d requests", s, writes)
	}
	got, err := os.ReadFile(other.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("the file that took the closed one's descriptor holds %d bytes (%q...): a write of the closed file reached it", len(got), got[:min(len(got), 8)])
	}
	t.Logf("%d of %d writes done before the close was seen; Stats %+v", done, writes, c.Stats())
}

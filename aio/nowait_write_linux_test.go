//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// nowaitExt4Dir is a directory on ext4, whose O_DIRECT writes that extend
// a file run inside io_submit (unless RWF_NOWAIT refuses them), or skips t.
func nowaitExt4Dir(t *testing.T) string {
	t.Helper()
	dir := h5Dir(t)
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.EXT4_SUPER_MAGIC {
		t.Skipf("%s is not on ext4 (statfs type %#x, %v): which O_DIRECT writes wait inside io_submit is the filesystem's choice", dir, st.Type, err)
	}
	return dir
}

// nowaitOpen creates name in dir with O_DIRECT, or skips t.
func nowaitOpen(t *testing.T, dir, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_TRUNC|unix.O_DIRECT, 0o600)
	if err != nil {
		t.Skipf("O_DIRECT open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestDirectWritesThatWouldWaitInSubmit: on ext4 an O_DIRECT write that
// extends its file is done inside io_submit, until the device has it (1.5
// ms for 1 MiB here), so DefaultBackend gives O_DIRECT writes to the kernel
// with RWF_NOWAIT: the kernel refuses those at once, and the goroutine
// engine serves them, unseen by the caller. Writes within the file stay
// with the kernel. Each comes back once with its whole count, and the file
// holds what was written.
func TestDirectWritesThatWouldWaitInSubmit(t *testing.T) {
	dir := nowaitExt4Dir(t)
	c, mb := h5Context(t, Config{MaxRequests: 64})
	f := nowaitOpen(t, dir, "appended")
	const blocks, bs = 32, 64 << 10
	want := make([]byte, blocks*bs)
	for i := range want {
		want[i] = h3Byte(int64(i) * 7)
	}
	bufs := make([][]byte, blocks)
	reqs := h5Requests(blocks)
	for i := range reqs {
		bufs[i] = AlignedBuffer(bs)
		copy(bufs[i], want[i*bs:])
		if err := reqs[i].PrepareWrite(f, int64(i*bs), bufs[i], i); err != nil {
			t.Fatal(err)
		}
	}
	h5Submit(t, c, reqs...)
	for _, r := range h5Gather(t, c, blocks) {
		if n, err := r.Result(); n != bs || err != nil {
			t.Fatalf("extending write %v = %d, %v; want %d bytes", r.User(), n, err, bs)
		}
	}
	h5Idle(t, c, mb)
	if s := c.Stats(); s.Goroutines != blocks || s.Kernel != 0 {
		t.Fatalf("after %d O_DIRECT writes that extend the file, Stats() = %+v; want them all served by goroutines, the kernel refusing to wait inside io_submit", blocks, s)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not the %d written", len(got), len(want))
	}
	// That read left the file's pages in the page cache, which an O_DIRECT
	// write would wait to drop: drop them now, so that nothing is in the
	// way of the kernel's writes.
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}

	// The same blocks again, within the file now: the kernel's.
	for i := range reqs {
		for j := range bufs[i] {
			bufs[i][j] ^= 0xff
		}
		copy(want[i*bs:], bufs[i])
		if err := reqs[i].PrepareWrite(f, int64(i*bs), bufs[i], i); err != nil {
			t.Fatal(err)
		}
	}
	h5Submit(t, c, reqs...)
	for _, r := range h5Gather(t, c, blocks) {
		if n, err := r.Result(); n != bs || err != nil {
			t.Fatalf("overwrite %v = %d, %v; want %d bytes", r.User(), n, err, bs)
		}
	}
	h5Idle(t, c, mb)
	h5CheckStats(t, c, blocks, blocks)
	if got, err = os.ReadFile(f.Name()); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the overwrites the file differs from what was written (%v)", err)
	}
}

// TestKernelBackendDirectWritesStayInKernel: KernelBackend keeps every
// request in the kernel, so its O_DIRECT writes that extend a file are not
// asked not to wait (the kernel does them inside io_submit, as documented)
// and none is refused.
func TestKernelBackendDirectWritesStayInKernel(t *testing.T) {
	dir := nowaitExt4Dir(t)
	c := linuxContext(t, Config{MaxRequests: 8, Backend: KernelBackend})
	if c.Kernel() != "linux-aio" {
		t.Skipf("KernelBackend here is %q: no kernel AIO", c.Kernel())
	}
	f := nowaitOpen(t, dir, "kernel")
	reqs := h5Requests(4)
	for i, r := range reqs {
		if err := r.PrepareWrite(f, int64(i)*4096, AlignedBuffer(4096), nil); err != nil {
			t.Fatal(err)
		}
	}
	h5Submit(t, c, reqs...)
	for _, r := range h5Gather(t, c, len(reqs)) {
		if n, err := r.Result(); n != 4096 || err != nil {
			t.Fatalf("KernelBackend extending write = %d, %v", n, err)
		}
	}
	if s := c.Stats(); s.Kernel != 4 || s.Goroutines != 0 {
		t.Fatalf("KernelBackend Stats() = %+v; want 4 kernel requests", s)
	}
}

// TestDirectWritesOnTmpfs: tmpfs cannot promise that a write will not wait
// (io_submit refuses RWF_NOWAIT with EOPNOTSUPP), so DefaultBackend's
// O_DIRECT writes of a tmpfs file go to goroutines, the refused one first
// among them, while its reads stay with the kernel: the refusal marks the
// file's writes, not the file.
func TestDirectWritesOnTmpfs(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skipf("/dev/shm is not tmpfs (%#x, %v)", st.Type, err)
	}
	dir, err := os.MkdirTemp("/dev/shm", "aio-nowait")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, mb := h5Context(t, Config{MaxRequests: 8})
	f := nowaitOpen(t, dir, "tmpfs")
	w, r := NewRequest(), NewRequest()
	data := AlignedBuffer(4096)
	copy(data, "written to tmpfs")
	for round := range 3 {
		if err := w.PrepareWrite(f, 0, data, nil); err != nil {
			t.Fatal(err)
		}
		h5Submit(t, c, w)
		h5Gather(t, c, 1)
		if n, err := w.Result(); n != len(data) || err != nil {
			t.Fatalf("round %d: write = %d, %v", round, n, err)
		}
		got := AlignedBuffer(4096)
		if err := r.PrepareRead(f, 0, got, nil); err != nil {
			t.Fatal(err)
		}
		h5Submit(t, c, r)
		h5Gather(t, c, 1)
		if n, err := r.Result(); n != len(got) || err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round %d: read = %d, %v, %q", round, n, err, got[:16])
		}
		h5Idle(t, c, mb)
		h5CheckStats(t, c, uint64(round+1), uint64(round+1))
	}
	// A request new to the file learns of it afresh: the refusal of the
	// writes was not taken for the file's.
	r2 := NewRequest()
	if err := r2.PrepareRead(f, 0, AlignedBuffer(4096), nil); err != nil {
		t.Fatal(err)
	}
	h5Submit(t, c, r2)
	h5Gather(t, c, 1)
	h5CheckStats(t, c, 4, 3)
}

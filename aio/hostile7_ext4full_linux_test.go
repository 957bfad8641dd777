//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// h7SmallExt4 mounts an ext4 filesystem of 8 MiB, made in an image file
// on a loop device, for the test and returns its directory, or skips t
// (no mkfs.ext4, no loop device, not root). It is unmounted at the end.
func h7SmallExt4(t *testing.T) string {
	t.Helper()
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skipf("no mkfs.ext4: %v", err)
	}
	base := t.TempDir()
	img, dir := filepath.Join(base, "img"), filepath.Join(base, "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", "4096", img, "8M").CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		t.Skipf("mount -o loop: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestH7RefusedWritesFillExt4: O_DIRECT writes that extend a file past
// what an 8 MiB ext4 holds are refused by the kernel (RWF_NOWAIT) and
// served by goroutines, which meet ENOSPC: each comes back once, whole,
// short with no error, or failed with ENOSPC having written nothing; what
// each reports written is in the file; the context closes.
func TestH7RefusedWritesFillExt4(t *testing.T) {
	dir := h7SmallExt4(t)
	c, mb := h5Context(t, Config{MaxRequests: 32})
	f := nowaitOpen(t, dir, "full")
	const writes, size = 24, 512 << 10 // 12 MiB for 8
	reqs, bufs := h3WritePatterns(t, c, f, writes, size)
	back, err := os.Open(f.Name()) // buffered: any length reads back
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	full := 0
	for i, r := range reqs {
		n, err := r.Result()
		switch {
		case err == nil && n == size:
		case err == nil && n < size:
			full++
		case n == 0 && errors.Is(err, syscall.ENOSPC):
			full++
		default:
			t.Fatalf("write %d of %d bytes into a full ext4 = %d, %v", i, size, n, err)
		}
		if n > 0 {
			got := make([]byte, n)
			if k, err := back.ReadAt(got, int64(i*size)); k != n {
				t.Fatalf("reading back write %d: %d, %v", i, k, err)
			}
			if string(got[:n]) != string(bufs[i][:n]) {
				t.Fatalf("write %d reported %d bytes written; the file holds others there", i, n)
			}
		}
	}
	if full == 0 {
		t.Fatalf("%d writes of %d bytes into 8 MiB all succeeded", writes, size)
	}
	h5Idle(t, c, mb)
	if s := c.Stats(); s.Kernel+s.Goroutines != writes {
		t.Fatalf("Stats() = %+v for %d writes", s, writes)
	}
	t.Logf("%d of %d writes met the full filesystem; Stats %+v", full, writes, c.Stats())
}

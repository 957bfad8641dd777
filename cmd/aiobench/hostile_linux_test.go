package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDirectRefusedNamed: a file on a file system that refuses O_DIRECT
// (procfs answers EINVAL to the open) is reported as such with -direct,
// as a usage error keeping the errno.
func TestDirectRefusedNamed(t *testing.T) {
	status, err := runInProcess(context.Background(), "-file", "/proc/self/status", "-direct", "-duration", "10ms")
	if status != 2 || !errors.Is(err, errDirectRefused) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("-direct on procfs: %v, exit status %d; want status 2, errDirectRefused and EINVAL", err, status)
	}
}

// TestDirectRoundDropsCache: a -direct write round on a file the page cache
// holds (here just written) starts by writing the pages back and dropping
// them, so DefaultBackend's O_DIRECT writes all go to the kernel: none
// waits on a cached page, which the kernel would refuse (goroutines then
// serve it).
func TestDirectRoundDropsCache(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.EXT4_SUPER_MAGIC {
		t.Skipf("%s is not on ext4 (%#x, %v): which O_DIRECT writes the kernel refuses is the filesystem's choice", dir, st.Type, err)
	}
	path := filepath.Join(dir, "cached")
	if err := os.WriteFile(path, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-file", path, "-direct", "-rw", "randwrite", "-backend", "default", "-duration", "200ms", "-json"}, &out, io.Discard, false)
	if errors.Is(err, errDirectRefused) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var row struct{ Interface string }
	if err := json.Unmarshal(out.Bytes(), &row); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	switch {
	case row.Interface == "goroutines":
		t.Skip("DefaultBackend here has no kernel engine")
	case strings.Contains(row.Interface, "goroutines"):
		t.Fatalf("O_DIRECT writes of a file the page cache held were served by %q, want the kernel alone", row.Interface)
	}
}

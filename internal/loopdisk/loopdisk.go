//go:build linux

// Package loopdisk gives tests a disk: a loop device over an image file.
package loopdisk

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Attach makes a loop device over an image holding data, opens it
// read-write, and detaches and closes it when t ends. It skips t where
// loop devices cannot be made (not root, no losetup, no /dev/loop-control).
func Attach(t testing.TB, data []byte) *os.File {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("attaching a loop device needs root")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

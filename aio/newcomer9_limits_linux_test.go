//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestSystemLimitsErrorNamesPackageOnce: where fs.aio-max-nr cannot be
// read, SystemLimits fails with an error that matches ErrNotSupported,
// keeps the errno, and names the package once.
func TestSystemLimitsErrorNamesPackageOnce(t *testing.T) {
	defer func(p string) { aioMaxNrPath = p }(aioMaxNrPath)
	aioMaxNrPath = t.TempDir() + "/no-such-file"
	_, err := SystemLimits()
	if !errors.Is(err, ErrNotSupported) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("SystemLimits without fs.aio-max-nr: %v; want ErrNotSupported and ENOENT", err)
	}
	if c := strings.Count(err.Error(), "aio:"); c != 1 {
		t.Errorf("SystemLimits' error %q names the package %d times; want once", err, c)
	}
}

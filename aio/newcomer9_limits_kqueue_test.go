//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

import (
	"errors"
	"strings"
	"testing"
)

// TestSystemLimitsErrorNamesPackageOnce: where the queue sysctl cannot be
// read, SystemLimits fails with an error that matches ErrNotSupported and
// names the package once.
func TestSystemLimitsErrorNamesPackageOnce(t *testing.T) {
	defer func(n string) { maxQueueSysctl = n }(maxQueueSysctl)
	maxQueueSysctl = "vfs.aio.no_such_sysctl"
	_, err := SystemLimits()
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("SystemLimits without its sysctl: %v; want ErrNotSupported", err)
	}
	if c := strings.Count(err.Error(), "aio:"); c != 1 {
		t.Errorf("SystemLimits' error %q names the package %d times; want once", err, c)
	}
}

//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

import (
	"fmt"
	"runtime"
)

// newDefaultBackend is the portable backend where the OS offers no kernel
// AIO this package drives.
func newDefaultBackend(limit int) (backend, int, error) {
	return newFallbackBackend(limit, fmt.Errorf("%s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrNotSupported))
}

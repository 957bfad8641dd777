//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

import "fmt"

// newKernelBackend fails where this package drives no kernel AIO.
func newKernelBackend(int) (backend, int, error) {
	return nil, 0, fmt.Errorf("no kernel AIO on this system: %w", ErrNotSupported)
}

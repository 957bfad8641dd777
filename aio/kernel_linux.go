//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

// newKernelBackend is Linux kernel AIO for every request.
func newKernelBackend(limit int) (backend, int, error) { return newLinuxBackend(limit) }

//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

// newKernelBackend is FreeBSD's POSIX AIO for every request.
func newKernelBackend(limit int) (backend, int, error) { return newKqueueBackend(limit) }

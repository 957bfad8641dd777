//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

// newDefaultBackend is POSIX AIO with kqueue completions.
func newDefaultBackend(limit int) (backend, int, error) { return newKqueueBackend(limit) }

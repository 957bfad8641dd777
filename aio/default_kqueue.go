//go:build (freebsd && (amd64 || arm64)) || (linux && fbsdmodel)

package aio

// newDefaultBackend is POSIX AIO with kqueue completions.
func newDefaultBackend(limit int) (backend, int, error) { return newKqueueBackend(limit) }

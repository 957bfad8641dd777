//go:build freebsd || (linux && fbsdmodel)

package aio

// newDefaultBackend is POSIX AIO with kqueue completions.
func newDefaultBackend(limit int) (backend, int, error) { return newKqueueBackend(limit) }

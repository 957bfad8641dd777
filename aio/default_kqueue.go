//go:build freebsd || (linux && fbsdmodel)

package aio

// newDefaultBackend: the portable backend until the FreeBSD backend lands.
func newDefaultBackend(limit int) (backend, int, error) { return newPortableBackend(limit) }

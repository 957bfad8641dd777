//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

// newDefaultBackend is the portable backend where the OS offers no kernel
// AIO this package drives.
func newDefaultBackend(limit int) (backend, int, error) { return newPortableBackend(limit) }

//go:build linux && !fbsdmodel

package aio

// newDefaultBackend: the portable backend until the Linux kernel AIO backend lands.
func newDefaultBackend(limit int) (backend, int, error) { return newPortableBackend(limit) }

// systemLimits: placeholder until the Linux kernel AIO backend lands.
func systemLimits() (Limits, error) { return Limits{}, ErrNotSupported }

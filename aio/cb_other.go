//go:build !linux && !freebsd

package aio

// controlBlock is empty where only the portable backend exists.
type controlBlock struct{}

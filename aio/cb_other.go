//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

// controlBlock is empty where only the portable backend exists.
type controlBlock struct{}

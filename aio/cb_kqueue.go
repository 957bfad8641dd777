//go:build freebsd || (linux && fbsdmodel)

package aio

// controlBlock: placeholder until the FreeBSD backend lands.
type controlBlock struct{}

//go:build linux && !fbsdmodel

package aio

// controlBlock: placeholder until the Linux kernel AIO backend lands.
type controlBlock struct{}

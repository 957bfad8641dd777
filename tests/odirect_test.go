//go:build linux || freebsd || netbsd || dragonfly

package tests

import "syscall"

// oDirect is the open flag O_DIRECT of this OS.
const (
	oDirect     = syscall.O_DIRECT
	haveODirect = true
)

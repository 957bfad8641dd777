//go:build !linux && !freebsd && !netbsd && !dragonfly

package tests

// This OS has no O_DIRECT open flag: the O_DIRECT tests skip.
const (
	oDirect     = 0
	haveODirect = false
)

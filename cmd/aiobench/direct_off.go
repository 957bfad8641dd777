//go:build !linux && !freebsd && !netbsd && !dragonfly

package main

// This OS has no O_DIRECT open flag: -direct is refused.
const (
	oDirect    = 0
	haveDirect = false
)

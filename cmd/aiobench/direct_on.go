//go:build linux || freebsd || netbsd || dragonfly

package main

import "golang.org/x/sys/unix"

// oDirect is the open flag of -direct.
const oDirect = unix.O_DIRECT

const haveDirect = true

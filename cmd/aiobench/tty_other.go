//go:build !linux && !freebsd && !darwin

package main

// isTerminal treats every descriptor as a non-terminal here: no progress line.
func isTerminal(fd uintptr) bool { return false }

//go:build !(linux || freebsd || darwin || dragonfly)

package main

// freeSpace is unknown here.
func freeSpace(string) (int64, bool) { return 0, false }

//go:build !(linux && fbsdmodel)

package aio

// modelRefusesFiles: no model, so the kernel serves the tests' files.
func modelRefusesFiles() bool { return false }

//go:build unix && (!linux || fbsdmodel)

package aio

// noInlineBefore: no filesystem refuses what this system does not have.
func noInlineBefore(fileClass) bool { return false }

//go:build !(linux && fbsdmodel)

package tests

import "testing"

// checkKernelModel has nothing to check against a real kernel: the
// descriptor and pin checks of forEachBackend are what a test can observe.
func checkKernelModel(t *testing.T) { t.Helper() }

// kernelServesFiles: a real kernel's AIO serves the test's regular files
// (the tests use local file systems).
func kernelServesFiles() bool { return true }

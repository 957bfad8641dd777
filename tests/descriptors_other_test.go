//go:build !unix

package tests

import (
	"os"
	"testing"
)

// haveDescriptors: files are not small-integer descriptors here (Windows
// handles, WASI), so there is no "descriptor that is not open".
const haveDescriptors = false

func closedDescriptor(t *testing.T) *os.File {
	t.Helper()
	t.Fatal("closedDescriptor needs Unix descriptors")
	return nil
}

// blockSize is the I/O size the tests use where the OS reports none.
func blockSize(*testing.T, *os.File) int { return 4096 }

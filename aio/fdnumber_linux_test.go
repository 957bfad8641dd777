package aio

import (
	"os"
	"testing"
)

// fdNumber reads f's descriptor number without changing its blocking mode.
func fdNumber(t *testing.T, f *os.File) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	num := -1
	if err := rc.Control(func(fd uintptr) { num = int(fd) }); err != nil {
		t.Fatal(err)
	}
	return num
}

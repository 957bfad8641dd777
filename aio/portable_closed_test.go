//go:build unix

package aio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPortableFileClosedBeforeRun: a request whose file is closed after
// Submit, before a worker runs it, fails with EBADF; the file that takes
// the descriptor number is not touched. (Closing a file with requests in
// flight is the caller's bug; the portable backend still never reaches
// another file's descriptor.)
func TestPortableFileClosedBeforeRun(t *testing.T) {
	smCheckPins(t)
	dir := t.TempDir()
	a, err := os.Create(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	b := newGoroutineEngine(4, 1)
	b.maxWorkers = 0 // no worker starts until the file is closed
	c := newContext(Config{}, b, 4)
	r := NewRequest()
	if err := r.PrepareWrite(a, 0, []byte("meant for a"), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	fdA := r.fd
	a.Close()
	other, err := os.OpenFile(filepath.Join(dir, "b"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rc, _ := other.SyscallConn()
	fdB := -1
	_ = rc.Control(func(fd uintptr) { fdB = int(fd) })
	if fdB != fdA {
		t.Logf("descriptor %d not reused (got %d)", fdA, fdB)
	}
	b.mu.Lock()
	b.maxWorkers = 1
	b.staff()
	b.mu.Unlock()
	smWaitN(t, c, 1)
	if n, err := r.Result(); n != 0 || !errors.Is(err, syscall.EBADF) {
		t.Errorf("Result = %d, %v; want 0, EBADF", n, err)
	}
	if st, err := other.Stat(); err != nil || st.Size() != 0 {
		t.Errorf("the other file: size %d, %v; want 0", st.Size(), err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

//go:build linux

package fbsdmodel

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A job holds its file by a reference of the kernel's (fd_file), not by a
// descriptor of the process: submitting takes no descriptor number, so the
// lowest free number is still the one the next open gets, as it would be
// had no job been submitted. (The model's own hold on the file must not
// show through as a descriptor in the program's range.)
func TestJobsTakeNoDescriptorNumbers(t *testing.T) {
	e := newEnv(t, Config{})
	hole, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(hole) // the lowest free number, most likely
	e.k.Hold()
	w := e.write(0, 4, EV_ONESHOT)
	next, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(next)
	if next != hole {
		t.Fatalf("the open after a submission got descriptor %d, want %d (the number free before it)", next, hole)
	}
	e.k.Release()
	e.harvest(1)
	e.ret(w)
}

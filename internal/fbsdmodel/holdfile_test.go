//go:build linux

package fbsdmodel

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHoldFileHugeDescriptorLimit: a job's hold on its file is dup'ed above
// the program's low numbers, but not at a number that grows with
// RLIMIT_NOFILE: the kernel grows the process's descriptor table to hold
// the number, for good (8 bytes a slot), and containers often have a limit
// of 2^20 or 2^30, where half the limit means 4 MiB or 4 GiB of table.
// The table must stay small whatever the limit. It runs in a child
// process, whose limit is raised (where it may be) before its first hold;
// any limit from 16384 up shows the table following it.
func TestHoldFileHugeDescriptorLimit(t *testing.T) {
	if os.Getenv("FBSDMODEL_HOLDFILE_CHILD") == "1" {
		holdFileChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldFileHugeDescriptorLimit$", "-test.v")
	cmd.Env = append(os.Environ(), "FBSDMODEL_HOLDFILE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot run the test binary again (%v): the host cannot execute it, as for a binary emulated by qemu-user without binfmt_misc", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child: %s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func holdFileChild(t *testing.T) {
	nrOpen, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		t.Skip(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(nrOpen)), 10, 64)
	if err != nil {
		t.Skip(err)
	}
	lim := unix.Rlimit{Cur: n, Max: n}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		var cur unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &cur) != nil {
			t.Skip(err)
		}
		lim = cur
	}
	const most = 8192 // descriptor table slots deemed acceptable
	if lim.Cur < 2*most {
		t.Skipf("RLIMIT_NOFILE %d: too low to show it", lim.Cur)
	}
	fd, err := holdFile(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "FDSize:"); ok {
			size, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			if size > most {
				t.Fatalf("with RLIMIT_NOFILE %d, one hold (descriptor %d) grew the descriptor table to %d slots; want at most %d", lim.Cur, fd, size, most)
			}
			return
		}
	}
	t.Skip("no FDSize in /proc/self/status")
}

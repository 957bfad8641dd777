//go:build linux

package tests

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// fileSizeEnv carries the file size limit to a child process.
const fileSizeEnv = "FILEAIO_TEST_FSIZE"

func inFileSizeChild() bool { return os.Getenv(fileSizeEnv) != "" }

// runWithFileSizeLimit runs the test named test in a child process whose
// RLIMIT_FSIZE is limit bytes, and fails if the child fails.
func runWithFileSizeLimit(t *testing.T, test string, limit uint64) {
	t.Helper()
	if inFileSizeChild() {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), fileSizeEnv+"="+strconv.FormatUint(limit, 10))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child with RLIMIT_FSIZE %d: %v\n%s", limit, err, out)
	}
	t.Logf("child with RLIMIT_FSIZE %d:\n%s", limit, out)
}

// applyFileSizeLimit sets the limit a child was started with.
func applyFileSizeLimit() {
	v := os.Getenv(fileSizeEnv)
	if v == "" {
		return
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		panic(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: n}); err != nil {
		panic(err)
	}
}

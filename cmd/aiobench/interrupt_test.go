//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// interruptAfter starts bin with args and TMPDIR=tmp, sends it SIGINT (what
// Ctrl-C sends) once a line of its stderr contains trigger, and returns its
// stdout, its whole stderr and its exit status.
func interruptAfter(t *testing.T, bin, tmp, trigger string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var out bytes.Buffer
	cmd.Stdout = &out
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	sc := bufio.NewScanner(pipe)
	sent := false
	for sc.Scan() {
		errOut.WriteString(sc.Text() + "\n")
		if !sent && strings.Contains(sc.Text(), trigger) {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			sent = true
		}
	}
	io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("%v: %v, want an exit status; stderr %q", args, err, errOut.String())
	}
	if !sent {
		t.Fatalf("%v: stderr never said %q: %q", args, trigger, errOut.String())
	}
	return out.String(), errOut.String(), exit.ExitCode()
}

// TestCLIInterrupt: Ctrl-C during the second backend reports the first,
// says the run was interrupted, and exits with status 130.
func TestCLIInterrupt(t *testing.T) {
	bin := buildBinary(t)
	tmp := t.TempDir()
	start := time.Now()
	stdout, stderr, status := interruptAfter(t, bin, tmp, "goroutines (os.File) done", "-size", "8M", "-duration", "1s")
	if status != 130 {
		t.Errorf("exit status %d, want 130; stderr %q", status, stderr)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("the interrupted run went on for %v", elapsed)
	}
	tableRow(t, stdout, "goroutines")
	for _, b := range []string{"file", "portable", "default"} {
		for line := range strings.Lines(stdout) {
			if f := strings.Fields(line); len(f) > 0 && f[0] == b {
				t.Errorf("%s is reported although it was interrupted or never ran:\n%s", b, stdout)
			}
		}
	}
	if !strings.Contains(stderr, "aiobench: interrupted: 1 of 4 backends finished; file was stopped") {
		t.Errorf("stderr does not say the run was interrupted: %q", stderr)
	}
}

// TestCLIInterruptCreatingCache: Ctrl-C while the cache file is being
// created leaves neither it nor its temporary behind.
func TestCLIInterruptCreatingCache(t *testing.T) {
	bin := buildBinary(t)
	tmp := t.TempDir()
	_, stderr, status := interruptAfter(t, bin, tmp, "creating", "-size", "1G", "-duration", "1s")
	if status != 130 {
		t.Errorf("exit status %d, want 130; stderr %q", status, stderr)
	}
	if !strings.Contains(stderr, "aiobench: interrupted: no backend ran") {
		t.Errorf("stderr does not say the run was interrupted: %q", stderr)
	}
	left, err := filepath.Glob(filepath.Join(tmp, cacheDirName, "data-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("the interrupted creation left %v", left)
	}
}

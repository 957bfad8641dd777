//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLISecondInterruptQuits: while a run stops after Ctrl-C (here it never
// finishes stopping, as a drain on a hung device would not), a second
// Ctrl-C ends the process by the signal.
func TestCLISecondInterruptQuits(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestInterruptHelperProcess$")
	cmd.Env = append(os.Environ(), "AIOBENCH_INTERRUPT_HELPER=1")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pipe)
		close(lines)
		exited <- cmd.Wait()
	}()
	var seen []string
	await := func(want string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the process ended before saying %q; it said %q", want, seen)
				}
				seen = append(seen, l)
				if strings.Contains(l, want) {
					return
				}
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("no %q in 20s; it said %q", want, seen)
			}
		}
	}
	await("ready")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	await("stopping the run")
	if !slices.Contains(seen, "aiobench: stopping; Ctrl-C again quits at once") {
		t.Errorf("the first Ctrl-C did not say that a second one quits: %q", seen)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("the process ended with %v; want death by SIGINT", err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Fatalf("the process ended with %v; want death by SIGINT (it said %q)", err, seen)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("a second Ctrl-C did not end the process in 20s; it said %q", seen)
	}
}

// TestInterruptHelperProcess is the process TestCLISecondInterruptQuits
// signals: the context of aiobench's main, and a stop that never ends.
func TestInterruptHelperProcess(t *testing.T) {
	if os.Getenv("AIOBENCH_INTERRUPT_HELPER") != "1" {
		t.Skip("run by TestCLISecondInterruptQuits")
	}
	ctx, stop := interruptContext(func(msg string) { fmt.Println("aiobench:", msg) })
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("stopping the run")
	time.Sleep(time.Hour)
}

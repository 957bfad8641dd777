//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/sys"
)

// TestNoKernelAIO proves the fallback on every run, on a kernel that has
// AIO: it runs this test binary again in a child process whose io_setup a
// seccomp filter fails with ENOSYS (a kernel without AIO), then with EPERM
// (a sandbox that refuses it). There the Linux tests of this package check
// that DefaultBackend contexts are "portable" and that KernelError matches
// ErrNotSupported and the errno (linuxContext), and the shared behavioural
// tests run on the DefaultBackend context (their "default" subtests).

// noAIOEnv names, in the child, the errno its io_setup is to fail with.
const noAIOEnv = "FILEAIO_TEST_NOAIO_ERRNO"

// noAIOErrnos are the refusals the child is run with, by name.
var noAIOErrnos = map[string]syscall.Errno{"ENOSYS": syscall.ENOSYS, "EPERM": syscall.EPERM}

// noAIOUnsupported starts the child's report, and noAIOUnsupportedExit is
// its exit status, when it cannot install the filter.
const (
	noAIOUnsupported     = "seccomp filter unavailable: "
	noAIOUnsupportedExit = 3
)

// noAIOMustPass are tests the child must run and pass on the fallback.
var noAIOMustPass = []string{
	"TestKernelErrorContract",
	"TestLinuxVectored", "TestLinuxFlushAndDataSync", "TestLinuxRejectedMidBatch",
	"TestLinuxThousandInFlight", "TestLinuxMaxRequests", "TestLinuxZeroAllocs",
	"TestLinuxWakeupBeforeWait", "TestLinuxWakeupDuringWait", "TestLinuxWakeLatched",
	"TestLinuxDeadline", "TestLinuxCancel", "TestLinuxClosed", "TestLinuxEventfdNonblocking",
	"TestLifecycle/default", "TestCancelExactlyOnce/default", "TestCloseBusyAndClosed/default",
	"TestWakeupDuringWait/default", "TestConcurrentSubmitters/default",
}

func TestMain(m *testing.M) {
	if name := os.Getenv(noAIOEnv); name != "" {
		if err := noAIOChildSetup(name); err != nil {
			fmt.Fprintf(os.Stderr, "%s%v\n", noAIOUnsupported, err)
			os.Exit(noAIOUnsupportedExit)
		}
	}
	os.Exit(m.Run())
}

// noAIOChildSetup installs the filter that fails io_setup with the errno
// called name, and checks that io_setup now answers that on this thread
// and on threads that were running before the filter came. Only an error
// from the kernel's seccomp itself is reported as unavailable; a filter
// that does not act everywhere is a failure.
func noAIOChildSetup(name string) error {
	errno, ok := noAIOErrnos[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q names no errno of %v\n", noAIOEnv, name, noAIOErrnos)
		os.Exit(2)
	}
	const earlier = 4
	start, answers := make(chan struct{}), make(chan error, earlier)
	for range earlier {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			<-start
			answers <- ioSetupAnswer()
		}()
	}
	if err := refuseIoSetup(errno); err != nil {
		close(start)
		return err
	}
	close(start)
	for i := range earlier + 1 {
		err := ioSetupAnswer()
		if i > 0 {
			err = <-answers
		}
		if err != errno {
			fmt.Fprintf(os.Stderr, "io_setup under a filter returning %v answered %v on a thread\n", errno, err)
			os.Exit(2)
		}
	}
	return nil
}

// ioSetupAnswer is io_setup's error for a one-request context.
func ioSetupAnswer() error {
	ctx, err := sys.IoSetup(1)
	if err == nil {
		_ = sys.IoDestroy(ctx)
	}
	return err
}

func TestNoKernelAIO(t *testing.T) {
	if os.Getenv(noAIOEnv) != "" {
		t.Fatal("TestNoKernelAIO runs in the parent only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ENOSYS", "EPERM"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(exe,
				"-test.run", "^Test/^default$", // "default" is the subtest on DefaultBackend
				"-test.skip", "^TestNoKernelAIO$",
				"-test.v", "-test.count", "1", "-test.timeout", "5m")
			cmd.Env = append(os.Environ(), noAIOEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case errors.Is(err, syscall.ENOEXEC):
				t.Skipf("cannot run the test binary again (%v): the host cannot execute it, as for a binary emulated by qemu-user without binfmt_misc (where seccomp(2) is not emulated either); the emulated run tests the fallback through the ENOSYS qemu-user gives io_setup", err)
			case errors.As(err, &exit) && exit.ExitCode() == noAIOUnsupportedExit:
				t.Skipf("the child cannot refuse io_setup: %s", strings.TrimSpace(string(out)))
			case err != nil:
				t.Fatalf("child with io_setup failing with %s: %v\n%s", name, err, out)
			}
			for _, test := range noAIOMustPass {
				if !strings.Contains(string(out), "--- PASS: "+test+" ") {
					t.Errorf("child with io_setup failing with %s: %s did not pass", name, test)
				}
			}
			if want := "(" + noAIOErrnos[name].Error() + ")"; !strings.Contains(string(out), want) {
				t.Errorf("child with io_setup failing with %s: no fallback reason naming %q in its output", name, want)
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

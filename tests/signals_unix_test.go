//go:build unix

package tests

import (
	"os"
	"syscall"
)

// haveSignals: the process can send itself signals here.
const haveSignals = true

// caughtSignal is the storm's signal that the test catches with
// signal.Notify.
var caughtSignal os.Signal = syscall.SIGUSR1

// raiseSignal sends the process signal i of a storm: SIGURG (what the Go
// runtime uses for preemption) and caughtSignal in turn.
func raiseSignal(i int) error {
	sig := syscall.SIGURG
	if i%2 == 1 {
		sig = syscall.SIGUSR1
	}
	return syscall.Kill(os.Getpid(), sig)
}

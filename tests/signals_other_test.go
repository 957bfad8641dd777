//go:build !unix

package tests

import (
	"errors"
	"os"
)

// haveSignals: a process cannot send itself signals here.
const haveSignals = false

var caughtSignal os.Signal = os.Interrupt

func raiseSignal(int) error { return errors.New("no signals on this OS") }

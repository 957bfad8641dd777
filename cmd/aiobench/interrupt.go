// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"os"
	"os/signal"
)

// interruptContext returns a context that the first SIGINT (Ctrl-C) ends.
// That signal also gives SIGINT back its default action, so that a second
// Ctrl-C ends the process at once while the run stops (completing the
// requests in flight, which a hung device can make last). note says so
// when the first one comes. stop releases the signal and the context.
func interruptContext(note func(string)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	released := make(chan struct{})
	go func() {
		select {
		case <-sig:
			signal.Stop(sig)
			note("stopping; Ctrl-C again quits at once")
			cancel()
		case <-released:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(released)
		cancel()
	}
}

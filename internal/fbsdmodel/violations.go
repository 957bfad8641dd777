//go:build linux

package fbsdmodel

import (
	"errors"
	"fmt"
	"strings"
)

func (k *Kernel) violateLocked(format string, args ...any) {
	k.violations = append(k.violations, fmt.Sprintf(format, args...))
}

// Violations returns the rules broken so far, one line each, oldest first.
// It notices closed kqueues first.
func (k *Kernel) Violations() []string {
	k.enter()
	defer k.mu.Unlock()
	return append([]string(nil), k.violations...)
}

// ResetViolations forgets the violations recorded so far.
func (k *Kernel) ResetViolations() {
	k.mu.Lock()
	k.violations = nil
	k.mu.Unlock()
}

// Outstanding returns the jobs the kernel knows: queued, running, or
// finished and not yet collected by aio_return (the count the queue limit
// applies to, §D).
func (k *Kernel) Outstanding() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.njobs
}

// Unreturned returns the finished jobs not yet collected by aio_return.
func (k *Kernel) Unreturned() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, _ := k.leaksLocked()
	return n
}

func (k *Kernel) leaksLocked() (finished, unfinished int) {
	for _, list := range k.jobs {
		for _, j := range list {
			if j.state == done {
				finished++
			} else {
				unfinished++
			}
		}
	}
	return finished, unfinished
}

// Check returns nil if no rule was broken and every job was collected, else
// an error listing the violations, the finished jobs never aio_returned
// (each holds a queue slot until the process exits, §D) and the jobs still
// unfinished.
func (k *Kernel) Check() error {
	k.enter()
	defer k.mu.Unlock()
	lines := append([]string(nil), k.violations...)
	finished, unfinished := k.leaksLocked()
	if finished > 0 {
		lines = append(lines, fmt.Sprintf("%d finished jobs never aio_returned (§D)", finished))
	}
	if unfinished > 0 {
		lines = append(lines, fmt.Sprintf("%d jobs still unfinished", unfinished))
	}
	if len(lines) == 0 {
		return nil
	}
	return errors.New("fbsdmodel: " + strings.Join(lines, "; "))
}

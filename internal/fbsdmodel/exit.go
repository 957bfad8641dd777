//go:build linux

package fbsdmodel

import (
	"slices"
	"time"
)

// Exit is what the process's exit or exec does to its AIO state
// (aio_proc_rundown, §D): every job still cancelable (queued, or an fsync
// parked behind earlier jobs) is canceled, the running ones are waited for,
// and then every finished job is freed, so that its slots of the queue
// limits, the system-wide one included, come back. None of them is
// notified: under KAIO_RUNDOWN aio_bio_done_notify skips the knotes, and
// aio_free_entry drops any event not yet collected. Afterwards the process
// has no AIO state, as before its first AIO call. A job that never
// completes (a vectored disk job without iovecs) keeps Exit waiting, as it
// keeps the exiting process. The process's descriptors, its kqueues among
// them, stay the program's to close.
func (k *Kernel) Exit() {
	k.enter()
	defer k.mu.Unlock()
	k.rundown = true
	for {
		canceled, busy := false, false
		for _, list := range k.jobs {
			for _, j := range list {
				switch {
				case k.cancelJobLocked(j):
					canceled = true // an fsync it held back may be queued now: look again
				case j.state == running:
					busy = true
				}
			}
		}
		if canceled {
			continue
		}
		if !busy {
			break
		}
		k.sleepLocked(time.Time{}) // "aioprn": until a running job completes
	}
	for _, list := range k.jobs {
		for _, j := range slices.Clone(list) {
			k.freeLocked(j)
		}
	}
	k.rundown = false
	k.aioinfo = false
	k.wakeLocked()
}

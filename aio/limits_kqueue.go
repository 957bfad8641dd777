//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

import (
	"fmt"

	"github.com/fileaio/fileaio/sys"
)

// listioFallback is AIO_LISTIO_MAX, the list length assumed where the
// kernel does not say its own.
const listioFallback = sys.AIO_LISTIO_MAX

// maxQueueSysctl names the queue limit (a variable, so that a test can
// name one the kernel lacks).
var maxQueueSysctl = "vfs.aio.max_aio_queue_per_proc"

// systemLimits reads the queue limit that yields EAGAIN
// (vfs.aio.max_aio_queue_per_proc, not max_aio_per_proc, which only bounds
// how many run at once) and the lio_listio limit.
func systemLimits() (Limits, error) {
	q, err := sys.SysctlUint32(maxQueueSysctl)
	if err != nil {
		return Limits{}, wrapError("sysctl "+maxQueueSysctl, fmt.Errorf("%w (%w)", ErrNotSupported, err))
	}
	return Limits{MaxOutstanding: int(q), BatchMax: max(listioLimit(), 1)}, nil
}

// listioLimit is the most entries lio_listio takes now:
// p1003_1b.aio_listio_max, the same variable as the queue limit (root may
// change it at run time), or AIO_LISTIO_MAX where that sysctl is missing.
func listioLimit() int {
	n, err := sys.SysctlUint32("p1003_1b.aio_listio_max")
	if err != nil {
		return listioFallback
	}
	return int(n)
}

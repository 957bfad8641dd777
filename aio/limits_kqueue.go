//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

import (
	"fmt"

	"github.com/fileaio/fileaio/sys"
)

// listioFloor is AIO_LISTIO_MAX, the list length every FreeBSD accepts.
const listioFloor = sys.AIO_LISTIO_MAX

// systemLimits reads the queue limit that yields EAGAIN
// (vfs.aio.max_aio_queue_per_proc, not max_aio_per_proc, which only bounds
// how many run at once) and the lio_listio limit, falling back to
// AIO_LISTIO_MAX where that sysctl is missing.
func systemLimits() (Limits, error) {
	q, err := sys.SysctlUint32("vfs.aio.max_aio_queue_per_proc")
	if err != nil {
		return Limits{}, fmt.Errorf("aio: sysctl vfs.aio.max_aio_queue_per_proc: %w (%w)", ErrNotSupported, err)
	}
	batch, err := sys.SysctlUint32("p1003_1b.aio_listio_max")
	if err != nil || batch < listioFloor {
		batch = listioFloor
	}
	return Limits{MaxOutstanding: int(q), BatchMax: int(batch)}, nil
}

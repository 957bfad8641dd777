//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// newDefaultBackend is kernel AIO for O_DIRECT files beside the goroutine
// engine, or the portable backend alone where the kernel has no usable AIO
// (ENOSYS, or io_setup refused by a seccomp filter, or no IOCB_CMD_POLL),
// which keeps newLinuxBackend's error for Context.KernelError.
func newDefaultBackend(limit int) (backend, int, error) {
	b, n, err := newLinuxBackend(limit)
	switch {
	case errors.Is(err, ErrNotSupported):
		return newFallbackBackend(limit, err)
	case err != nil:
		return nil, 0, err
	}
	b.nowaitWrites = true
	return newMixedBackend(b, linuxAIO, n), n, nil
}

// aioMaxNrPath holds fs.aio-max-nr, the system-wide bound on the requests
// of all kernel AIO contexts together; io_setup fails with EAGAIN past it.
// (A variable, so that a test can point it at a missing file.)
var aioMaxNrPath = "/proc/sys/fs/aio-max-nr"

// systemLimits reports fs.aio-max-nr as MaxOutstanding, the largest
// context this package creates as BatchMax (io_submit takes a context's
// whole capacity in one call), and the logical block size of the device
// holding os.TempDir() as BufferAlignment (4096 if unknown).
func systemLimits() (Limits, error) {
	maxNr, err := readSysInt(aioMaxNrPath)
	if err != nil {
		return Limits{}, wrapError("system limits", fmt.Errorf("%w (%w)", ErrNotSupported, err))
	}
	return Limits{
		MaxOutstanding:  maxNr,
		BatchMax:        min(max(maxNr-1, 1), maxKernelContext),
		BufferAlignment: logicalBlockSize(os.TempDir()),
	}, nil
}

// clampLimit bounds a context's requests by what io_setup accepts and by
// an eighth of fs.aio-max-nr, less the poll job's place: that limit is
// shared by the whole machine and io_setup reserves about twice what it is
// asked for, so one context never takes more than a quarter of it.
func clampLimit(limit int) int {
	if maxNr, err := readSysInt(aioMaxNrPath); err == nil {
		limit = min(limit, maxNr/contextShare-1)
	}
	return max(min(limit, maxKernelContext), 1)
}

// contextShare is the fraction of fs.aio-max-nr one context may ask for.
const contextShare = 8

// logicalBlockSize reads queue/logical_block_size of the block device
// holding dir, or of the disk a partition belongs to.
func logicalBlockSize(dir string) int {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 4096
	}
	dev := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	for _, p := range []string{dev + "/queue/logical_block_size", dev + "/../queue/logical_block_size"} {
		if n, err := readSysInt(p); err == nil && n > 0 {
			return n
		}
	}
	return 4096
}

// readSysInt reads a file of /proc or /sys that holds one integer.
func readSysInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

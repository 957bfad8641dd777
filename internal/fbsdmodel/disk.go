//go:build linux

package fbsdmodel

import "golang.org/x/sys/unix"

// The model's disks are the host's block devices. FreeBSD has no block
// devices: its disks are character devices of D_DISK drivers, which AIO
// serves on the bio path (aio_qbio, §F.1) when a request has the shape a
// disk takes, and otherwise refuses as unsafe, as it refuses every other
// character device. Linux has no disk character devices, so a block device
// plays the disk, and a character device stays a device that is not one.
const (
	maxphys   = 1 << 20 // maxphys of 13.x and later on 64-bit machines, also the disks' si_iosize_max here
	maxBufAIO = 16      // vfs.aio.max_buf_aio default
)

// isDisk is vn_isdisk for the model: a block device of the host.
func isDisk(kind uint32) bool { return kind == unix.S_IFBLK }

// bioTakes is aio_qbio's test (§F.1): it reports whether a read or write on
// a disk goes the bio path. Every iovec's length (the whole buffer for
// LIO_READ and LIO_WRITE) must be a multiple of the sector size and at most
// maxphys, with at most max_buf_aio iovecs and at most si_iosize_max in all.
// A disk's flush, and a request of any other shape, take the generic path,
// where a disk is unsafe. A vectored job without iovecs passes, and then
// never completes: aio_qbio issues one bio per iovec and completes the job
// when the last of them is done.
func bioTakes(f fileInfo, j *job) bool {
	if !isDisk(f.kind) || f.sector <= 0 {
		return false
	}
	var lens []uint64
	switch j.op {
	case LIO_READ, LIO_WRITE:
		lens = []uint64{j.kcb.nbytes()}
	case LIO_READV, LIO_WRITEV:
		for i := 0; i < len(j.iov); i += iovecSize {
			lens = append(lens, ne.Uint64(j.iov[i+8:]))
		}
	default:
		return false
	}
	if len(lens) > maxBufAIO {
		return false
	}
	var total uint64
	for _, n := range lens {
		if n%uint64(f.sector) != 0 || n > maxphys {
			return false
		}
		total += n
	}
	return total <= maxphys
}

// sectorSize is the logical sector size of the disk open on fd, 0 if it
// cannot be read.
func sectorSize(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.BLKSSZGET)
	if err != nil {
		return 0
	}
	return n
}

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
// maxphys, with at most max_buf_aio (maxBuf) iovecs and at most
// si_iosize_max in all.
// A disk's flush, and a request of any other shape, take the generic path,
// where a disk is unsafe. A vectored job without iovecs passes, and then
// never completes: aio_qbio issues one bio per iovec and completes the job
// when the last of them is done.
func bioTakes(f fileInfo, j *job, maxBuf int) bool {
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
	if len(lens) > maxBuf {
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

// bioBufs is how many of the process's bio buffers (kaio_buffer_count) a
// job on the bio path takes: one pbuf per iovec when the disk cannot do
// unmapped I/O (aio_qbio), none when it can, as FreeBSD's disks on amd64
// and arm64 can (SI_UNMAPPED with vm.unmapped_buf_allowed); SetMappedDisks
// plays disks that cannot.
func (k *Kernel) bioBufs(j *job) int {
	if !k.mappedDisks {
		return 0
	}
	if j.op&LIO_VECTORED != 0 {
		return len(j.iov) / iovecSize
	}
	return 1
}

// SetMappedDisks makes the disks the model serves on the bio path do
// mapped I/O (on) or unmapped I/O (off, the default): as when the disk's
// driver lacks SI_UNMAPPED or vm.unmapped_buf_allowed is 0, each of a
// job's bios then takes a pbuf, and a submission that would take the
// process past vfs.aio.max_buf_aio of them in flight is refused with
// EAGAIN (aio_qbio, §D, §F.1). The pbufs come back as the bios complete,
// before aio_return. It reports the setting it replaced.
func (k *Kernel) SetMappedDisks(on bool) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.mappedDisks
	k.mappedDisks = on
	return old
}

//go:build (freebsd || linux) && (amd64 || arm64)

package aio

import "sync"

// refusedFiles remembers, for the whole process, what the kernel's AIO
// refused with EOPNOTSUPP, so that requests there go to the goroutine
// engine from then on: for a regular file its whole mount (its device, as
// FreeBSD refuses regular files for their mount being non-local: NFS, SMB,
// FUSE), so that a new file there, perhaps with a deleted file's inode
// number, is not tried again; for any other file, that file (device and
// inode). It only grows: a mount does not become local.
var refusedFiles fileSet

type fileSet struct {
	mu sync.Mutex
	m  map[[2]uint64]struct{}
}

func (s *fileSet) add(dev, ino uint64) {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[[2]uint64]struct{})
	}
	s.m[[2]uint64{dev, ino}] = struct{}{}
	s.mu.Unlock()
}

func (s *fileSet) has(dev, ino uint64) bool {
	s.mu.Lock()
	_, ok := s.m[[2]uint64{dev, ino}]
	s.mu.Unlock()
	return ok
}

// refusedKey is what refusedFiles keeps of a refused file of class c.
func refusedKey(c fileClass) (dev, ino uint64) {
	if c.kind == kindRegular {
		return c.dev, 0
	}
	return c.dev, c.ino
}

// markRefused records that the kernel's AIO refused the file of class c.
func markRefused(c fileClass) { refusedFiles.add(refusedKey(c)) }

// The requests by whose refusal FreeBSD says that a device is not a disk it
// serves: whatever the disk, its bio path would have taken them.
const (
	diskSureAlign  = 4096     // a multiple of the sector sizes disks have (512, 4096)
	diskSureTotal  = 64 << 10 // DFLTPHYS: no disk's si_iosize_max (or maxphys) is smaller
	diskSureIovecs = 16       // vfs.aio.max_buf_aio's default
)

// refusalCoversFile reports whether the kernel's AIO refusal (EOPNOTSUPP)
// of r holds for every request on r's file, so that markRefused may record
// it. FreeBSD refuses a regular file for its mount, and a pipe or a tty for
// what it is, whatever the request. A disk (a character device there) it
// serves on its bio path only requests of a disk's shape (aio_qbio: every
// length a multiple of the sector size, at most max_buf_aio of them, at
// most si_iosize_max in all), and refuses the rest, and every flush, as it
// refuses any other device: so only the refusal of a read or write that
// every disk would take says that the device is not one it serves.
func refusalCoversFile(k kernelAIO, r *Request) bool {
	if k != freebsdAIO || (r.class.kind != kindChar && r.class.kind != kindBlock) {
		return true
	}
	var lens []int
	switch r.op {
	case opRead, opWrite:
		lens = []int{len(r.buf)}
	case opReadv, opWritev:
		if len(r.bufs) > diskSureIovecs {
			return false
		}
		for _, b := range r.bufs {
			lens = append(lens, len(b))
		}
	}
	if len(lens) == 0 {
		return false
	}
	total := 0
	for _, n := range lens {
		if n%diskSureAlign != 0 {
			return false
		}
		total += n
	}
	return total <= diskSureTotal
}

// refusedBefore reports whether the kernel's AIO refused the file of class
// c, or a regular file of its mount, before.
func refusedBefore(c fileClass) bool { return refusedFiles.has(refusedKey(c)) }

// noNowaitMounts remembers, for the whole process, the mounts (devices)
// whose files' kernel AIO writes refused to be given on the condition that
// they not wait (nowaitEngine; Linux tmpfs: EOPNOTSUPP to RWF_NOWAIT), so
// that every request new to such a file knows it (classify).
var noNowaitMounts fileSet

// markNoNowait records that the mount of the file of class c refused.
func markNoNowait(c fileClass) { noNowaitMounts.add(c.dev, 0) }

// noNowaitBefore reports whether a file of c's mount refused before.
func noNowaitBefore(c fileClass) bool { return noNowaitMounts.has(c.dev, 0) }

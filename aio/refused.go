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

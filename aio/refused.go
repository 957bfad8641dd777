//go:build (freebsd || linux) && (amd64 || arm64)

package aio

import "sync"

// refusedFiles remembers, for the whole process, the files (by device and
// inode) whose requests the kernel's AIO refused with EOPNOTSUPP, so that
// requests on them go to the goroutine engine from then on. It only grows:
// a file's mount does not change while it is open.
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

// refusedBefore reports whether the kernel's AIO refused the file before.
func refusedBefore(dev, ino uint64) bool { return refusedFiles.has(dev, ino) }

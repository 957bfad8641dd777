//go:build linux

package fbsdmodel

import "sync"

// System is what the processes of one machine share: the system-wide AIO
// queue limit vfs.aio.max_aio_queue and its count vfs.aio.num_queue_count
// (§D). Every Kernel (process) given the same System counts its jobs there,
// from submission until aio_return, as FreeBSD counts the jobs of every
// process.
type System struct {
	mu       sync.Mutex
	maxQueue int
	count    int
}

// NewSystem returns a System whose queue limit is maxQueue (0 means 1024).
func NewSystem(maxQueue int) *System {
	if maxQueue <= 0 {
		maxQueue = MAX_AIO_QUEUE
	}
	return &System{maxQueue: maxQueue}
}

// Queued returns vfs.aio.num_queue_count: the jobs of every process that the
// kernel knows.
func (s *System) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Free returns how many more jobs the system-wide limit admits.
func (s *System) Free() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.maxQueue-s.count, 0)
}

// Occupy takes n system-wide slots as other processes' jobs would, and
// returns the function that frees them again (once; later calls do
// nothing).
func (s *System) Occupy(n int) (release func()) {
	n = max(n, 0)
	s.add(n)
	var once sync.Once
	return func() { once.Do(func() { s.add(-n) }) }
}

// full is aio_aqueue's first check: the limit is reached.
func (s *System) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count >= s.maxQueue
}

// add counts d more jobs (d = 1 once a job is queued, -1 when
// aio_free_entry frees it).
func (s *System) add(d int) {
	s.mu.Lock()
	s.count += d
	s.mu.Unlock()
}

func (s *System) setMaxQueue(n int) {
	s.mu.Lock()
	s.maxQueue = n
	s.mu.Unlock()
}

func (s *System) limit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxQueue
}

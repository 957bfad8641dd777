//go:build linux

package fbsdmodel

import (
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

// Config sets the limits and the behaviour of a Kernel.
type Config struct {
	// MaxQueuePerProc is vfs.aio.max_aio_queue_per_proc: the jobs the kernel
	// may know at once (queued, running, or completed and not yet
	// aio_returned) before submissions fail with EAGAIN, and the largest
	// lio_listio list (p1003_1b.aio_listio_max). 0 means 256.
	MaxQueuePerProc int
	// Workers is the number of aiod goroutines that run jobs. 0 means 4.
	Workers int
	// EINTRPercent is the share, in percent, of blocking kevent calls that
	// end early with EINTR, as a signal would end them. 0 means none.
	EINTRPercent int
	// Seed seeds the choices the kernel makes at random (which queued job a
	// worker takes, when EINTR strikes). 0 means a seed from the clock.
	Seed int64
}

// Kernel is one modelled FreeBSD kernel serving one process. Its methods are
// the system calls, taking user memory as unsafe.Pointer; all are safe for
// concurrent use.
type Kernel struct {
	cfg Config

	mu      sync.Mutex
	work    *sync.Cond    // a job became runnable, or Hold, Stall or Close changed
	changed chan struct{} // closed and replaced whenever a sleeper may wake
	rng     *rand.Rand

	jobs    map[uintptr][]*job // by user aiocb address, oldest first (kaio_all)
	njobs   int                // kaio_count
	queue   []*job             // runnable jobs no worker has taken (aio_jobs)
	running int
	seq     uint64 // submission order (seqno)
	doneSeq uint64 // completion order (kaio_done)

	kqs map[int]*kqueue // by descriptor

	held, stalled int
	closed        bool
	failNext      syscall.Errno
	failFd        map[int]syscall.Errno

	violations []string
	stats      Stats
}

// New starts a Kernel and its workers.
func New(cfg Config) *Kernel {
	if cfg.MaxQueuePerProc <= 0 {
		cfg.MaxQueuePerProc = 256
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	cfg.EINTRPercent = min(max(cfg.EINTRPercent, 0), 100)
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	k := &Kernel{
		cfg:     cfg,
		changed: make(chan struct{}),
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		jobs:    make(map[uintptr][]*job),
		kqs:     make(map[int]*kqueue),
		stats:   Stats{KnoteFlags: make(map[uint16]int)},
		failFd:  make(map[int]syscall.Errno),
	}
	k.work = sync.NewCond(&k.mu)
	for range cfg.Workers {
		go k.worker()
	}
	return k
}

var (
	defaultOnce   sync.Once
	defaultKernel *Kernel
)

// Default returns the process-wide Kernel the sys package calls: the default
// limits, and EINTR on 10% of blocking kevent calls. It is never closed.
func Default() *Kernel {
	defaultOnce.Do(func() { defaultKernel = New(Config{EINTRPercent: 10}) })
	return defaultKernel
}

// Close stops the workers; jobs not yet run stay queued forever. Calls made
// after Close still answer.
func (k *Kernel) Close() {
	k.mu.Lock()
	k.closed = true
	k.work.Broadcast()
	k.mu.Unlock()
}

// wakeLocked wakes every sleeper (kevent, lio_listio(LIO_WAIT), aio_suspend,
// aio_waitcomplete) so it looks at the state again.
func (k *Kernel) wakeLocked() {
	close(k.changed)
	k.changed = make(chan struct{})
}

// sleepLocked releases k.mu until wakeLocked is called or deadline passes
// (a zero deadline never passes), then takes k.mu again.
func (k *Kernel) sleepLocked(deadline time.Time) {
	ch := k.changed
	k.mu.Unlock()
	defer k.mu.Lock()
	if deadline.IsZero() {
		<-ch
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// enter takes k.mu for a system call and notices kqueues closed since the
// last call.
func (k *Kernel) enter() {
	k.mu.Lock()
	k.sweepLocked()
}

func errOf(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

//go:build linux

package fbsdmodel

import (
	"math/rand/v2"
	"strings"
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
	// Osreldate is kern.osreldate, the FreeBSD release the model plays.
	// Below Osreldate14 it is 13.x: lio_listio refuses LIO_READV and
	// LIO_WRITEV entries (§B) and kqueuex does not exist (§G, §H). 0 means
	// Osreldate15.
	Osreldate int
	// MaxAIOPerProc is vfs.aio.max_aio_per_proc: how many of the process's
	// jobs the workers run at once. Further jobs wait queued; it never
	// causes EAGAIN (aio_selectjob, §D). 0 means 32.
	MaxAIOPerProc int
	// System is the machine the process runs on, whose system-wide queue
	// limit (vfs.aio.max_aio_queue) every Kernel sharing it counts against.
	// nil means a System of its own with the default limit.
	System *System
	// NonLocal puts every regular file and directory on a non-local mount
	// (NFS, SMB, FUSE), where AIO is unsafe (§F.4). SetNonLocal marks single
	// files.
	NonLocal bool
	// EnableUnsafe is vfs.aio.enable_unsafe: AIO on unsafe files (non-local
	// mounts, pipes, FIFOs, ttys) is served instead of refused with
	// EOPNOTSUPP (§F.4).
	EnableUnsafe bool
}

// kern.osreldate values of the releases the model tells apart.
const (
	Osreldate13 = 1302000 // 13.2-RELEASE: vectored jobs only through aio_readv/aio_writev
	Osreldate14 = 1400000 // 14.0: LIO_READV/LIO_WRITEV in lio_listio (D31627), kqueuex
	Osreldate15 = 1500000 // 15.0
)

// Kernel is one modelled FreeBSD kernel serving one process. Its methods are
// the system calls, taking user memory as unsafe.Pointer; all are safe for
// concurrent use.
type Kernel struct {
	cfg Config

	mu      sync.Mutex
	work    *sync.Cond    // a job became runnable, or Hold, Stall or Close changed
	changed chan struct{} // closed and replaced whenever a sleeper may wake
	rng     *rand.Rand

	jobs     map[uintptr][]*job // by user aiocb address, oldest first (kaio_all)
	njobs    int                // kaio_count
	queue    []*job             // runnable jobs no worker has taken (aio_jobs)
	running  int
	seq      uint64 // submission order (seqno)
	jobrefid int64  // the last job reference id written into kernelinfo (13.x, 14.x)
	doneSeq  uint64 // completion order (kaio_done)

	kqs map[int]*kqueue // by descriptor

	// aioinfo is p_aioinfo != NULL: the process has made a call that
	// sets up its AIO state (aio_aqueue, lio_listio, aio_waitcomplete).
	// Before that aio_error, aio_return and aio_suspend answer without
	// looking at the aiocb.
	aioinfo bool

	// Sysctls a test may change at run time (SetSysctl).
	maxQueuePerProc int // vfs.aio.max_aio_queue_per_proc = p1003_1b.aio_listio_max
	maxAIOPerProc   int // vfs.aio.max_aio_per_proc
	enableUnsafe    bool
	nonLocal        map[fileID]bool // files on non-local mounts (SetNonLocal)
	maxBufAIO       int             // vfs.aio.max_buf_aio
	mappedDisks     bool            // disks without unmapped I/O (SetMappedDisks)
	bufCount        int             // kaio_buffer_count: pbufs of bio jobs in flight

	held, stalled int
	closed        bool
	rundown       bool // Exit is running the process's AIO state down (KAIO_RUNDOWN)
	failNext      syscall.Errno
	failFd        map[int]syscall.Errno
	failInit      syscall.Errno        // FailAIOInit: the errno the process's AIO setup fails with once (15.x)
	stops         map[fileID]writeStop // StopWritesAt

	violations []string
	stats      Stats
}

// New starts a Kernel and its workers.
func New(cfg Config) *Kernel {
	if cfg.MaxQueuePerProc <= 0 {
		cfg.MaxQueuePerProc = MAX_AIO_QUEUE_PER_PROC
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Osreldate <= 0 {
		cfg.Osreldate = Osreldate15
	}
	if cfg.MaxAIOPerProc <= 0 {
		cfg.MaxAIOPerProc = maxAIO
	}
	if cfg.System == nil {
		cfg.System = NewSystem(0)
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
		stops:   make(map[fileID]writeStop),

		maxQueuePerProc: cfg.MaxQueuePerProc,
		maxAIOPerProc:   cfg.MaxAIOPerProc,
		enableUnsafe:    cfg.EnableUnsafe,
		nonLocal:        make(map[fileID]bool),
		maxBufAIO:       maxBufAIO,
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
// limits, EINTR on 10% of blocking kevent calls, and the release and mounts
// the environment selects (see ConfigFromEnv). It is never closed. An
// environment variable it cannot read is recorded as a violation, so that
// every test checking the model reports it.
func Default() *Kernel {
	defaultOnce.Do(func() {
		cfg, err := ConfigFromEnv()
		cfg.EINTRPercent = 10
		defaultKernel = New(cfg)
		if err != nil {
			defaultKernel.mu.Lock()
			defaultKernel.violateLocked("%s", strings.TrimPrefix(err.Error(), "fbsdmodel: "))
			defaultKernel.mu.Unlock()
		}
	})
	return defaultKernel
}

// Config returns the configuration the kernel was made with.
func (k *Kernel) Config() Config { return k.cfg }

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

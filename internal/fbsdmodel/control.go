//go:build linux

package fbsdmodel

import "syscall"

// Hold keeps the workers from taking new jobs, so that queued jobs stay
// cancelable (§C) and their order is decided only after Release. Holds nest.
func (k *Kernel) Hold() {
	k.mu.Lock()
	k.held++
	k.mu.Unlock()
}

// Release undoes one Hold.
func (k *Kernel) Release() {
	k.mu.Lock()
	if k.held > 0 {
		k.held--
	}
	k.work.Broadcast()
	k.mu.Unlock()
}

// Stall lets the workers take jobs but not run them until Unstall, so that
// taken jobs stay running (aio_cancel answers AIO_NOTCANCELED, §C). Stalls
// nest.
func (k *Kernel) Stall() {
	k.mu.Lock()
	k.stalled++
	k.mu.Unlock()
}

// Unstall undoes one Stall.
func (k *Kernel) Unstall() {
	k.mu.Lock()
	if k.stalled > 0 {
		k.stalled--
	}
	k.work.Broadcast()
	k.mu.Unlock()
}

// Running returns the jobs a worker has taken and not finished.
func (k *Kernel) Running() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running
}

// FailNext makes the next job a worker runs complete with -1/errno instead
// of doing its I/O. 0 withdraws it.
func (k *Kernel) FailNext(errno syscall.Errno) {
	k.mu.Lock()
	k.failNext = errno
	k.mu.Unlock()
}

// FailFd makes every job on descriptor number fd that a worker runs from now
// on complete with -1/errno instead of doing its I/O. 0 ends it.
func (k *Kernel) FailFd(fd int, errno syscall.Errno) {
	k.mu.Lock()
	if errno == 0 {
		delete(k.failFd, fd)
	} else {
		k.failFd[fd] = errno
	}
	k.mu.Unlock()
}

// FailAIOInit makes the process's AIO setup fail once with errno, as
// aio_init_aioinfo does from 15.0 on when no AIO daemon exists and none
// can be started (aio_newproc: kproc_create's error, EAGAIN where the
// process table is full, §H): the next aio_read, aio_write, aio_readv,
// aio_writev, aio_fsync, lio_listio or aio_waitcomplete of a process
// without AIO state fails with errno before it looks at any aiocb (an
// aio_* call stores errno in the aiocb's error field and leaves its status
// alone; lio_listio touches no entry). The state is made all the same, so
// the calls after it go on. On 13.x and 14.x, whose aio_init_aioinfo
// cannot fail, the setup succeeds and errno is forgotten. 0 withdraws it.
func (k *Kernel) FailAIOInit(errno syscall.Errno) {
	k.mu.Lock()
	k.failInit = errno
	k.mu.Unlock()
}

// initAIOLocked is the "p_aioinfo == NULL" step of the calls that set up
// the process's AIO state: aio_init_aioinfo, which from 15.0 on can fail
// (FailAIOInit). The state is made either way.
func (k *Kernel) initAIOLocked() syscall.Errno {
	if k.aioinfo {
		return 0
	}
	k.aioinfo = true
	e := k.failInit
	k.failInit = 0
	if k.cfg.Osreldate < Osreldate15 {
		return 0
	}
	return e
}

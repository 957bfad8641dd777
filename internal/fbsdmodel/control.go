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

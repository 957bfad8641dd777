//go:build linux

package fbsdmodel

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// worker is an aiod: it takes a queued job, in no particular order (§B
// Ordering), and runs it on the host.
func (k *Kernel) worker() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		for !k.closed && (k.held > 0 || len(k.queue) == 0 || k.running >= k.maxAIOPerProc) { // aio_selectjob (§D)
			k.work.Wait()
		}
		if k.closed {
			return
		}
		i := k.rng.IntN(len(k.queue))
		j := k.queue[i]
		k.queue[i] = k.queue[len(k.queue)-1]
		k.queue = k.queue[:len(k.queue)-1]
		j.state = running // §C: from here on aio_cancel answers AIO_NOTCANCELED
		k.running++
		k.stats.MaxRunning = max(k.stats.MaxRunning, k.running)
		for k.stalled > 0 && !k.closed {
			k.work.Wait()
		}
		fail := k.failureLocked(j)
		stop := k.stopLocked(j)
		k.mu.Unlock()
		var status int64
		var e syscall.Errno
		if fail == 0 && stop != nil {
			status, e = j.runStopped(stop)
		} else {
			status, e = j.run(fail)
		}
		k.mu.Lock()
		k.running--
		k.work.Signal() // a job held back by max_aio_per_proc may run now
		k.completeLocked(j, status, e)
	}
}

// failureLocked checks the memory the job is about to touch and returns the
// errno it must fail with instead of running: EFAULT for unpinned buffers,
// else an injected failure, else 0.
func (k *Kernel) failureLocked(j *job) syscall.Errno {
	ok := true
	switch j.op {
	case LIO_READ, LIO_WRITE:
		ok = k.checkPinnedLocked(j.kcb.buf(), uintptr(j.kcb.nbytes()), "buffer %#x of aiocb %#x while the job runs", j.kcb.buf(), j.uaddr)
	case LIO_READV, LIO_WRITEV:
		for i := 0; i < len(j.iov); i += iovecSize {
			base, n := uintptr(ne.Uint64(j.iov[i:])), uintptr(ne.Uint64(j.iov[i+8:]))
			ok = k.checkPinnedLocked(base, n, "buffer %#x (iovec %d) of aiocb %#x while the job runs", base, i/iovecSize, j.uaddr) && ok
		}
	}
	if !ok {
		return unix.EFAULT
	}
	if e := k.failNext; e != 0 {
		k.failNext = 0
		return e
	}
	return k.failFd[j.fd]
}

// run performs the job on its own host descriptor with the buffer address
// and length of the kernel copy, as aio_process_rw and aio_process_sync do
// (§A During execution, §E). A non-zero fail replaces the I/O.
func (j *job) run(fail syscall.Errno) (int64, syscall.Errno) {
	if fail != 0 {
		return -1, fail
	}
	for {
		var r uintptr
		var e syscall.Errno
		if j.stream {
			r, e = j.runStream()
		} else {
			switch j.op {
			case LIO_READ:
				r, _, e = unix.Syscall6(unix.SYS_PREAD64, uintptr(j.file), j.kcb.buf(), uintptr(j.kcb.nbytes()), uintptr(j.kcb.offset()), 0, 0)
			case LIO_WRITE:
				r, _, e = unix.Syscall6(unix.SYS_PWRITE64, uintptr(j.file), j.kcb.buf(), uintptr(j.kcb.nbytes()), uintptr(j.kcb.offset()), 0, 0)
			case LIO_READV:
				r, _, e = unix.Syscall6(unix.SYS_PREADV, uintptr(j.file), uintptr(unsafe.Pointer(unsafe.SliceData(j.iov))), uintptr(j.kcb.nbytes()), uintptr(j.kcb.offset()), 0, 0)
			case LIO_WRITEV:
				r, _, e = unix.Syscall6(unix.SYS_PWRITEV, uintptr(j.file), uintptr(unsafe.Pointer(unsafe.SliceData(j.iov))), uintptr(j.kcb.nbytes()), uintptr(j.kcb.offset()), 0, 0)
			case LIO_SYNC:
				_, _, e = unix.Syscall(unix.SYS_FSYNC, uintptr(j.file), 0, 0)
			case LIO_DSYNC:
				_, _, e = unix.Syscall(unix.SYS_FDATASYNC, uintptr(j.file), 0, 0)
			}
		}
		switch e {
		case 0:
			return int64(r), 0
		case unix.EINTR:
			continue
		default:
			return -1, e
		}
	}
}

// runStream is run for a pipe, FIFO or tty, which have no offset: fo_read
// and fo_write ignore it (unsafe AIO, §F.4).
func (j *job) runStream() (uintptr, syscall.Errno) {
	var r uintptr
	var e syscall.Errno
	switch j.op {
	case LIO_READ:
		r, _, e = unix.Syscall(unix.SYS_READ, uintptr(j.file), j.kcb.buf(), uintptr(j.kcb.nbytes()))
	case LIO_WRITE:
		r, _, e = unix.Syscall(unix.SYS_WRITE, uintptr(j.file), j.kcb.buf(), uintptr(j.kcb.nbytes()))
	case LIO_READV:
		r, _, e = unix.Syscall(unix.SYS_READV, uintptr(j.file), uintptr(unsafe.Pointer(unsafe.SliceData(j.iov))), uintptr(j.kcb.nbytes()))
	case LIO_WRITEV:
		r, _, e = unix.Syscall(unix.SYS_WRITEV, uintptr(j.file), uintptr(unsafe.Pointer(unsafe.SliceData(j.iov))), uintptr(j.kcb.nbytes()))
	case LIO_SYNC, LIO_DSYNC: // a FIFO's vnode: nothing to write back
	}
	return r, e
}

// completeLocked is aio_complete + aio_bio_done_notify: the result goes into
// the kernel copy only, never the user aiocb (§A During execution); the knote
// fires, fsyncs waiting for the job move on (§E), and the list job counts it.
func (k *Kernel) completeLocked(j *job, status int64, e syscall.Errno) {
	j.state, j.status, j.errno = done, status, e
	k.bufCount -= j.bufs // aio_biocleanup: the pbufs come back with the bios
	j.bufs = 0
	k.doneSeq++
	j.doneSeq = k.doneSeq
	if j.kn != nil && !k.rundown { // KAIO_RUNDOWN: no notification
		j.kn.activate()
	}
	for _, s := range j.syncs {
		if s.state == parked {
			if s.pending--; s.pending == 0 {
				s.state = queued
				k.queue = append(k.queue, s)
				k.work.Signal()
			}
		}
	}
	j.syncs = nil
	if j.lio != nil {
		j.lio.finished++
		if !k.rundown {
			j.lio.check()
		}
	}
	k.wakeLocked()
}

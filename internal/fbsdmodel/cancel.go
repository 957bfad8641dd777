//go:build linux

package fbsdmodel

import (
	"cmp"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AioCancel is aio_cancel(2) (§C). It considers the unfinished jobs whose
// aiocb holds descriptor number fd (and whose address is cb, unless cb is
// nil). Jobs no worker has taken yet, and parked fsyncs, are canceled: they
// complete at once with -1/ECANCELED and their kevent is posted; they still
// need aio_return. With cb it answers AIO_CANCELED, AIO_NOTCANCELED (the job
// runs) or AIO_ALLDONE (no such unfinished job); with a nil cb,
// AIO_NOTCANCELED if any match runs, else AIO_CANCELED if any was canceled,
// else AIO_ALLDONE. On a disk's descriptor it answers AIO_NOTCANCELED at
// once, whatever cb, once the process has made an AIO call (before that,
// AIO_ALLDONE on any descriptor). A bad fd is EBADF. cb is never read or
// written.
func (k *Kernel) AioCancel(fd int, cb unsafe.Pointer) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return -1, unix.EBADF
	}
	k.enter()
	defer k.mu.Unlock()
	if !k.aioinfo { // no AIO state yet: nothing to cancel, whatever the file
		return AIO_ALLDONE, nil
	}
	if isDisk(st.Mode & unix.S_IFMT) { // vn_isdisk: bio jobs are never cancelable
		return AIO_NOTCANCELED, nil
	}
	var match []*job
	for _, list := range k.jobs {
		for _, j := range list {
			if j.fd == fd && j.state != done && (cb == nil || j.uaddr == uintptr(cb)) {
				match = append(match, j)
			}
		}
	}
	slices.SortFunc(match, func(a, b *job) int { return cmp.Compare(a.seq, b.seq) })
	if cb != nil && len(match) > 1 {
		match = match[:1] // kaio_jobqueue order: the oldest
	}
	canceled, notCanceled := 0, 0
	for _, j := range match {
		if k.cancelJobLocked(j) {
			canceled++
		} else {
			notCanceled++
		}
	}
	switch {
	case cb != nil && canceled > 0:
		return AIO_CANCELED, nil
	case notCanceled > 0:
		return AIO_NOTCANCELED, nil
	case canceled > 0:
		return AIO_CANCELED, nil
	}
	return AIO_ALLDONE, nil
}

// cancelJobLocked completes j canceled if it has not started (aio_cancel_job
// on a queued job, or an fsync parked behind earlier jobs), and reports
// whether it did; a running or finished job is left alone.
func (k *Kernel) cancelJobLocked(j *job) bool {
	switch j.state {
	case queued:
		k.queue = slices.DeleteFunc(k.queue, func(x *job) bool { return x == j })
		fallthrough
	case parked:
		k.completeLocked(j, -1, unix.ECANCELED)
		return true
	}
	return false
}

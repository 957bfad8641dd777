//go:build linux

package fbsdmodel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// AioError is aio_error(2) (§B, §D): EINPROGRESS while the job of cb is
// unfinished, its errno (0 on success) once finished. For an aiocb the
// kernel does not know, it reads cb: EINVAL if its status is not -1, else
// the error stored there (-1 for a nil cb, which it cannot read); before
// the process's first AIO call (see Kernel.aioinfo) it is EINVAL whatever cb
// holds. The answer is the value; the error is always nil.
func (k *Kernel) AioError(cb unsafe.Pointer) (int, error) {
	k.enter()
	defer k.mu.Unlock()
	if !k.aioinfo {
		return int(unix.EINVAL), nil
	}
	if j := k.firstLocked(uintptr(cb), anyJob); j != nil {
		if j.state == done {
			return int(j.errno), nil
		}
		return int(unix.EINPROGRESS), nil
	}
	if cb == nil { // fuword of an unreadable address is -1, for both fields
		return -1, nil
	}
	if int64(load64(cb, offStatus)) != -1 {
		return int(unix.EINVAL), nil
	}
	return int(int64(load64(cb, offError))), nil
}

// AioReturn is aio_return(2) (§D): for the job of cb that finished first
// (kaio_done order) it returns the byte count, or -1 and the job's errno; it
// frees the job, deletes its uncollected kevent (§C) and writes error and
// status into cb. A job that is unfinished, already returned or never
// queued is EINVAL.
func (k *Kernel) AioReturn(cb unsafe.Pointer) (int, error) {
	k.enter()
	defer k.mu.Unlock()
	var j *job
	for _, x := range k.jobs[uintptr(cb)] {
		if x.state == done && (j == nil || x.doneSeq < j.doneSeq) {
			j = x
		}
	}
	if j == nil {
		return -1, unix.EINVAL
	}
	k.checkPinnedLocked(j.uaddr, aiocbSize, "aiocb %#x at aio_return", j.uaddr)
	return k.collectLocked(j)
}

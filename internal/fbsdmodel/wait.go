//go:build linux

package fbsdmodel

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AioWaitcomplete is aio_waitcomplete(2) (§G): it stores NULL at cbp, waits
// up to the timespec at timeout (nil: forever; zero: poll) for the first job
// of the process to finish, whoever submitted it, collects it as AioReturn
// does and stores its aiocb address at cbp. Timing out is EAGAIN. Every call
// is recorded as a violation: the project must not use it.
func (k *Kernel) AioWaitcomplete(cbp unsafe.Pointer, timeout unsafe.Pointer) (int, error) {
	k.enter()
	defer k.mu.Unlock()
	k.violateLocked("aio_waitcomplete called: it takes other contexts' completions and cannot be woken (§G)")
	store64(cbp, 0, 0)
	poll, deadline, e := readTimeout(timeout)
	if e != 0 {
		return -1, e
	}
	if e := k.initAIOLocked(); e != 0 {
		return -1, e
	}
	for {
		var first *job
		for _, list := range k.jobs {
			for _, j := range list {
				if j.state == done && (first == nil || j.doneSeq < first.doneSeq) {
					first = j
				}
			}
		}
		if first != nil {
			k.checkPinnedLocked(first.uaddr, aiocbSize, "aiocb %#x at aio_waitcomplete", first.uaddr)
			store64(cbp, 0, uint64(first.uaddr))
			return k.collectLocked(first)
		}
		if poll || !deadline.IsZero() && !time.Now().Before(deadline) {
			return -1, unix.EAGAIN
		}
		k.sleepLocked(deadline)
	}
}

// AioSuspend is aio_suspend(2) (§G): it returns nil as soon as one of the n
// aiocbs at list has finished, or at once when the kernel knows none of
// them; timing out, or a process that has made no AIO call yet, is EAGAIN;
// n outside [0, max_aio_queue_per_proc] is EINVAL.
// It does not collect. Every call is recorded as a violation: the project
// must not use it.
func (k *Kernel) AioSuspend(list unsafe.Pointer, n int, timeout unsafe.Pointer) error {
	k.enter()
	defer k.mu.Unlock()
	if n < 0 || n > k.maxQueuePerProc {
		return unix.EINVAL
	}
	k.violateLocked("aio_suspend called: it cannot be woken (§G)")
	poll, deadline, e := readTimeout(timeout)
	if e != 0 {
		return e
	}
	if !k.aioinfo {
		return unix.EAGAIN
	}
	addrs := make([]uintptr, n)
	for i := range n {
		addrs[i] = uintptr(loadPtr(list, uintptr(i)*pointerSize))
	}
	for {
		known := false
		for _, a := range addrs {
			if a == 0 {
				continue
			}
			if k.firstLocked(a, isDone) != nil {
				return nil
			}
			known = known || k.firstLocked(a, anyJob) != nil
		}
		if !known { // "all tasks were finished"
			return nil
		}
		if poll || !deadline.IsZero() && !time.Now().Before(deadline) {
			return unix.EAGAIN
		}
		k.sleepLocked(deadline)
	}
}

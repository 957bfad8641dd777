//go:build linux

package fbsdmodel

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type jobState int

const (
	queued  jobState = iota // waiting for a worker; cancelable (§C)
	parked                  // an fsync waiting for earlier jobs (§E); cancelable
	running                 // taken by a worker; not cancelable (§C)
	done                    // finished; waits for aio_return (§D)
)

// job is the kernel's struct kaiocb.
type job struct {
	uaddr  uintptr        // the user aiocb's address: the job's identity (§A.3)
	ucb    unsafe.Pointer // the same address, for the writes of aio_return (§A)
	kcb    kaiocb         // the kernel copy (§A.2)
	op     int            // LIO_READ, LIO_WRITE, LIO_READV, LIO_WRITEV, LIO_SYNC, LIO_DSYNC
	fd     int            // aio_fildes: what aio_cancel and aio_fsync match on (§C, §E)
	file   int            // a host descriptor of its own, held until the job is freed (§F)
	id     fileID         // the file's device and inode
	iov    []byte         // for LIO_READV/LIO_WRITEV: the iovec array copied in (§A.2)
	stream bool           // a pipe, FIFO or tty (unsafe AIO): no offset
	noBio  bool           // a vectored job without iovecs on a disk's bio path, which issues no I/O and never completes
	bufs   int            // the pbufs it holds of the process's max_buf_aio until it completes (aio_qbio)
	seq    uint64

	state   jobState
	status  int64
	errno   syscall.Errno
	doneSeq uint64

	kq      *kqueue // the kqueue its completion goes to, nil without SIGEV_KEVENT
	kn      *knote  // its EVFILT_AIO knote, nil once dropped
	pending int     // for a parked fsync: earlier jobs still to finish (§E)
	syncs   []*job  // fsyncs waiting for this job (§E)
	lio     *lioJob
}

// firstLocked returns the oldest job the kernel knows under addr whose
// state passes want, as the kernel's list walks find it (§A.3).
func (k *Kernel) firstLocked(addr uintptr, want func(*job) bool) *job {
	for _, j := range k.jobs[addr] {
		if want(j) {
			return j
		}
	}
	return nil
}

func anyJob(*job) bool      { return true }
func isDone(j *job) bool    { return j.state == done }
func (j *job) isSync() bool { return j.op == LIO_SYNC || j.op == LIO_DSYNC }

// freeLocked forgets a finished job: aio_free_entry drops its knote, with an
// event not yet collected (§C), and its file reference (§D).
func (k *Kernel) freeLocked(j *job) {
	list := k.jobs[j.uaddr]
	for i, x := range list {
		if x == j {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(k.jobs, j.uaddr)
	} else {
		k.jobs[j.uaddr] = list
	}
	k.njobs--
	k.cfg.System.add(-1)
	if j.kn != nil {
		j.kn.drop()
		j.kn = nil
	}
	if j.lio != nil {
		j.lio.forget()
		j.lio = nil
	}
	j.kq = nil
	unix.Close(j.file)
}

// collectLocked is what aio_return and aio_waitcomplete share: free the job,
// then write error and status into the user aiocb (§A Harvest, §D).
func (k *Kernel) collectLocked(j *job) (int, error) {
	k.freeLocked(j)
	store64(j.ucb, offError, uint64(j.errno))
	store64(j.ucb, offStatus, uint64(j.status))
	if j.errno != 0 {
		return -1, j.errno
	}
	return int(j.status), nil
}

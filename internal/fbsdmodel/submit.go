//go:build linux

package fbsdmodel

import (
	"sync"
	"syscall"
	"unsafe"

	"github.com/fileaio/fileaio/internal/pin"
	"golang.org/x/sys/unix"
)

// AioRead is aio_read(2): it queues a read of the aiocb at cb, or rejects it
// with an errno that it also stores in the aiocb's error field.
func (k *Kernel) AioRead(cb unsafe.Pointer) error { return k.submit(cb, LIO_READ) }

// AioWrite is aio_write(2); see AioRead.
func (k *Kernel) AioWrite(cb unsafe.Pointer) error { return k.submit(cb, LIO_WRITE) }

// AioReadv is aio_readv(2): the aiocb's buffer field points at an iovec
// array, which is copied in during the call, and its nbytes field holds the
// count; see AioRead.
func (k *Kernel) AioReadv(cb unsafe.Pointer) error { return k.submit(cb, LIO_READV) }

// AioWritev is aio_writev(2); see AioReadv.
func (k *Kernel) AioWritev(cb unsafe.Pointer) error { return k.submit(cb, LIO_WRITEV) }

// AioFsync is aio_fsync(2): op O_SYNC or O_DSYNC queues a sync that starts
// once every earlier job on the same open file as the aiocb's descriptor
// (that descriptor or a dup of it, whatever number each job named) has
// completed. Any other op is EINVAL and cb is not touched (§E).
func (k *Kernel) AioFsync(op int, cb unsafe.Pointer) error {
	var lop int
	switch op {
	case O_SYNC:
		lop = LIO_SYNC
	case O_DSYNC:
		lop = LIO_DSYNC
	default:
		return unix.EINVAL
	}
	return k.submit(cb, lop)
}

func (k *Kernel) submit(cb unsafe.Pointer, op int) error {
	k.enter()
	defer k.mu.Unlock()
	if op == LIO_READV || op == LIO_WRITEV {
		k.stats.VectoredCalls++
	}
	return errOf(k.aqueueLocked(cb, op, nil))
}

// aqueueLocked is aio_aqueue (§A): it queues the job of the user aiocb at
// ucb, or rejects it. op is the syscall's opcode, or LIO_NOP when the opcode
// comes from the aiocb (lio_listio, §B).
func (k *Kernel) aqueueLocked(ucb unsafe.Pointer, op int, lj *lioJob) syscall.Errno {
	addr := uintptr(ucb)
	k.checkPinnedLocked(addr, aiocbSize, "aiocb %#x at submission", addr)
	if e := k.initAIOLocked(); e != 0 { // 15.x: before status is written (err1)
		store64(ucb, offError, uint64(e))
		return e
	}
	if k.firstLocked(addr, anyJob) != nil {
		k.violateLocked("aiocb %#x submitted again before aio_return of its previous job (§A: never resubmit)", addr)
	}
	// §A.1: status and error are written before anything else.
	store64(ucb, offStatus, ^uint64(0))
	store64(ucb, offError, 0)
	if k.storesKernelinfo() {
		store64(ucb, offKinfo, ^uint64(0))
	}
	j, e := k.admitLocked(ucb, op)
	if j == nil {
		// §A.5: a rejected job leaves status -1 and its errno in error; a
		// LIO_NOP leaves error 0 (§B).
		store64(ucb, offError, uint64(e))
		return e
	}
	store64(ucb, offError, uint64(unix.EINPROGRESS)) // §A.5
	k.enqueueLocked(j, lj)
	return 0
}

// admitLocked checks the limits, copies the aiocb in and validates it,
// returning the job, or nil and the errno (0 for a LIO_NOP).
func (k *Kernel) admitLocked(ucb unsafe.Pointer, op int) (*job, syscall.Errno) {
	if k.cfg.System.full() || k.njobs >= k.maxQueuePerProc { // §A.2, §D
		return nil, unix.EAGAIN
	}
	j := &job{uaddr: uintptr(ucb), ucb: ucb}
	copy(j.kcb[:], copyin(ucb, aiocbSize)) // §A.2
	c := &j.kcb
	if op == LIO_NOP && (c.opcode() == LIO_READV || c.opcode() == LIO_WRITEV) {
		k.stats.VectoredListEntries++
	}
	if k.copiesIov(op, c.opcode()) { // aiocb_copyin: with the aiocb, before any check
		if e := k.copyinIovLocked(ucb, j); e != 0 {
			return nil, e
		}
	}
	if c.nbytes() > ssizeMax { // §F.5
		return nil, unix.EINVAL
	}
	switch c.notify() { // §B upfront sigevent rules, applied per aiocb by aio_aqueue
	case SIGEV_NONE, SIGEV_KEVENT:
	case SIGEV_SIGNAL, SIGEV_THREAD_ID:
		if s := c.sigKqueue(); s <= 0 || s > sigMax {
			return nil, unix.EINVAL
		}
		k.violateLocked("aiocb %#x asks for signal notification (sigev_notify %d), which the project must not use", j.uaddr, c.notify())
	default:
		return nil, unix.EINVAL
	}
	if op == LIO_NOP {
		op = c.opcode()
		if !k.listOpcode(op) {
			return nil, unix.EINVAL
		}
	} else {
		c.setOpcode(op)
	}
	j.op, j.fd = op, c.fildes()
	f, e := checkFile(j.fd, op)
	if e != 0 {
		return nil, e
	}
	rw := op == LIO_READ || op == LIO_WRITE || op == LIO_READV || op == LIO_WRITEV
	if rw && c.offset() < 0 && f.kind != unix.S_IFCHR && !isDisk(f.kind) { // §F.5: VCHR, which FreeBSD's disks are
		return nil, unix.EINVAL
	}
	if k.storesKernelinfo() { // the job's reference id, a LIO_NOP's too
		if k.jobrefid++; k.jobrefid <= 0 {
			k.jobrefid = 1 // wrapped to 1 on overflow
		}
		store64(ucb, offKinfo, uint64(k.jobrefid))
	}
	if op == LIO_NOP { // §B: the descriptor is checked, no job is made
		return nil, 0
	}
	if c.notify() == SIGEV_KEVENT {
		if c.kevFlags()&^(EV_ONESHOT|EV_CLEAR|EV_DISPATCH) != 0 { // §B
			return nil, unix.EINVAL
		}
		if j.kq = k.kqueueLocked(c.sigKqueue()); j.kq == nil { // §B: not a kqueue, or closing
			return nil, unix.EBADF
		}
		k.checkCloexecLocked(j.kq)
	}
	bio := bioTakes(f, j, k.maxBufAIO)
	if !bio && !k.safeLocked(f) && !k.enableUnsafe { // §F.1, §F.4
		return nil, unix.EOPNOTSUPP
	}
	var bufs int
	if bio { // aio_qbio: pbufs of mapped I/O count against max_buf_aio (§D)
		if bufs = k.bioBufs(j); bufs > 0 && k.bufCount+bufs > k.maxBufAIO {
			return nil, unix.EAGAIN
		}
	}
	j.noBio = bio && op&LIO_VECTORED != 0 && len(j.iov) == 0
	j.stream = f.kind != unix.S_IFREG && f.kind != unix.S_IFDIR && f.kind != unix.S_IFBLK
	file, err := holdFile(j.fd) // §F: the job's own reference
	if err != nil {
		return nil, err.(syscall.Errno)
	}
	j.file, j.id = file, f.id
	j.bufs = bufs
	k.bufCount += bufs
	return j, 0
}

// storesKernelinfo tells whether aio_aqueue writes the aiocb's kernelinfo
// word (store_kernelinfo): 13.x and 14.x do, -1 at once and the job's
// reference id once its descriptor has passed the checks; the main branch
// of 2025, which 15 is played as, does not.
func (k *Kernel) storesKernelinfo() bool { return k.cfg.Osreldate < Osreldate15 }

// holdFile is the job's reference to the file of fd (fget's fhold, §F). On
// the host it is a descriptor, dup'ed from holdBase up, so that it takes
// none of the low numbers the program's opens get: FreeBSD's reference is
// no descriptor at all. The base is half the descriptor limit, but at most
// holdBaseMax: the kernel grows the process's descriptor table, for good,
// to hold the number, and a limit of 2^30 (common in containers) would
// make half of it a table of 4 GiB.
func holdFile(fd int) (int, error) {
	holdOnce.Do(func() {
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur >= 64 {
			holdBase = int(min(lim.Cur/2, holdBaseMax))
		}
	})
	if holdBase > 0 {
		if file, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, holdBase); err == nil {
			return file, nil
		}
	}
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

var (
	holdOnce sync.Once
	holdBase int // the lowest number holdFile tries, 0 if the limit is unknown
)

// holdBaseMax bounds holdBase: a descriptor table of 8192 slots (64 KiB).
const holdBaseMax = 4096

// listOpcode is aio_aqueue's opcode switch for lio_listio entries (§B):
// LIO_READV and LIO_WRITEV only from 14.0 on.
func (k *Kernel) listOpcode(op int) bool {
	switch op {
	case LIO_NOP, LIO_READ, LIO_WRITE:
		return true
	case LIO_READV, LIO_WRITEV:
		return k.cfg.Osreldate >= Osreldate14
	}
	return false
}

// copiesIov is aiocb_copyin's test (§A.2, §B): the iovec array is copied in
// for aio_readv and aio_writev, and for a list entry whose opcode has
// LIO_VECTORED only from 14.0 on (13.x's copies nothing for lists).
func (k *Kernel) copiesIov(op, entryOp int) bool {
	if op == LIO_NOP && k.cfg.Osreldate >= Osreldate14 {
		op = entryOp
	}
	return op&LIO_VECTORED != 0
}

// fileInfo is what submission learns of a descriptor's file.
type fileInfo struct {
	kind   uint32 // S_IFREG, S_IFIFO, ...
	id     fileID
	sector int // a disk's sector size (bo_bsize), 0 for other files
}

// fileID names a file across descriptors: its device and inode.
type fileID struct{ dev, ino uint64 }

// checkFile is fget_read/fget_write/fget (§F.5): the descriptor must be open,
// not O_PATH, and open for the direction of op. A sync needs a vnode (§E),
// which pipes and sockets lack.
func checkFile(fd, op int) (fileInfo, syscall.Errno) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_PATH != 0 {
		return fileInfo{}, unix.EBADF
	}
	acc := fl & unix.O_ACCMODE
	switch op {
	case LIO_READ, LIO_READV:
		if acc == unix.O_WRONLY {
			return fileInfo{}, unix.EBADF
		}
	case LIO_WRITE, LIO_WRITEV:
		if acc == unix.O_RDONLY {
			return fileInfo{}, unix.EBADF
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileInfo{}, unix.EBADF
	}
	f := fileInfo{kind: st.Mode & unix.S_IFMT, id: fileID{uint64(st.Dev), st.Ino}}
	if isDisk(f.kind) {
		f.sector = sectorSize(fd)
	}
	if (op == LIO_SYNC || op == LIO_DSYNC) && (f.kind == unix.S_IFSOCK || isPipe(fd, f.kind)) { // §E: no vnode
		return fileInfo{}, unix.EINVAL
	}
	return f, 0
}

// isPipe tells an anonymous pipe (no vnode on FreeBSD) from a FIFO (a vnode
// on some file system); Linux reports S_IFIFO for both.
func isPipe(fd int, kind uint32) bool {
	if kind != unix.S_IFIFO {
		return false
	}
	var fs unix.Statfs_t
	return unix.Fstatfs(fd, &fs) == nil && fs.Type == unix.PIPEFS_MAGIC
}

// copyinIovLocked copies the iovec array in (§A.2, copyinuio): the user may
// reuse it once the call returns, not the buffers it names.
func (k *Kernel) copyinIovLocked(ucb unsafe.Pointer, j *job) syscall.Errno {
	n := j.kcb.nbytes()
	if n > IOV_MAX { // §F.5
		return unix.EINVAL
	}
	if n == 0 {
		return 0
	}
	p := loadPtr(ucb, offBuf)
	if p == nil {
		return unix.EFAULT
	}
	size := uintptr(n) * iovecSize
	k.checkPinnedLocked(uintptr(p), size, "iovec array %#x of aiocb %#x at submission", uintptr(p), j.uaddr)
	j.iov = copyin(p, int(size))
	var total uint64
	for i := range int(n) {
		l := ne.Uint64(j.iov[i*iovecSize+8:])
		if total += l; l > ssizeMax || total > ssizeMax {
			return unix.EINVAL
		}
	}
	return 0
}

// enqueueLocked makes the admitted job known (kaio_all, kaio_count), attaches
// its knote (§A, §B) and hands it to the workers, or parks an fsync behind
// the earlier jobs on its open file (§E).
func (k *Kernel) enqueueLocked(j *job, lj *lioJob) {
	k.seq++
	j.seq = k.seq
	k.jobs[j.uaddr] = append(k.jobs[j.uaddr], j)
	k.njobs++
	k.cfg.System.add(1)
	if j.kq != nil {
		if j.kn = j.kq.registerAIO(j); j.kn == nil {
			k.wakeLocked() // the old knote it found may have an event again
		}
		k.stats.KnoteFlags[j.kcb.kevFlags()]++
	}
	if lj != nil {
		j.lio = lj
		lj.count++
	}
	if j.isSync() {
		for _, list := range k.jobs {
			for _, o := range list {
				if !o.isSync() && o.state != done && o.seq < j.seq && sameOpenFile(o, j) {
					o.syncs = append(o.syncs, j)
					j.pending++
				}
			}
		}
		if j.pending > 0 {
			j.state = parked
			return
		}
	}
	if j.noBio { // aio_qbio issued no bio: nothing ever completes the job
		j.state = running
		return
	}
	j.state = queued
	k.queue = append(k.queue, j)
	k.work.Signal()
}

// checkPinnedLocked records a violation unless [addr, addr+n) is pinned
// through internal/pin (accurate under the fbsdmodel build only), and
// reports whether it is.
func (k *Kernel) checkPinnedLocked(addr, n uintptr, what string, args ...any) bool {
	if n == 0 || pin.Covers(addr, n) {
		return true
	}
	k.violateLocked("unpinned memory: "+what+" (%d bytes)", append(args, n)...)
	return false
}

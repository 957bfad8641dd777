//go:build linux

package fbsdmodel

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WriteStop is how a file system answers a write that crosses the point
// StopWritesAt set on its file: VOP_WRITE's answer, which aio_process_rw
// then turns into the job's result.
type WriteStop int

const (
	// StopShort is ZFS's answer (zfs_write): the bytes before the point
	// are written and the write succeeds short. A write that moves
	// nothing fails with the errno.
	StopShort WriteStop = iota
	// StopUndo is UFS's (ffs_write under vn_write's IO_UNIT): the write
	// is undone, the file cut back to its size before it and the uio
	// restored, and it fails with the errno, nothing moved.
	StopUndo
	// StopFail is a VOP_WRITE that fails with the errno after writing the
	// bytes before the point (the uio advanced, nothing undone).
	// aio_process_rw keeps the error, and drops the count, unless the
	// errno is EINTR or EWOULDBLOCK (or ERESTART) and some bytes moved:
	// then the job reports the count and no error.
	StopFail
)

// writeStop is one file's StopWritesAt.
type writeStop struct {
	size  int64
	how   WriteStop
	errno syscall.Errno
}

// StopWritesAt makes the jobs' writes to the regular file open on fd (by
// any descriptor) stop at byte size, answered as how says with errno:
// ENOSPC plays the file's device full at that size. Writes that end at or
// before size are not touched; a read never is. errno 0 ends it.
func (k *Kernel) StopWritesAt(fd int, size int64, how WriteStop, errno syscall.Errno) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	id := fileID{uint64(st.Dev), st.Ino}
	k.mu.Lock()
	defer k.mu.Unlock()
	if errno == 0 {
		delete(k.stops, id)
		return nil
	}
	k.stops[id] = writeStop{size, how, errno}
	return nil
}

// stopLocked returns the write stop j runs into, nil if none.
func (k *Kernel) stopLocked(j *job) *writeStop {
	if j.stream || (j.op != LIO_WRITE && j.op != LIO_WRITEV) {
		return nil
	}
	s, ok := k.stops[j.id]
	if !ok {
		return nil
	}
	return &s
}

// runStopped is run for a write that may cross s: fo_write as the file
// system answers (WriteStop), then aio_process_rw's rule for an error
// after some bytes moved.
func (j *job) runStopped(s *writeStop) (int64, syscall.Errno) {
	off := j.kcb.offset()
	var total uint64
	iov := j.iov
	if j.op == LIO_WRITE {
		total = j.kcb.nbytes()
	} else {
		for i := 0; i < len(iov); i += iovecSize {
			total += ne.Uint64(iov[i+8:])
		}
	}
	if off+int64(total) <= s.size {
		return j.run(0)
	}
	var st unix.Stat_t
	if err := unix.Fstat(j.file, &st); err != nil {
		return -1, err.(syscall.Errno)
	}
	fit := uint64(max(s.size-off, 0))
	var moved int64
	if fit > 0 {
		var r uintptr
		var e syscall.Errno
		if j.op == LIO_WRITE {
			r, _, e = unix.Syscall6(unix.SYS_PWRITE64, uintptr(j.file), j.kcb.buf(), uintptr(fit), uintptr(off), 0, 0)
		} else {
			clipped := append([]byte(nil), iov...) // the iovecs up to the point
			left, n := fit, 0
			for i := 0; i < len(clipped) && left > 0; i += iovecSize {
				l := min(ne.Uint64(clipped[i+8:]), left)
				ne.PutUint64(clipped[i+8:], l)
				left -= l
				n++
			}
			r, _, e = unix.Syscall6(unix.SYS_PWRITEV, uintptr(j.file), uintptr(unsafe.Pointer(unsafe.SliceData(clipped))), uintptr(n), uintptr(off), 0, 0)
		}
		if e != 0 {
			return -1, e
		}
		moved = int64(r)
	}
	switch s.how {
	case StopShort:
		if moved > 0 {
			return moved, 0
		}
	case StopUndo:
		if err := unix.Ftruncate(j.file, st.Size); err != nil {
			return -1, err.(syscall.Errno)
		}
	case StopFail:
		if moved > 0 && (s.errno == unix.EINTR || s.errno == unix.EWOULDBLOCK) {
			return moved, 0
		}
	}
	return -1, s.errno
}

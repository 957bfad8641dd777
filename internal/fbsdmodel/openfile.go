//go:build linux

package fbsdmodel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// kcmpFile is kcmp(2)'s KCMP_FILE: whether two descriptors of the same
// process share one open file description.
const kcmpFile = 0

var (
	kcmpOnce sync.Once
	kcmpOK   bool // kcmp(KCMP_FILE) works here (it may be missing or filtered)
)

// sameOpenFile is aio_queue_file's job2->fd_file == job->fd_file (§E): the
// two jobs were submitted on one open file (a descriptor and its dups, not
// two opens of one path). Each job's own descriptor, dup'ed at submission,
// shares the description its aiocb named then. Where kcmp is unavailable it
// falls back to the same descriptor number on the same file.
func sameOpenFile(a, b *job) bool {
	if !kcmpWorks() {
		return a.fd == b.fd && a.id == b.id
	}
	pid := uintptr(unix.Getpid())
	r, _, e := unix.Syscall6(unix.SYS_KCMP, pid, pid, kcmpFile, uintptr(a.file), uintptr(b.file), 0)
	return e == 0 && r == 0
}

// kcmpWorks reports whether kcmp(KCMP_FILE) is served here.
func kcmpWorks() bool {
	kcmpOnce.Do(func() {
		pid := uintptr(unix.Getpid())
		_, _, e := unix.Syscall6(unix.SYS_KCMP, pid, pid, kcmpFile, 0, 0, 0)
		kcmpOK = e == 0 || e == unix.EBADF
	})
	return kcmpOK
}

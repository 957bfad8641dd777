package aio

// The routing rule: which engine serves a request asynchronously, decided
// from its file's class alone (one place, with a table test).

// kernelAIO names a kernel AIO interface this package drives.
type kernelAIO uint8

const (
	linuxAIO   kernelAIO = iota + 1 // io_submit: asynchronous only with O_DIRECT
	freebsdAIO                      // POSIX AIO: refuses what it cannot serve
)

// kernelServes reports whether k serves requests on a file of class c
// asynchronously, so that DefaultBackend gives them to the kernel:
//   - Linux performs a buffered read or write inside io_submit, and blocks
//     in it on a pipe, socket or character device until data comes: only
//     regular files and block devices opened with O_DIRECT are served.
//   - FreeBSD serves regular files on local mounts and disks, and refuses
//     the rest with EOPNOTSUPP (NFS, SMB, FUSE; pipes, FIFOs and ttys unless
//     vfs.aio.enable_unsafe is set): a file it refused once is marked, and
//     goes to goroutines from then on. Sockets and character devices go to
//     goroutines, which wait for a socket in Go's poller.
//
// Directories and files of unknown kind go to goroutines, which report
// what the system calls say of them.
func kernelServes(k kernelAIO, c fileClass) bool {
	file := (c.kind == kindRegular || c.kind == kindBlock) && !c.refused
	switch k {
	case linuxAIO:
		return file && c.direct
	case freebsdAIO:
		return file
	}
	return false
}

// linuxSubmitBlocks reports whether io_submit would block on a request on
// a file of class c until data comes, so that KernelBackend must not give
// it to the kernel.
func linuxSubmitBlocks(c fileClass) bool { return c.stream() }

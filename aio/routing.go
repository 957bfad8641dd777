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
//   - FreeBSD serves regular files on local mounts and disks (character
//     devices there), and refuses the rest with EOPNOTSUPP (NFS, SMB, FUSE;
//     pipes, FIFOs and ttys unless vfs.aio.enable_unsafe is set): a file it
//     refused once is marked, and goes to goroutines from then on (a disk
//     only once a request every disk takes was refused). Streams
//     (pipes, sockets, terminals) go to goroutines, which wait for them in
//     Go's poller.
//
// Directories and files of unknown kind go to goroutines, which report
// what the system calls say of them.
func kernelServes(k kernelAIO, c *fileClass) bool {
	if c.refused {
		return false
	}
	switch k {
	case linuxAIO:
		return (c.kind == kindRegular || c.kind == kindBlock) && c.direct
	case freebsdAIO:
		return c.kind == kindRegular || c.kind == kindBlock || c.kind == kindChar
	}
	return false
}

// linuxSubmitBlocks reports whether io_submit may block on a request on a
// file of class c until data comes, so that KernelBackend must not give it
// to the kernel: streams (files with no type in their mode, such as an
// eventfd or a timerfd, among them) and character devices, which may be
// anything.
func linuxSubmitBlocks(c *fileClass) bool {
	return c.stream() || c.kind == kindChar
}

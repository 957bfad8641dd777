package aio

// fileClass is what routing needs to know of a request's file, learned
// once per request and file (classify) when Submit first reads the
// descriptor.
type fileClass struct {
	known    bool
	kind     fileKind
	direct   bool   // opened with O_DIRECT (Linux, FreeBSD)
	refused  bool   // the kernel's AIO refused it (FreeBSD EOPNOTSUPP)
	noInline bool   // its filesystem refused reads that do not wait (runInline)
	noNowait bool   // its filesystem refused kernel AIO writes that do not wait (Linux RWF_NOWAIT: tmpfs)
	access   uint8  // the open's access mode (O_ACCMODE bits), where the system tells
	dev      uint64 // device and inode, to remember files the kernel refused
	ino      uint64
}

type fileKind uint8

const (
	kindOther    fileKind = iota // unknown, or a kind not listed here
	kindRegular                  // a regular file
	kindBlock                    // a block device (Linux disks)
	kindChar                     // a character device that is not a terminal (FreeBSD disks)
	kindTerminal                 // a terminal
	kindPipe                     // a pipe or FIFO
	kindSocket                   // a socket
	kindDir                      // a directory
	kindAnon                     // no type in its mode: an eventfd, timerfd, signalfd, epoll
)

// stream reports whether the file has no positions, so reads and writes
// ignore the offset (and positional calls fail with ESPIPE). A file of no
// type (an eventfd, a timerfd) is read and written as a stream: read(2)
// waits for its counter as for a pipe's data.
func (c *fileClass) stream() bool { return c.kind.isStream() }

// waitsWithoutEnd reports whether a read or write of the file may wait
// without end for something other than a device: data from a peer (a
// stream), or, on Linux, whatever a character device waits for (one may
// be anything: /dev/kmsg at its end waits in pread for the kernel's next
// message; Linux's disks are block devices). The goroutine engine does
// not count a worker waiting on one against its pool.
func (c *fileClass) waitsWithoutEnd() bool {
	return c.stream() || charDevicesWait && c.kind == kindChar
}

func (k fileKind) isStream() bool {
	return k == kindPipe || k == kindSocket || k == kindTerminal || k == kindAnon
}

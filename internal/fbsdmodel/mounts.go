//go:build linux

package fbsdmodel

import "golang.org/x/sys/unix"

// SetNonLocal puts the file open on descriptor fd (every descriptor of it:
// the mark is by device and inode) on a non-local mount when on is true, or
// back on a local one. AIO on a regular file or directory of a non-local
// mount is unsafe (§F.4). A descriptor that is not open is EBADF.
func (k *Kernel) SetNonLocal(fd int, on bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return unix.EBADF
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	id := fileID{uint64(st.Dev), st.Ino}
	if on {
		k.nonLocal[id] = true
	} else {
		delete(k.nonLocal, id)
	}
	return nil
}

// safeLocked is aio_queue_file's test (§F.3, §F.4): only regular files and
// directories on local mounts are safe. Pipes, FIFOs, ttys and other
// character devices are not, nor are disks (disk.go) for what the bio path
// does not take. Sockets, which FreeBSD serves through their own backend,
// are not modelled and count as unsafe too.
func (k *Kernel) safeLocked(f fileInfo) bool {
	if f.kind != unix.S_IFREG && f.kind != unix.S_IFDIR {
		return false
	}
	return !k.cfg.NonLocal && !k.nonLocal[f.id]
}

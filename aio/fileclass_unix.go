//go:build unix

package aio

import "golang.org/x/sys/unix"

// classify learns the class of the file open as fd.
func classify(fd uintptr) fileClass {
	var st unix.Stat_t
	if unix.Fstat(int(fd), &st) != nil {
		return fileClass{known: true}
	}
	c := fileClass{known: true, dev: uint64(st.Dev), ino: uint64(st.Ino)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		c.kind = kindRegular
	case unix.S_IFBLK:
		c.kind = kindBlock
	case unix.S_IFCHR:
		c.kind = kindChar
		if isTerminal(int(fd)) {
			c.kind = kindTerminal
		}
	case unix.S_IFIFO:
		c.kind = kindPipe
	case unix.S_IFSOCK:
		c.kind = kindSocket
	case unix.S_IFDIR:
		c.kind = kindDir
	case 0:
		c.kind = kindAnon
	}
	if fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0); err == nil {
		c.direct = fl&oDirect != 0
		c.access = uint8(fl & unix.O_ACCMODE)
	}
	c.refused = refusedBefore(c)
	c.noInline = noInlineBefore(c)
	c.noNowait = noNowaitBefore(c)
	return c
}

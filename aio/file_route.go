package aio

import "os"

// routeOS names the rule that decides, per file, whether a File's calls go
// to an engine or run the system call in the caller's goroutine. It is the
// kind of kernel AIO the build's DefaultBackend drives (file_route_*.go).
type routeOS int

const (
	routePortable routeOS = iota // no kernel AIO: goroutines would only add hops
	routeLinux                   // kernel AIO, asynchronous only for O_DIRECT
	routeFreeBSD                 // POSIX AIO, asynchronous for local files and disks
)

// fileKind is what a descriptor refers to, as far as routing cares.
type fileKind int

const (
	kindRegular fileKind = iota
	kindBlock            // a block device (Linux disks)
	kindChar             // a character device that is not a terminal (FreeBSD disks)
	kindTerminal
	kindPipe
	kindSocket
	kindDir
	kindOther
)

// kindOf classifies a file mode; tty says the descriptor is a terminal.
func kindOf(mode os.FileMode, tty bool) fileKind {
	switch {
	case mode.IsRegular():
		return kindRegular
	case mode.IsDir():
		return kindDir
	case mode&os.ModeNamedPipe != 0:
		return kindPipe
	case mode&os.ModeSocket != 0:
		return kindSocket
	case mode&os.ModeCharDevice != 0 && tty:
		return kindTerminal
	case mode&os.ModeCharDevice != 0:
		return kindChar
	case mode&os.ModeDevice != 0:
		return kindBlock
	}
	return kindOther
}

// isStream reports a kind without positions: pread on it is an error, as
// (*os.File).ReadAt reports, so no engine has anything to do with it.
func (k fileKind) isStream() bool {
	return k == kindPipe || k == kindSocket || k == kindTerminal
}

// useEngine decides whether calls on a file of kind k go to an engine
// (true) or run pread/pwrite in the caller's goroutine (false). direct
// says the file is open with O_DIRECT; explicit says the File was given its
// own Engine, which then serves every file that has positions.
//
//   - Linux: kernel AIO is asynchronous only with O_DIRECT; a buffered
//     request runs inside io_submit, where it costs more than pread.
//   - FreeBSD: POSIX AIO serves local files and disks asynchronously, with
//     or without O_DIRECT.
//   - elsewhere the engine is goroutines doing pread, so the caller's own
//     goroutine is the better one.
//
// Streams and directories always run directly.
func useEngine(os routeOS, k fileKind, direct, explicit bool) bool {
	switch {
	case k.isStream() || k == kindDir || k == kindOther:
		return false
	case explicit:
		return true
	}
	switch os {
	case routeLinux:
		return direct && (k == kindRegular || k == kindBlock)
	case routeFreeBSD:
		return true
	}
	return false
}

package aio

import "os"

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

// useEngine decides whether a File's calls on a file of class c go to an
// engine (true) or run pread/pwrite in the caller's goroutine (false).
// They go to the engine where the kernel's AIO k serves the file
// asynchronously (kernelServes, the rule DefaultBackend routes by), and for
// every file with positions when the File was given its own Engine
// (explicit). Elsewhere the engine would be goroutines doing pread (a
// buffered file on Linux, any file where the system has no kernel AIO),
// and the caller's own goroutine is the faster one. Streams, directories
// and files with no type in their mode (an eventfd) always run directly,
// with os.File's semantics.
func useEngine(k kernelAIO, c fileClass, explicit bool) bool {
	switch {
	case c.stream() || c.kind == kindDir || c.kind == kindOther:
		return false
	case explicit:
		return true
	}
	return kernelServes(k, &c)
}

//go:build unix && !((freebsd || linux) && (amd64 || arm64))

package aio

// refusedBefore: where no kernel AIO runs, none has refused a file.
func refusedBefore(fileClass) bool { return false }

//go:build unix && !((freebsd || linux) && (amd64 || arm64))

package aio

// refusedBefore: where no kernel AIO runs, none has refused a file.
func refusedBefore(fileClass) bool { return false }

// noNowaitBefore: nor a write that must not wait.
func noNowaitBefore(fileClass) bool { return false }

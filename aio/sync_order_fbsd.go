//go:build freebsd || (linux && fbsdmodel)

package aio

// orderedSyncs: FreeBSD's aio_fsync starts only once the jobs queued
// before it on its file are done, and PrepareFlush promises that on
// FreeBSD whichever engine serves the file; the goroutine engine keeps
// that order too (sync_order.go).
const orderedSyncs = true

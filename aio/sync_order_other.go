//go:build !freebsd && !(linux && fbsdmodel)

package aio

// orderedSyncs: elsewhere the caller orders a sync after the requests it
// covers (PrepareFlush), and the goroutine engine keeps no order.
const orderedSyncs = false

//go:build unix && !linux && !freebsd

package aio

// oDirect is 0 where open has no O_DIRECT flag.
const oDirect = 0

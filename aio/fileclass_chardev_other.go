//go:build !linux

package aio

// charDevicesWait: elsewhere character devices are also the disks (FreeBSD,
// and the raw disks of the other BSDs and darwin), whose workers the pool
// bounds.
const charDevicesWait = false

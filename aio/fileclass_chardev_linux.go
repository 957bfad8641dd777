//go:build linux

package aio

// charDevicesWait: a character device may be anything here, and may wait
// without end (disks are block devices).
const charDevicesWait = true

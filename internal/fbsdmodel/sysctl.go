//go:build linux

package fbsdmodel

import "golang.org/x/sys/unix"

// SysctlUint32 reads the AIO sysctls the model has (§D): the queue limit
// under both of its names, vfs.aio.max_aio_per_proc (32) and
// vfs.aio.num_queue_count (the jobs the kernel knows). Any other name is
// ENOENT.
func (k *Kernel) SysctlUint32(name string) (uint32, error) {
	switch name {
	case "vfs.aio.max_aio_queue_per_proc", "p1003_1b.aio_listio_max":
		return uint32(k.cfg.MaxQueuePerProc), nil
	case "vfs.aio.max_aio_per_proc":
		return maxAIO, nil
	case "vfs.aio.num_queue_count":
		return uint32(k.Outstanding()), nil
	}
	return 0, unix.ENOENT
}

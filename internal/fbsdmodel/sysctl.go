//go:build linux

package fbsdmodel

import "golang.org/x/sys/unix"

// SysctlUint32 reads the sysctls the model has (§D, §H): the per-process
// queue limit under both of its names, vfs.aio.max_aio_per_proc,
// vfs.aio.max_aio_queue and vfs.aio.num_queue_count (system-wide),
// vfs.aio.enable_unsafe, vfs.aio.max_buf_aio and vfs.aio.num_buf_aio (the
// process's pbufs of bio jobs in flight, one process here), and
// kern.osreldate. Any other name is ENOENT.
func (k *Kernel) SysctlUint32(name string) (uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch name {
	case "vfs.aio.max_aio_queue_per_proc", "p1003_1b.aio_listio_max":
		return uint32(k.maxQueuePerProc), nil
	case "vfs.aio.max_aio_per_proc":
		return uint32(k.maxAIOPerProc), nil
	case "vfs.aio.max_aio_queue":
		return uint32(k.cfg.System.limit()), nil
	case "vfs.aio.num_queue_count":
		return uint32(k.cfg.System.Queued()), nil
	case "vfs.aio.enable_unsafe":
		if k.enableUnsafe {
			return 1, nil
		}
		return 0, nil
	case "vfs.aio.max_buf_aio":
		return uint32(k.maxBufAIO), nil
	case "vfs.aio.num_buf_aio":
		return uint32(k.bufCount), nil
	case "kern.osreldate":
		return uint32(k.cfg.Osreldate), nil
	}
	return 0, unix.ENOENT
}

// SetSysctl changes a read-write AIO sysctl at run time, as root's
// sysctl(8) would: vfs.aio.max_aio_queue_per_proc (which is also
// p1003_1b.aio_listio_max, read-only under that name: EPERM),
// vfs.aio.max_aio_per_proc, vfs.aio.max_aio_queue (for every Kernel of the
// System), vfs.aio.enable_unsafe and vfs.aio.max_buf_aio (which also bounds
// the iovecs of a bio job, §F.1). Jobs already queued stay queued. Other
// names are ENOENT.
func (k *Kernel) SetSysctl(name string, v uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch name {
	case "vfs.aio.max_aio_queue_per_proc":
		k.maxQueuePerProc = int(v)
	case "vfs.aio.max_aio_per_proc":
		k.maxAIOPerProc = int(v)
		k.work.Broadcast()
	case "vfs.aio.max_aio_queue":
		k.cfg.System.setMaxQueue(int(v))
	case "vfs.aio.enable_unsafe":
		k.enableUnsafe = v != 0
	case "vfs.aio.max_buf_aio":
		k.maxBufAIO = int(v)
	case "p1003_1b.aio_listio_max", "vfs.aio.num_queue_count", "vfs.aio.num_buf_aio", "kern.osreldate":
		return unix.EPERM
	default:
		return unix.ENOENT
	}
	return nil
}

// Osreldate is the sysctl kern.osreldate (§H): the release the model plays.
func (k *Kernel) Osreldate() int { return k.cfg.Osreldate }

// System returns the machine the Kernel shares its system-wide limit with.
func (k *Kernel) System() *System { return k.cfg.System }

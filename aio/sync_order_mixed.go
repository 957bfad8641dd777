//go:build (freebsd || linux) && (amd64 || arm64)

package aio

import "syscall"

// kernelOrdered reports whether r, taken by the kernel's AIO, is counted in
// the goroutine engine's order too: a request on a device, whose syncs
// FreeBSD refuses (a disk's bio path takes reads and writes only) and
// goroutines serve, so that such a sync waits for the kernel's requests
// before it.
func kernelOrdered(r *Request) bool { return r.class.kind == kindChar || r.class.kind == kindBlock }

// orderKernel counts the requests of run the kernel took (res 0) on
// devices (kernelOrdered); the engine's finished counts them out when
// their events come.
func (b *portableBackend) orderKernel(run []*Request, res []syscall.Errno) {
	locked := false
	for i, r := range run {
		if res[i] != 0 || !kernelOrdered(r) || r.pj.ordered {
			continue
		}
		if !locked {
			b.mu.Lock()
			locked = true
		}
		b.order.add(r)
	}
	if locked {
		b.mu.Unlock()
	}
}

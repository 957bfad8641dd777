package aio

// fallbackBackend is a backend that a DefaultBackend context runs on in
// place of the kernel's AIO; fallbackReason says why.
type fallbackBackend interface{ fallbackReason() error }

// KernelError reports why a DefaultBackend context does not drive the
// kernel's AIO. It is nil when the context drives the kernel interface it
// asked for: every PortableBackend and KernelBackend context, and a
// DefaultBackend one whose Kernel is "linux-aio" or "freebsd-aio". For a
// DefaultBackend context that fell back to goroutines alone (Kernel
// "portable") it is the error that made it fall back, which matches
// ErrNotSupported and keeps the kernel's errno where there was one:
// syscall.ENOSYS where the kernel has no AIO (CONFIG_AIO=n, qemu-user,
// gVisor), syscall.EPERM where a seccomp filter refuses io_setup.
func (c *Context) KernelError() error {
	if c == nil {
		return nilReceiver("kernel error", "Context")
	}
	if f, ok := c.be.(fallbackBackend); ok {
		return f.fallbackReason()
	}
	return nil
}

//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

// thisKernel is the kernel AIO DefaultBackend drives here: none.
const thisKernel kernelAIO = 0

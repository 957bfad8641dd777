//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

// thisKernel is the kernel AIO DefaultBackend drives here.
const thisKernel kernelAIO = freebsdAIO

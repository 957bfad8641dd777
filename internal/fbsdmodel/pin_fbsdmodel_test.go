//go:build linux && fbsdmodel

package fbsdmodel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Under the fbsdmodel build internal/pin records pinned regions, and the
// kernel reports every touch of user memory outside them.
func TestUnpinnedMemory(t *testing.T) {
	cases := []struct {
		name   string
		submit func(e *env) *aiocb
		want   string
		errno  unix.Errno // the job's outcome
	}{
		{"aiocb", func(e *env) *aiocb {
			buf := e.buf(8)
			cb := &aiocb{fildes: int32(e.fd), buf: unsafe.Pointer(&buf[0]), nbytes: 8}
			e.submit(e.k.AioRead, cb)
			return cb
		}, "unpinned memory: aiocb", 0},
		{"buffer", func(e *env) *aiocb {
			cb := e.cb(e.fd, 0, nil, 0)
			buf := make([]byte, 8)
			cb.buf, cb.nbytes = unsafe.Pointer(&buf[0]), 8
			e.submit(e.k.AioRead, cb)
			return cb
		}, "unpinned memory: buffer", unix.EFAULT},
		{"iovec array", func(e *env) *aiocb {
			buf := e.buf(8)
			iov := []iovec{{unsafe.Pointer(&buf[0]), 8}}
			cb := e.cb(e.fd, 0, nil, 0)
			cb.buf, cb.nbytes = unsafe.Pointer(&iov[0]), 1
			e.submit(e.k.AioReadv, cb)
			return cb
		}, "unpinned memory: iovec array", 0},
		{"pinned", func(e *env) *aiocb { return e.cb(e.fd, 0, e.buf(8), 0) }, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			cb := c.submit(e)
			if c.want == "" {
				e.submit(e.k.AioRead, cb)
			}
			if v := e.finish(cb); v != int(c.errno) {
				t.Fatalf("aio_error = %d, want %d", v, c.errno)
			}
			if c.want == "" {
				e.noViolations()
			} else {
				e.wantViolation(c.want)
			}
			e.k.AioReturn(unsafe.Pointer(cb))
		})
	}
}

//go:build unix && !(darwin || linux || openbsd)

package aio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Where x/sys/unix has no preadv/pwritev, a vectored call on the direct
// path is pread/pwrite buffer by buffer, stopping at the first short one:
// the same bytes and count as one preadv/pwritev.

func readvOnce(f *File, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := retryEINTR(func() (int, error) { return unix.Pread(f.fd, b, off+int64(total)) })
		total += n
		if err != nil || n < len(b) {
			return partial(total, err)
		}
	}
	return total, nil
}

func writevOnce(f *File, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := retryEINTR(func() (int, error) { return unix.Pwrite(f.fd, b, off+int64(total)) })
		total += n
		if err != nil || n < len(b) {
			return partial(total, err)
		}
	}
	return total, nil
}

func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// partial is what one vectored call reports after a short or failed
// buffer: the bytes so far if there are any (the error comes back on the
// next call), else the error.
func partial(total int, err error) (int, error) {
	if total > 0 {
		return total, nil
	}
	return 0, err
}

//go:build unix && !(darwin || linux || openbsd)

package aio

import "golang.org/x/sys/unix"

// Where x/sys/unix has no preadv/pwritev, a vectored call on the direct
// path is pread/pwrite buffer by buffer, stopping at the first short one:
// the same bytes and count as one preadv/pwritev.

func readvOnce(f *File, bufs [][]byte, off int64) (int, error) {
	return f.withFd(preadEach, bufs, off)
}

func writevOnce(f *File, bufs [][]byte, off int64) (int, error) {
	return f.withFd(pwriteEach, bufs, off)
}

func preadEach(fd int, bufs [][]byte, off int64) (int, error) {
	return eachBuffer(unix.Pread, fd, bufs, off)
}

func pwriteEach(fd int, bufs [][]byte, off int64) (int, error) {
	return eachBuffer(unix.Pwrite, fd, bufs, off)
}

// eachBuffer is call (pread or pwrite) on fd for each buffer in turn.
func eachBuffer(call func(int, []byte, int64) (int, error), fd int, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := retryEINTR(func() (int, error) { return call(fd, b, off+int64(total)) })
		total += n
		if err != nil || n < len(b) {
			return partial(total, err)
		}
	}
	return total, nil
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

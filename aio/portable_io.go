package aio

import "syscall"

// portableIO performs r synchronously and returns the bytes transferred or
// the errno. Short transfers are continued until done or end of file.
func portableIO(r *Request) (int, syscall.Errno) {
	switch r.op {
	case opRead:
		return readFull(r, r.buf, r.off)
	case opWrite:
		return writeFull(r, r.buf, r.off)
	case opReadv:
		return readvFull(r, r.bufs, r.off)
	case opWritev:
		return writevFull(r, r.bufs, r.off)
	case opFlush:
		return 0, fsync(r)
	case opDataSync:
		return 0, fdatasync(r)
	}
	return 0, syscall.EINVAL
}

func readFull(r *Request, buf []byte, off int64) (int, syscall.Errno) {
	done := 0
	for done < len(buf) {
		n, errno := pread(r, buf[done:], off+int64(done))
		if errno != 0 {
			return done, errno
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, 0
}

func writeFull(r *Request, buf []byte, off int64) (int, syscall.Errno) {
	done := 0
	for done < len(buf) {
		n, errno := pwrite(r, buf[done:], off+int64(done))
		if errno != 0 {
			return done, errno
		}
		done += n
	}
	return done, 0
}

// readvFull and writevFull go buffer by buffer; the positional calls make
// the result the same as one preadv/pwritev.
func readvFull(r *Request, bufs [][]byte, off int64) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		n, errno := readFull(r, b, off+int64(total))
		total += n
		if errno != 0 {
			if total > n {
				return total, 0
			}
			return 0, errno
		}
		if n < len(b) {
			break
		}
	}
	return total, 0
}

func writevFull(r *Request, bufs [][]byte, off int64) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		n, errno := writeFull(r, b, off+int64(total))
		total += n
		if errno != 0 {
			if total > n {
				return total, 0
			}
			return 0, errno
		}
	}
	return total, 0
}

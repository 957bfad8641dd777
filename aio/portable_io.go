package aio

import "syscall"

// portableIO performs r synchronously on fd, r's descriptor, and returns
// the bytes transferred or the errno. A transfer that moved bytes reports
// them and no error, as pread and pwrite do; an error comes only with a
// transfer that moved nothing. Short transfers are continued until done,
// the end of the file, a write that moves nothing (reported as pwrite
// reports it: 0 bytes, no error), or an error; on a Linux character
// device (which may be anything, and wait for its data) a request is one
// system call, whose short count is the result, as with kernel AIO. A stream (a pipe, a socket,
// a terminal, a file with no type in its mode such as an eventfd) has no
// positions: its request does one read or write, with the offset ignored,
// as the kernel's AIO does.
func portableIO(r *Request, fd int) (int, syscall.Errno) {
	if r.class.stream() {
		return streamIO(r, fd)
	}
	var (
		n     int
		errno syscall.Errno
	)
	switch r.op {
	case opRead:
		p := r.pj.part // already read by a read that does not wait (runInline)
		n, errno = readFull(r, fd, r.buf[p:], r.off+int64(p))
		n += p
	case opWrite:
		n, errno = writeFull(r, fd, r.buf, r.off)
	case opReadv:
		n, errno = readvFull(r, fd, r.bufs, r.off)
	case opWritev:
		n, errno = writevFull(r, fd, r.bufs, r.off)
	case opFlush:
		return 0, fsync(r, fd)
	case opDataSync:
		return 0, fdatasync(r, fd)
	default:
		return 0, syscall.EINVAL
	}
	if n > 0 {
		errno = 0
	}
	return n, errno
}

// streamIO is one read or write on a stream; a vectored one is one readv
// or writev where the system has them (streamReadv), so that on a message
// socket (SOCK_SEQPACKET, SOCK_DGRAM) a read scatters one whole message
// over the buffers and a write sends them as one message. A sync of a
// stream is what fsync says of it.
func streamIO(r *Request, fd int) (int, syscall.Errno) {
	switch r.op {
	case opRead:
		return streamRead(r, fd, r.buf)
	case opWrite:
		return streamWrite(r, fd, r.buf)
	case opReadv:
		return streamReadv(r, fd, r.bufs)
	case opWritev:
		return streamWritev(r, fd, r.bufs)
	case opFlush:
		return 0, fsync(r, fd)
	case opDataSync:
		return 0, fdatasync(r, fd)
	}
	return 0, syscall.EINVAL
}

func readFull(r *Request, fd int, buf []byte, off int64) (int, syscall.Errno) {
	done := 0
	for done < len(buf) {
		n, errno := pread(r, fd, buf[done:], off+int64(done))
		if errno != 0 {
			return done, errno
		}
		if n == 0 {
			break
		}
		done += n
		if r.class.waitsWithoutEnd() {
			break // a character device: one read, as kernel AIO's, not a wait for more
		}
	}
	return done, 0
}

func writeFull(r *Request, fd int, buf []byte, off int64) (int, syscall.Errno) {
	done := 0
	for done < len(buf) {
		n, errno := pwrite(r, fd, buf[done:], off+int64(done))
		if errno != 0 {
			return done, errno
		}
		if n == 0 {
			break // a device at its end, or a FUSE server: tried again, it would say 0 for ever
		}
		done += n
		if r.class.waitsWithoutEnd() {
			break // a character device: one write, as kernel AIO's
		}
	}
	return done, 0
}

// readvFull and writevFull go buffer by buffer; the positional calls make
// the result the same as one preadv/pwritev. They return the bytes moved
// and the error that stopped them; portableIO drops the error when bytes
// moved.
func readvFull(r *Request, fd int, bufs [][]byte, off int64) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		n, errno := readFull(r, fd, b, off+int64(total))
		total += n
		if errno != 0 || n < len(b) {
			return total, errno
		}
	}
	return total, 0
}

func writevFull(r *Request, fd int, bufs [][]byte, off int64) (int, syscall.Errno) {
	total := 0
	for _, b := range bufs {
		n, errno := writeFull(r, fd, b, off+int64(total))
		total += n
		if errno != 0 {
			return total, errno
		}
	}
	return total, 0
}

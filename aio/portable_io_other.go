//go:build !unix

package aio

import (
	"errors"
	"io"
	"syscall"
)

// Without Unix system calls the portable backend goes through *os.File.

func pread(r *Request, _ int, b []byte, off int64) (int, syscall.Errno) {
	n, err := r.file.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, errnoOf(err)
}

func pwrite(r *Request, _ int, b []byte, off int64) (int, syscall.Errno) {
	n, err := r.file.WriteAt(b, off)
	return n, errnoOf(err)
}

func streamRead(r *Request, _ int, b []byte) (int, syscall.Errno) {
	n, err := r.file.Read(b)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, errnoOf(err)
}

func streamWrite(r *Request, _ int, b []byte) (int, syscall.Errno) {
	n, err := r.file.Write(b)
	return n, errnoOf(err)
}

func fsync(r *Request, _ int) syscall.Errno { return errnoOf(r.file.Sync()) }

func fdatasync(r *Request, fd int) syscall.Errno { return fsync(r, fd) }

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

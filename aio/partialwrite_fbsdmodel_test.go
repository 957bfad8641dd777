//go:build linux && fbsdmodel

package aio

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
)

// A write that crosses the point where its file's device is full reports
// what FreeBSD's kernel reports for it, which depends on the file system
// (aio_process_rw keeps an error that came after some bytes moved, unless
// it is EINTR or EWOULDBLOCK, and then drops the count): ZFS writes what
// fits and succeeds short, so Result is the count and no error, as on
// Linux, and the write at the point then fails; UFS undoes the write, so
// Result is ENOSPC with 0 bytes and the file is as before; a file system
// that fails after writing some bytes and undoes nothing gives the error
// alone, so Result is ENOSPC with 0 bytes, the bytes written being on the
// disk; EINTR there gives the count. File.WriteAt, which finishes short
// writes, returns the bytes the kernel reported and the error.
func TestKqueuePartialWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		how     fbsdmodel.WriteStop
		errno   syscall.Errno
		wantN   int
		wantErr syscall.Errno
		size    int64 // the file's size after the request
		fileN   int   // File.WriteAt's count for the same write (its error: errno)
	}{
		{"ZFS", fbsdmodel.StopShort, syscall.ENOSPC, 1000, 0, 3000, 1000},
		{"UFS", fbsdmodel.StopUndo, syscall.ENOSPC, 0, syscall.ENOSPC, 2000, 0},
		{"error after bytes moved", fbsdmodel.StopFail, syscall.ENOSPC, 0, syscall.ENOSPC, 3000, 0},
		{"EINTR after bytes moved", fbsdmodel.StopFail, syscall.EINTR, 1000, 0, 3000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kqModel(t)
			c := kqContext(t, Config{})
			f := kqFile(t, 2000)
			if err := k.StopWritesAt(int(f.Fd()), 3000, tc.how, tc.errno); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { k.StopWritesAt(int(f.Fd()), 0, 0, 0) })
			r := NewRequest()
			if err := r.PrepareWritev(f, 2000, [][]byte{bytes.Repeat([]byte{'w'}, 500), bytes.Repeat([]byte{'v'}, 1500)}, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Submit(r); n != 1 || err != nil {
				t.Fatalf("Submit = %d, %v", n, err)
			}
			drain(t, c, 1)
			n, err := r.Result()
			if n != tc.wantN || (tc.wantErr == 0) != (err == nil) || tc.wantErr != 0 && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Result of the write across the full point = %d, %v; want %d, %v", n, err, tc.wantN, partialErr(tc.wantErr))
			}
			if st, err := f.Stat(); err != nil || st.Size() != tc.size {
				t.Fatalf("file size %v, %v; want %d", st.Size(), err, tc.size)
			}
			if tc.wantN > 0 {
				// The rest, at the point, moves nothing: the error.
				if err := r.PrepareWrite(f, 2000+int64(n), bytes.Repeat([]byte{'v'}, 1000), nil); err != nil {
					t.Fatal(err)
				}
				if n, err := c.Submit(r); n != 1 || err != nil {
					t.Fatalf("Submit = %d, %v", n, err)
				}
				drain(t, c, 1)
				if n, err := r.Result(); n != 0 || !errors.Is(err, tc.errno) {
					t.Fatalf("Result of the write at the full point = %d, %v; want 0, %v", n, err, tc.errno)
				}
			}

			if modelRefusesFiles() {
				return
			}
			if err := os.Truncate(f.Name(), 2000); err != nil {
				t.Fatal(err)
			}
			ff, err := OpenFile(f.Name(), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer ff.Close()
			if !ff.async.Load() {
				t.Fatal("the File does not use the engine over the model")
			}
			if n, err := ff.WriteAt(bytes.Repeat([]byte{'x'}, 2000), 2000); n != tc.fileN || !errors.Is(err, tc.errno) {
				t.Fatalf("File.WriteAt across the full point = %d, %v; want %d, %v", n, err, tc.fileN, tc.errno)
			}
		})
	}
}

func partialErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

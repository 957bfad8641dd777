//go:build !unix

package aio

import (
	"errors"
	"io"
)

// Without Unix descriptors, a vectored call on the direct path goes through
// *os.File buffer by buffer, stopping at the first short one.

func readvOnce(f *File, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := f.f.ReadAt(b, off+int64(total))
		total += n
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil || n < len(b) {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
	}
	return total, nil
}

func writevOnce(f *File, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := f.f.WriteAt(b, off+int64(total))
		total += n
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
	}
	return total, nil
}

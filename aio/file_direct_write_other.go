//go:build !unix

package aio

// directWrite is WriteAt in the caller's goroutine, through *os.File.
func (f *File) directWrite(p []byte, off int64) (int, error) {
	return f.f.WriteAt(p, off)
}

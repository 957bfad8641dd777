//go:build !linux

package aio

// dataSyncOnce is a full sync where x/sys/unix offers no fdatasync: correct,
// if slower.
func dataSyncOnce(f *File) error { return f.f.Sync() }

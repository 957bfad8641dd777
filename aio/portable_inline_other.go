//go:build !linux || fbsdmodel

package aio

// canInline: without a read that refuses to wait for a device, every
// request goes to the workers.
func canInline(*Request) bool { return false }

func (r *Request) runInline(uintptr) {}

func noInlineBefore(fileClass) bool { return false }

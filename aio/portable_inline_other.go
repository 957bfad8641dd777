//go:build !linux || fbsdmodel

package aio

// Without a read that refuses to wait for a device, every request goes to
// the workers.
const inlineReads = false

func canInline(*Request) bool { return false }

func (r *Request) runInline(uintptr) {}

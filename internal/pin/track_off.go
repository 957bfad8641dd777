//go:build !fbsdmodel

package pin

import "unsafe"

// tracked records nothing outside the fbsdmodel build.
type tracked struct{}

func (*tracked) add(unsafe.Pointer, uintptr) {}
func (*tracked) clear()                      {}

// Covers reports whether [addr, addr+n) lies inside memory pinned through
// this package. Only the fbsdmodel build records regions; elsewhere it
// always reports true.
func Covers(addr, n uintptr) bool { return true }

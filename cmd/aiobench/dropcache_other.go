//go:build !(linux || freebsd)

package main

import "os"

// dropCache does nothing where the system has no posix_fadvise.
func dropCache(*os.File) error { return nil }

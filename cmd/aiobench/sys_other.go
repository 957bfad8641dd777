//go:build !unix

package main

import (
	"io/fs"
	"runtime"
	"time"
)

// cpuTime is unknown here: CPU per op reports 0.
func cpuTime() time.Duration { return 0 }

// ownedBySelf cannot tell owners apart here.
func ownedBySelf(fs.FileInfo) bool { return true }

// kernelRelease names the kernel; only the OS is known here.
func kernelRelease() string { return runtime.GOOS }

package main

import (
	"fmt"
	"runtime"
	"time"
)

// runEnv is what a run's figures depend on besides the workload; the
// header and every -json line carry it.
type runEnv struct {
	kernel     string // the OS and its release, e.g. "Linux 6.18.0"
	file       string
	size       int64 // bytes of the file the workload covers
	goVersion  string
	gomaxprocs int
}

func describeRun(file string, size int64) runEnv {
	return runEnv{
		kernel:     kernelRelease(),
		file:       file,
		size:       size,
		goVersion:  runtime.Version(),
		gomaxprocs: runtime.GOMAXPROCS(0),
	}
}

// header is the first line of the table report.
func (e runEnv) header(seed uint64, dur time.Duration) string {
	return fmt.Sprintf("%s/%s %s, %s, GOMAXPROCS %d; data %s, %s used, seed %d, %v per backend",
		runtime.GOOS, runtime.GOARCH, e.kernel, e.goVersion, e.gomaxprocs, e.file, formatSize(e.size), seed, dur)
}

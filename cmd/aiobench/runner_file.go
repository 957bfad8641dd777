package main

import (
	"os"

	"github.com/fileaio/fileaio/aio"
)

// runFile runs the workload on -qd goroutines sharing one aio.File, opened
// on the run's data file with the run's flags (a descriptor of its own, so
// that closing it leaves s.f open).
func runFile(s *runSpec) (result, error) {
	flag := os.O_RDONLY
	if s.w.mode.writes() {
		flag = os.O_RDWR
	}
	if s.direct {
		flag |= aio.O_DIRECT
	}
	f, err := aio.OpenFile(s.f.Name(), flag, 0)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	return runWorkers(s, f, f.Kernel)
}

//go:build linux && (amd64 || arm64) && race

package aio

import (
	"runtime"
	"unsafe"
)

// blockingIOSync stands for the file, as x/sys/unix's pread and pwrite
// annotate theirs: a write happens before a read that follows it.
var blockingIOSync int64

// raceRead tells the race detector that a blocking read filled b[:n];
// raceWrite, before a blocking write, that it reads b.
func raceRead(b []byte, n int, ok bool) {
	if n > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&b[0]), n)
	}
	if ok {
		runtime.RaceAcquire(unsafe.Pointer(&blockingIOSync))
	}
}

func raceWrite(b []byte) {
	runtime.RaceReleaseMerge(unsafe.Pointer(&blockingIOSync))
	runtime.RaceReadRange(unsafe.Pointer(&b[0]), len(b))
}

//go:build unix

package aio

import "testing"

// TestFileVectoredAndDataSyncZeroAllocs: in the steady state ReadvAt,
// WritevAt and DataSync allocate nothing, on the engine as on the direct
// path, where each holds the descriptor open around its system call
// (withFd).
func TestFileVectoredAndDataSyncZeroAllocs(t *testing.T) {
	forEachSetup(t, 4*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		if modelBuild && f.async.Load() {
			t.Skip("the FreeBSD model allocates per job; the backend itself is measured without it")
		}
		buf := AlignedBuffer(2 * fileBlock)
		bufs := [][]byte{buf[:fileBlock], buf[fileBlock:]}
		readv := testing.AllocsPerRun(200, func() {
			if n, err := f.ReadvAt(bufs, 0); n != 2*fileBlock || err != nil {
				t.Fatalf("ReadvAt = %d, %v", n, err)
			}
		})
		writev := testing.AllocsPerRun(200, func() {
			if n, err := f.WritevAt(bufs, 2*fileBlock); n != 2*fileBlock || err != nil {
				t.Fatalf("WritevAt = %d, %v", n, err)
			}
		})
		dataSync := testing.AllocsPerRun(20, func() {
			if err := f.DataSync(); err != nil {
				t.Fatalf("DataSync = %v", err)
			}
		})
		if readv != 0 || writev != 0 || dataSync != 0 {
			t.Errorf("allocs per call: ReadvAt %v, WritevAt %v, DataSync %v; want 0 (engine path: %v)", readv, writev, dataSync, f.async.Load())
		}
	})
}

//go:build linux && fbsdmodel

package aio

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/fileaio/fileaio/internal/loopdisk"
)

// glue7LoopDisk is the model's disk: size bytes of kqPattern on a loop
// device (loopdisk.Attach).
func glue7LoopDisk(t *testing.T, size int) *os.File {
	t.Helper()
	return loopdisk.Attach(t, kqPattern(0, size))
}

// glue7Round submits r alone, waits for it and fails unless it succeeded
// with want bytes.
func glue7Round(t *testing.T, c *Context, r *Request, want int) {
	t.Helper()
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	drain(t, c, 1)
	if n, err := r.Result(); n != want || err != nil {
		t.Fatalf("Result = %d, %v; want %d, nil", n, err, want)
	}
}

// FreeBSD refuses a disk's flush, and a read or write of a shape its bio
// path does not take (part of a sector, more than maxphys), while it serves
// the disk's other requests (aio_qbio, aio_queue_file): DefaultBackend hands
// the refused request to goroutines, and the disk's next read still goes to
// the kernel. A device every disk-shaped read of which is refused (not a
// disk) is remembered as refused.
func TestGlue7DiskRefusalIsPerRequest(t *testing.T) {
	kqModel(t)
	c, err := NewContext(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	disk := glue7LoopDisk(t, 1<<20)
	r := NewRequest()
	read := func(n int) {
		t.Helper()
		buf := make([]byte, n)
		if err := r.PrepareRead(disk, 8192, buf, nil); err != nil {
			t.Fatal(err)
		}
		glue7Round(t, c, r, n)
		if want := kqPattern(8192, n); !bytes.Equal(buf, want) {
			t.Fatalf("read %d bytes of the disk: %q..., want %q...", n, buf[:8], want[:8])
		}
	}
	want := Stats{}
	check := func(after string) {
		t.Helper()
		if got := c.Stats(); got != want {
			t.Fatalf("after %s: Stats %+v, want %+v", after, got, want)
		}
	}

	read(4096)
	want.Kernel++
	check("a 4096-byte read of the disk")

	if err := r.PrepareFlush(disk, nil); err != nil {
		t.Fatal(err)
	}
	glue7Round(t, c, r, 0)
	want.Goroutines++
	check("a flush of the disk, which FreeBSD refuses")
	read(4096)
	want.Kernel++
	check("a 4096-byte read after the refused flush")

	read(100)
	want.Goroutines++
	check("a 100-byte read, which FreeBSD refuses on a disk")
	read(4096)
	want.Kernel++
	check("a 4096-byte read after the refused 100-byte read")

	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	if err := r.PrepareRead(zero, 0, make([]byte, 4096), nil); err != nil {
		t.Fatal(err)
	}
	glue7Round(t, c, r, 4096)
	want.Goroutines++
	check("a 4096-byte read of /dev/zero")
	if !refusedBefore(r.class) {
		t.Fatal("/dev/zero, whose disk-shaped read FreeBSD refused, is not remembered as refused")
	}
}

// A vectored request without buffers on a disk completes with 0 bytes, on
// every release: FreeBSD would take it, as aio_readv or as a LIO_READV list
// entry, on its bio path, which issues no bio for it and never completes it
// (aio_qbio). Its companions with buffers are still served by the kernel.
func TestGlue7DiskEmptyVectored(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	disk := glue7LoopDisk(t, 1<<20)
	reqs := make([]*Request, 4)
	bufs := [][]byte{make([]byte, 4096), make([]byte, 4096)}
	for i := range reqs {
		reqs[i] = NewRequest()
	}
	if err := reqs[0].PrepareReadv(disk, 4096, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := reqs[1].PrepareWritev(disk, 4096, [][]byte{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := reqs[2].PrepareReadv(disk, 4096, bufs, nil); err != nil {
		t.Fatal(err)
	}
	if err := reqs[3].PrepareRead(disk, 0, make([]byte, 4096), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	out := make([]*Request, len(reqs))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := 0
	for got < len(reqs) {
		n, err := c.Wait(ctx, len(reqs)-got, out[got:])
		got += n
		if err != nil {
			t.Fatalf("Wait after %d of %d requests: %v (%d jobs outstanding in the kernel)", got, len(reqs), err, k.Outstanding())
		}
	}
	for i, want := range []int{0, 0, 8192, 4096} {
		if n, err := reqs[i].Result(); n != want || err != nil {
			t.Fatalf("request %d: %d, %v; want %d, nil", i, n, err, want)
		}
	}
	if want := kqPattern(4096, 8192); !bytes.Equal(append(bufs[0], bufs[1]...), want) {
		t.Fatal("the vectored read read other bytes")
	}
	if s := c.Stats(); s.Kernel != uint64(len(reqs)) {
		t.Fatalf("Stats %+v, want all %d by the kernel", s, len(reqs))
	}
}

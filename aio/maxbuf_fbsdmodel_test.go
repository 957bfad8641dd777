//go:build linux && fbsdmodel

package aio

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
)

// On a disk without unmapped I/O, FreeBSD refuses a bio job with EAGAIN
// at submission when the process's pbufs in flight would pass
// vfs.aio.max_buf_aio (16; aio_qbio), while the list's other entries, on
// other files or smaller, are queued. In one lio_listio batch the refused
// disk reads stay Prepared (ErrAgain), every other entry is Submitted (a
// rejected one, read on a write-only file, among them: the list then
// fails with EIO, not EAGAIN), each of them comes back from Wait once,
// and the refused ones go through once submitted again after the others
// completed. Nothing is lost, nothing counted twice. The same under
// DefaultBackend, which hands the kernel's EAGAIN on as it is.
func TestKqueueMaxBufAIOPartialList(t *testing.T) {
	t.Run("KernelBackend", func(t *testing.T) {
		kqModel(t)
		testMaxBufAIOPartialList(t, kqContext(t, Config{}))
	})
	t.Run("DefaultBackend", func(t *testing.T) {
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
		testMaxBufAIOPartialList(t, c)
	})
}

func testMaxBufAIOPartialList(t *testing.T, c *Context) {
	k := fbsdmodel.Default()
	disk := glue7LoopDisk(t, 1<<20)
	f := kqFile(t, 4096)
	wo, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	old := k.SetMappedDisks(true)
	t.Cleanup(func() { k.SetMappedDisks(old) })
	const nDisk = 20 // 16 pbufs for 20 one-buffer reads
	var reqs, diskReqs []*Request
	bufs := map[*Request][]byte{}
	for i := range nDisk {
		r := NewRequest()
		buf := make([]byte, 4096)
		if err := r.PrepareRead(disk, int64(i)*4096, buf, i); err != nil {
			t.Fatal(err)
		}
		bufs[r] = buf
		reqs = append(reqs, r)
		diskReqs = append(diskReqs, r)
		if i%4 == 3 { // a read of the regular file after every 4 disk reads
			fr := NewRequest()
			fbuf := make([]byte, 8)
			if err := fr.PrepareRead(f, int64(i), fbuf, -i); err != nil {
				t.Fatal(err)
			}
			bufs[fr] = fbuf
			reqs = append(reqs, fr)
		}
	}
	bad := NewRequest()
	if err := bad.PrepareRead(wo, 0, make([]byte, 8), "bad"); err != nil {
		t.Fatal(err)
	}
	reqs = append(reqs, bad)
	if c.be.batchMax() < len(reqs) {
		t.Skipf("lio_listio takes %d entries, the test needs %d in one list", c.be.batchMax(), len(reqs))
	}

	k.Hold() // nothing completes: the pbufs stay taken while Submit runs
	n, err := c.Submit(reqs...)
	k.Release()
	var in, again []*Request
	for _, r := range reqs {
		if r.State() == Prepared {
			again = append(again, r)
		} else {
			in = append(in, r)
		}
	}
	if !errors.Is(err, ErrAgain) || n != len(in) {
		t.Errorf("Submit = %d, %v; want %d (the requests Submitted), ErrAgain", n, err, len(in))
	}
	for i, r := range diskReqs {
		if (r.State() == Prepared) != (i >= 16) {
			t.Errorf("disk read %d is %v; want the first 16 Submitted, the rest Prepared", i, r.State())
		}
	}
	// One list (KernelBackend): the kernel looks at every entry, and only
	// the disk reads past the limit are refused. DefaultBackend may cut
	// the batch where its engines change, and offers nothing after a run
	// the kernel refused for room: those stay Prepared too.
	if _, oneList := c.be.(*kqueueBackend); oneList && len(again) != nDisk-16 {
		t.Errorf("%d requests Prepared, want %d (the disk reads past max_buf_aio)", len(again), nDisk-16)
	}
	seen := map[*Request]int{}
	check := func(got []*Request) {
		t.Helper()
		for _, r := range got {
			seen[r]++
			n, err := r.Result()
			switch {
			case r == bad:
				if !errors.Is(err, syscall.EBADF) {
					t.Errorf("read of a write-only file: Result = %d, %v; want EBADF", n, err)
				}
			case n != len(bufs[r]) || err != nil:
				t.Errorf("request %v: Result = %d, %v; want %d, nil", r.User(), n, err, len(bufs[r]))
			default:
				off := int64(r.User().(int)) * 4096
				if r.User().(int) <= 0 {
					off = int64(-r.User().(int))
				}
				if want := kqPattern(off, len(bufs[r])); !bytes.Equal(bufs[r], want) {
					t.Errorf("request %v read %q, want %q", r.User(), bufs[r][:8], want[:8])
				}
			}
		}
	}
	check(drain(t, c, len(in)))
	if m, err := c.Submit(again...); m != len(again) || err != nil {
		t.Fatalf("resubmitting the refused reads = %d, %v; want %d, nil", m, err, len(again))
	}
	check(drain(t, c, len(again)))
	for _, r := range reqs {
		if seen[r] != 1 {
			t.Errorf("request %v came back %d times, want once", r.User(), seen[r])
		}
	}
	if m, err := c.Wait(kqLongCtx(t), 0, make([]*Request, 4)); m != 0 || !errors.Is(err, ErrNoRequests) {
		t.Errorf("Wait with nothing in flight = %d, %v; want 0, ErrNoRequests", m, err)
	}
	if k.Outstanding() != 0 {
		t.Fatalf("%d jobs left in the kernel", k.Outstanding())
	}
	if v, _ := k.SysctlUint32("vfs.aio.num_buf_aio"); v != 0 {
		t.Fatalf("vfs.aio.num_buf_aio = %d, want 0", v)
	}
}

//go:build linux && fbsdmodel

package aio

import (
	"errors"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
)

// From 15.0 on the process's first AIO call can fail as a whole, before
// the kernel looks at any aiocb: aio_init_aioinfo fails when no AIO daemon
// exists and kproc_create cannot start one (EAGAIN with the process table
// full). For lio_listio that is -1/EAGAIN with every entry untouched
// (status and error as the backend left them), which says nothing about
// the entries: they were not offered, so they stay Prepared with ErrAgain,
// and the next Submit, which finds the AIO state made, takes them. 13.x
// and 14.x cannot fail there, and take the batch at once.
func TestKqueueAIOInitFailureIsAgain(t *testing.T) {
	k := kqModel(t)
	c := kqContext(t, Config{})
	f := kqFile(t, 4096)
	if n := k.Outstanding(); n != 0 {
		t.Fatalf("%d jobs outstanding before the test", n)
	}
	k.Exit() // the process has no AIO state, as before its first call
	k.FailAIOInit(syscall.EAGAIN)
	t.Cleanup(func() { k.FailAIOInit(0) })
	reqs := kqPrepared(t, f, 3)
	n, err := c.Submit(reqs...)
	if k.Osreldate() >= fbsdmodel.Osreldate15 {
		if n != 0 || !errors.Is(err, ErrAgain) {
			var got []error
			for _, r := range drain(t, c, n) {
				_, rerr := r.Result()
				got = append(got, rerr)
			}
			t.Fatalf("first Submit = %d, %v (Results %v); want 0, ErrAgain", n, err, got)
		}
		if s := kqStates(reqs); s[Prepared] != 3 {
			t.Fatalf("states after the refused list: %v; want all 3 Prepared", s)
		}
		n, err = c.Submit(reqs...)
	}
	if n != 3 || err != nil {
		t.Fatalf("Submit = %d, %v; want 3, nil", n, err)
	}
	drain(t, c, 3)
	for i, r := range reqs {
		if got, err := r.Result(); got != 8 || err != nil {
			t.Fatalf("request %d: Result = %d, %v; want 8, nil", i, got, err)
		}
	}
	if k.Outstanding() != 0 {
		t.Fatalf("%d jobs left in the kernel", k.Outstanding())
	}
}

// The same through a File: its engine's first submission is refused whole
// (15.x), and the call still completes, submitted again.
func TestFileKqueueAIOInitFailure(t *testing.T) {
	k := kqModel(t)
	f := kqFileOpen(t, fileBlock)
	if n := k.Outstanding(); n != 0 {
		t.Fatalf("%d jobs outstanding before the test", n)
	}
	k.Exit()
	k.FailAIOInit(syscall.EAGAIN)
	t.Cleanup(func() { k.FailAIOInit(0) })
	buf := make([]byte, fileBlock)
	if n, err := f.ReadAt(buf, 0); n != fileBlock || err != nil {
		t.Fatalf("ReadAt = %d, %v; want %d, nil", n, err, fileBlock)
	}
	if want := filePattern(0, fileBlock); string(buf) != string(want) {
		t.Fatal("ReadAt read the wrong bytes")
	}
}

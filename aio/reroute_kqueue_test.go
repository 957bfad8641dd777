//go:build linux && fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"testing"
)

// TestDefaultReroutesRefusedFile: DefaultBackend over a FreeBSD that
// refuses a file (a non-local mount) serves every request on it with
// goroutines, without the caller seeing EOPNOTSUPP or a request twice; the
// first refusal marks the file's mount, so the second round never asks the
// kernel. (The model refuses this one file; the mark covers its device, and
// is taken back at the end so that the other tests' files stay the
// kernel's.)
func TestDefaultReroutesRefusedFile(t *testing.T) {
	k := kqModel(t)
	f := kqFile(t, 4096)
	if k.Config().NonLocal {
		t.Log("every file is non-local in this run already")
	} else {
		if err := k.SetNonLocal(int(f.Fd()), true); err != nil {
			t.Fatal(err)
		}
		defer k.SetNonLocal(int(f.Fd()), false)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st fileClass
	_ = rc.Control(func(fd uintptr) { st = classify(fd) })
	defer refusedFiles.remove(refusedKey(st))
	c, err := NewContext(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.be.(*mixedBackend); !ok {
		t.Fatalf("DefaultBackend is %T, want both engines", c.be)
	}
	for round := range 2 {
		bufs := [][]byte{make([]byte, 16), make([]byte, 8), make([]byte, 8)}
		reqs := []*Request{NewRequest(), NewRequest(), NewRequest(), NewRequest(), NewRequest()}
		for i, err := range []error{
			reqs[0].PrepareRead(f, 0, bufs[0], nil),
			reqs[1].PrepareWrite(f, 4096, kqPattern(4096, 8), nil),
			reqs[2].PrepareReadv(f, 16, bufs[1:], nil),
			reqs[3].PrepareWritev(f, 4104, [][]byte{kqPattern(4104, 8)}, nil),
			reqs[4].PrepareFlush(f, nil),
		} {
			if err != nil {
				t.Fatalf("round %d, prepare %d: %v", round, i, err)
			}
		}
		if n, err := c.Submit(reqs...); n != len(reqs) || err != nil {
			t.Fatalf("round %d: Submit = %d, %v", round, n, err)
		}
		seen := map[*Request]int{}
		for _, r := range drain(t, c, len(reqs)) {
			seen[r]++
			n, err := r.Result()
			if err != nil || n != r.length() {
				t.Errorf("round %d: %v Result = %d, %v; want %d, nil", round, r.op, n, err, r.length())
			}
		}
		for i, r := range reqs {
			if seen[r] != 1 {
				t.Errorf("round %d: request %d came back %d times", round, i, seen[r])
			}
		}
		if !bytes.Equal(bufs[0], kqPattern(0, 16)) || !bytes.Equal(bytes.Join(bufs[1:], nil), kqPattern(16, 16)) {
			t.Errorf("round %d: read the wrong bytes", round)
		}
		if round == 0 && !refusedBefore(st) {
			t.Fatal("the refusal did not mark the file")
		}
	}
	if s := c.Stats(); s.Kernel != 0 || s.Goroutines != 10 {
		t.Errorf("Stats = %+v, want every request served by goroutines", s)
	}
	if k.Outstanding() != 0 {
		t.Errorf("the kernel keeps %d jobs", k.Outstanding())
	}
}

// remove forgets a file, so that a later file with its inode number is
// not taken for it.
func (s *fileSet) remove(dev, ino uint64) {
	s.mu.Lock()
	delete(s.m, [2]uint64{dev, ino})
	s.mu.Unlock()
}

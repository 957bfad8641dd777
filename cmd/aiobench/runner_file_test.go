package main

import (
	"context"
	"testing"
	"time"
)

// TestRunFile runs each workload briefly through one aio.File shared by
// the workers, and checks that it counted requests and measured latencies.
func TestRunFile(t *testing.T) {
	f := smallFile(t, 1<<20)
	for _, mode := range []rwMode{randRead, seqWrite, randRW} {
		t.Run(mode.String(), func(t *testing.T) {
			spec := &runSpec{ctx: context.Background(), backend: "file", f: f, w: newWorkload(mode, 4096, 1<<20, 1), qd: 8, dur: 50 * time.Millisecond}
			res, err := runFile(spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.ops == 0 || res.backend != "file" || res.qd != 8 || res.p50 <= 0 {
				t.Fatalf("result %+v: no requests counted or no latencies", res)
			}
		})
	}
}

package aio

import (
	"context"
	"testing"
)

// BenchmarkRoundTrip measures Prepare+Submit+Wait of one reused request on
// the fake backend, which completes it at once: the state machine's own
// cost. The steady state allocates nothing.
func BenchmarkRoundTrip(b *testing.B) {
	c, f := newFakeContext(b, Config{}, 16, 64)
	f.auto = true
	file := smFile(b, 4096)
	buf := make([]byte, 512)
	r := NewRequest()
	out := make([]*Request, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.PrepareRead(file, 0, buf, nil); err != nil {
			b.Fatal(err)
		}
		if n, err := c.Submit(r); n != 1 || err != nil {
			b.Fatalf("Submit = %d, %v", n, err)
		}
		if n, err := c.Wait(ctx, 1, out); n != 1 || err != nil || out[0] != r {
			b.Fatalf("Wait = %d, %v", n, err)
		}
	}
	if n, err := r.Result(); n != len(buf) || err != nil {
		b.Fatalf("Result = %d, %v", n, err)
	}
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
}

package aio

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallGateCloseWaitsForCalls(t *testing.T) {
	g := newCallGate()
	tk, ok := g.enter()
	if !ok {
		t.Fatal("enter on an open gate refused")
	}
	closed := make(chan bool)
	go func() { closed <- g.close() }()
	select {
	case <-closed:
		t.Fatal("close returned while a call was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	if _, ok := g.enter(); ok {
		t.Error("enter after close began succeeded")
	}
	g.leave(tk)
	if !<-closed {
		t.Error("first close reported the gate closed already")
	}
	if g.close() {
		t.Error("second close reported success")
	}
}

// TestCallGateNoCallOutlivesClose has calls on many goroutines (so on
// several shards) race close: once close returns, no call may be inside.
func TestCallGateNoCallOutlivesClose(t *testing.T) {
	for round := range 50 {
		g := newCallGate()
		var inside, entered atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					tk, ok := g.enter()
					if !ok {
						return
					}
					inside.Add(1)
					entered.Add(1)
					inside.Add(-1)
					g.leave(tk)
				}
			})
		}
		for entered.Load() < 100 {
			time.Sleep(10 * time.Microsecond)
		}
		g.close()
		if n := inside.Load(); n != 0 {
			t.Fatalf("round %d: %d calls inside after close returned", round, n)
		}
		wg.Wait()
		for i := range g.shards {
			if n := g.shards[i].n.Load(); n != 0 {
				t.Fatalf("round %d: shard %d counts %d calls after all returned", round, i, n)
			}
		}
	}
}

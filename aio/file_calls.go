package aio

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// callGate counts a File's calls in flight, so that Close can refuse new
// ones and wait for those running. The count is spread over shards, each
// on its own cache line, chosen by the calling goroutine's stack: a
// goroutine that makes call after call (its thread keeps its P across a
// short system call) keeps to one shard, so two CPUs calling at once do
// not pull one line back and forth as a single counter makes them do,
// twice per call.
type callGate struct {
	shards  [gateShards]gateShard
	closed  atomic.Bool
	drained chan struct{} // a token whenever a shard falls to 0 after close
}

type gateShard struct {
	n atomic.Int64
	_ cpu.CacheLinePad
}

// gateShards is a power of two.
const gateShards = 8

// gateTicket names the shard a call was counted in; leave takes it back.
type gateTicket uint32

func newCallGate() *callGate { return &callGate{drained: make(chan struct{}, 1)} }

// enter counts a call in; false, with nothing counted, once close has
// begun.
func (g *callGate) enter() (gateTicket, bool) {
	var here byte
	sp := uintptr(unsafe.Pointer(&here))
	t := gateTicket((sp>>13 ^ sp>>17) & (gateShards - 1)) // stacks are 8 KiB-aligned spans at least
	g.shards[t].n.Add(1)
	if g.closed.Load() {
		g.leave(t)
		return 0, false
	}
	return t, true
}

// leave counts out the call that enter counted in t.
func (g *callGate) leave(t gateTicket) {
	if g.shards[t].n.Add(-1) == 0 && g.closed.Load() {
		select {
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// close refuses every later call and waits until none is in flight; false
// if close had begun already (it then does not wait).
//
// A call counts itself in before it looks at closed, and close sets closed
// before it looks at the counts (all sequentially consistent): so a call
// close finds counted out either returned or never began its work, and
// one that leaves after close looked finds closed set, and wakes it.
func (g *callGate) close() bool {
	if g.closed.Swap(true) {
		return false
	}
	for i := range g.shards {
		for g.shards[i].n.Load() != 0 {
			<-g.drained
		}
	}
	return true
}

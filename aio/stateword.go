package aio

import "sync/atomic"

// A request's state and the context that owns it live in one atomic word,
// so that one compare-and-swap decides both: two contexts can never both
// claim a request, and a request claimed while Prepared cannot have been
// submitted and completed elsewhere in between.
//
// Bits 0-7 hold the State (or statePreparing), bits 32-63 the id of the
// owning context (0: none).
type stateWord uint64

// statePreparing marks a Prepare call in progress: no context may claim
// the request until its fields are written.
const statePreparing State = 0xff

func packState(s State, owner uint32) stateWord { return stateWord(owner)<<32 | stateWord(uint8(s)) }

func (w stateWord) state() State    { return State(uint8(w)) }
func (w stateWord) owner() uint32   { return uint32(w >> 32) }
func (w stateWord) unowned() bool   { return w.owner() == 0 }
func (w stateWord) is(s State) bool { return w.state() == s }

// contextIDs hands out context ids; 0 is never used.
var contextIDs atomic.Uint32

func newContextID() uint32 {
	for {
		if id := contextIDs.Add(1); id != 0 {
			return id
		}
	}
}

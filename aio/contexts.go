package aio

import (
	"sync"
	"weak"
)

// liveContexts finds a context by the owner id in a request's state word,
// for Request.Cancel, without the request holding a pointer to it: the
// submission path then stores no pointer per request, and a completed
// request does not keep its last context reachable. The map holds weak
// pointers, so it keeps no context alive either.
var liveContexts struct {
	mu sync.RWMutex
	m  map[uint32]weak.Pointer[Context]
}

func registerContext(c *Context) {
	liveContexts.mu.Lock()
	if liveContexts.m == nil {
		liveContexts.m = make(map[uint32]weak.Pointer[Context])
	}
	liveContexts.m[c.id] = weak.Make(c)
	liveContexts.mu.Unlock()
}

func unregisterContext(id uint32) {
	liveContexts.mu.Lock()
	delete(liveContexts.m, id)
	liveContexts.mu.Unlock()
}

// contextByID returns the live context with id, or nil.
func contextByID(id uint32) *Context {
	liveContexts.mu.RLock()
	p, ok := liveContexts.m[id]
	liveContexts.mu.RUnlock()
	if !ok {
		return nil
	}
	return p.Value()
}

package aio

import "sync"

// freeList keeps objects for reuse, as many as were in use at once at
// most, so that the steady state allocates none. (A sync.Pool drops some
// under the race detector, where the zero-allocation tests run too.)
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// take returns a kept object, or nil if there is none.
func (l *freeList[T]) take() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.free)
	if n == 0 {
		return nil
	}
	x := l.free[n-1]
	l.free[n-1] = nil
	l.free = l.free[:n-1]
	return x
}

// put keeps x for a later take.
func (l *freeList[T]) put(x *T) {
	l.mu.Lock()
	l.free = append(l.free, x)
	l.mu.Unlock()
}

package aio

import "sync"

// registry keeps every context with requests in flight reachable, and so
// their requests and the pins inside them: the kernel may still write to
// that memory, and a runtime.Pinner that becomes unreachable while it pins
// crashes the process. A context leaves the registry when its last request
// is returned by Wait.
var registry contextList

type contextList struct {
	mu   sync.Mutex
	head *Context
}

func (l *contextList) add(c *Context) {
	l.mu.Lock()
	c.prev, c.next = nil, l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
	l.mu.Unlock()
}

func (l *contextList) remove(c *Context) {
	l.mu.Lock()
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	l.mu.Unlock()
}

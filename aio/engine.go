package aio

// engineID names the engine that serves a request within its context.
type engineID uint8

const (
	engineKernel    engineID = iota // the kernel's AIO
	engineGoroutine                 // the goroutine engine (portable backend)
	numEngines
)

// goroutineEngine returns be's goroutine engine, or nil.
func goroutineEngine(be backend) *portableBackend {
	switch b := be.(type) {
	case *portableBackend:
		return b
	case *portableFallback:
		return b.portableBackend
	case *mixedBackend:
		return b.g
	}
	return nil
}

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
	if o, ok := be.(interface{ goroutines() *portableBackend }); ok {
		return o.goroutines()
	}
	return nil
}

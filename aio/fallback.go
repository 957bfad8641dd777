package aio

// portableFallback is the portable backend standing in for a kernel AIO
// that the system lacks or refuses.
type portableFallback struct {
	*portableBackend
	reason error // matches ErrNotSupported
}

func (f *portableFallback) fallbackReason() error { return f.reason }

// newFallbackBackend is the portable backend for limit requests, with
// reason, an error matching ErrNotSupported, kept for Context.KernelError.
func newFallbackBackend(limit int, reason error) (backend, int, error) {
	be, n, err := newPortableBackend(limit)
	if err != nil {
		return nil, 0, err
	}
	reason = wrapError("default backend on goroutines", reason)
	return &portableFallback{portableBackend: be.(*portableBackend), reason: reason}, n, nil
}

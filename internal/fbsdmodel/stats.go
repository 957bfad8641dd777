//go:build linux

package fbsdmodel

import "maps"

// Stats counts what callers asked of the model, for tests that check how a
// caller uses the kernel beyond what the kernel would refuse.
type Stats struct {
	// KnoteFlags counts EVFILT_AIO knotes registered, by the
	// sigev_notify_kevent_flags their aiocb asked for (§B).
	KnoteFlags map[uint16]int
	// EINTRs counts blocking kevent calls ended by an injected EINTR (§G).
	EINTRs int
	// MaxRunning is the most jobs the workers ran at once (bounded by
	// vfs.aio.max_aio_per_proc, §D).
	MaxRunning int
	// VectoredListEntries counts LIO_READV and LIO_WRITEV entries offered to
	// lio_listio, refused (13.x) or not.
	VectoredListEntries int
	// VectoredCalls counts aio_readv and aio_writev calls.
	VectoredCalls int
}

// Stats returns a copy of the counts so far.
func (k *Kernel) Stats() Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.stats
	s.KnoteFlags = maps.Clone(k.stats.KnoteFlags)
	return s
}

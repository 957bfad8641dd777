//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

// newDefaultBackend is POSIX AIO with kqueue completions for the files the
// kernel serves, beside the goroutine engine for the rest.
func newDefaultBackend(limit int) (backend, int, error) {
	b, n, err := newKqueueBackend(limit)
	if err != nil {
		return nil, 0, err
	}
	return newMixedBackend(b, freebsdAIO, n), n, nil
}

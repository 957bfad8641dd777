//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

func systemLimits() (Limits, error) { return Limits{}, ErrNotSupported }

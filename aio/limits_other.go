//go:build !linux && !freebsd

package aio

func systemLimits() (Limits, error) { return Limits{}, ErrNotSupported }

//go:build !linux && !(freebsd && (amd64 || arm64))

package aio

func systemLimits() (Limits, error) { return Limits{}, ErrNotSupported }

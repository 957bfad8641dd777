//go:build !fbsdmodel

package aio

// modelBuild says the FreeBSD backend runs over internal/fbsdmodel.
const modelBuild = false

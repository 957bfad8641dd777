//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

const thisRouteOS = routeLinux

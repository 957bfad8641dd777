//go:build !((freebsd || linux) && (amd64 || arm64))

package aio

const thisRouteOS = routePortable

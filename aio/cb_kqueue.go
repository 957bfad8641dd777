//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package aio

import "github.com/fileaio/fileaio/sys"

// controlBlock is what the FreeBSD kernel sees of a request: the aiocb,
// whose address is the job's identity until aio_return, and the iovec array
// of a vectored request. Both live inside the Request, which is pinned from
// submission until the harvester has called aio_return.
type controlBlock struct {
	aiocb sys.Aiocb
	iov   []sys.Iovec
}

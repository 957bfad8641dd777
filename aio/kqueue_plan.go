package aio

// How the FreeBSD backend cuts a batch into kernel calls. The decision is
// portable code, tested on every system; backend_kqueue.go only follows it.

// osreldateVectoredLists is kern.osreldate of FreeBSD 14.0, the first release
// whose lio_listio takes LIO_READV and LIO_WRITEV entries (D31627). 13.x
// refuses them with EINVAL in the entry and has vectored jobs only through
// aio_readv and aio_writev.
const osreldateVectoredLists = 1400000

// osreldateKqueuex is kern.osreldate of FreeBSD 15.0, the first release
// whose sources this project has read with kqueuex in them. kqueuex came
// during 14's life, in a release not pinned down here, and calling it
// where it is missing is SIGSYS, which ends a Go program; so 14.x gets
// kqueue and FD_CLOEXEC, which every release has, and loses nothing but
// the atomicity that syscall.ForkLock makes up for.
const osreldateKqueuex = 1500000

// kqueueRelease is what the running FreeBSD release, by kern.osreldate,
// offers the backend: vectored entries in lio_listio lists, and kqueuex for
// a kqueue that is close-on-exec from the start. A release that cannot be
// read (0) gets 13.x's calls, which every supported release has.
func kqueueRelease(osreldate int) (vectoredLists, kqueuex bool) {
	return osreldate >= osreldateVectoredLists, osreldate >= osreldateKqueuex
}

// kqCallKind is the system call one kqCall makes.
type kqCallKind uint8

const (
	kqCallList     kqCallKind = iota // lio_listio(LIO_NOWAIT) of batch[start:end]
	kqCallVectored                   // aio_readv or aio_writev of batch[start]
	kqCallSync                       // aio_fsync of batch[start]
)

// kqCall is one kernel call of a batch: it submits batch[start:end].
type kqCall struct {
	kind       kqCallKind
	start, end int
}

// planKqueueCalls appends to calls the kernel calls that submit batch[from:],
// in batch order: each flush alone (aio_fsync, which the kernel orders after
// every earlier request on its file), each vectored request alone unless
// vectoredInLists, and the reads and writes between them in lists of at most
// maxList entries (at least 1). Every request is in exactly one call, and
// indices are batch's. It allocates nothing when calls has room for
// len(batch)-from calls, which is the most it appends.
func planKqueueCalls(calls []kqCall, batch []*Request, from int, vectoredInLists bool, maxList int) []kqCall {
	maxList = max(maxList, 1)
	run := from // start of the list being gathered
	flush := func(end int) {
		for run < end {
			n := min(end-run, maxList)
			calls = append(calls, kqCall{kind: kqCallList, start: run, end: run + n})
			run += n
		}
	}
	for i := from; i < len(batch); i++ {
		kind := kqCallList
		switch batch[i].op {
		case opFlush, opDataSync:
			kind = kqCallSync
		case opReadv, opWritev:
			if !vectoredInLists {
				kind = kqCallVectored
			}
		}
		if kind == kqCallList {
			continue
		}
		flush(i)
		calls = append(calls, kqCall{kind: kind, start: i, end: i + 1})
		run = i + 1
	}
	flush(len(batch))
	return calls
}

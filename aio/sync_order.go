package aio

import "os"

// Where syncs are ordered (orderedSyncs), a flush or data sync in the
// goroutine engine starts only once every request submitted to the engine
// before it on the same file (fileKey) has finished, as
// FreeBSD's aio_fsync does for the jobs of its open file. The engine
// counts each file's unfinished requests by epoch, a sync closing its
// epoch; a worker that takes a sync whose earlier epochs are not done
// holds it, still queued (so Cancel takes it), until the last of them
// finishes. DefaultBackend counts the kernel's requests on devices too
// (orderKernel): FreeBSD serves a disk's reads and writes but refuses its
// syncs, which come here. Everything here runs under the engine's mu.

// syncOrder is the goroutine engine's record of the files it has requests
// of; nothing is kept of a file once they are all done.
type syncOrder struct {
	files map[fileKey]*fileEpochs
	free  []*fileEpochs
	one   [1]*Request // a sync released to the queue
}

// fileKey names a file by its device and inode, or by its *os.File where
// those name no one file: Linux gives every eventfd, timerfd, signalfd and
// epoll instance one shared anonymous inode, and an inode 0 is none, and a
// sync of one such file must not wait for a read of another. A stream's
// key adds its open's access mode (keyOf); two opens of one FIFO with the
// same mode still share a key.
type fileKey struct {
	dev, ino uint64
	access   uint8 // of a stream's open (O_ACCMODE bits)
	f        *os.File
}

// fileEpochs counts a file's unfinished requests by epoch: counts[i] is
// epoch base+i, the last one still open. held[i] is the sync that ends
// epoch base+i, if a worker took it before it could start.
type fileEpochs struct {
	base   uint64
	counts []int
	held   []*Request
}

func syncOp(r *Request) bool { return r.op == opFlush || r.op == opDataSync }

func keyOf(r *Request) fileKey {
	switch {
	case r.class.kind == kindAnon || r.class.ino == 0:
		return fileKey{f: r.file}
	case r.class.stream():
		// FreeBSD orders a sync after the jobs of its own open file; the
		// reading and the writing open of a FIFO (or the two ends of a
		// pipe) share an inode, not an open file, and a sync of one must
		// not wait for a read of the other that waits for data.
		return fileKey{dev: r.class.dev, ino: r.class.ino, access: r.class.access}
	}
	return fileKey{dev: r.class.dev, ino: r.class.ino}
}

// add counts r in its file's open epoch; a sync ends that epoch.
func (o *syncOrder) add(r *Request) {
	if o.files == nil {
		o.files = make(map[fileKey]*fileEpochs)
	}
	k := keyOf(r)
	fe := o.files[k]
	if fe == nil {
		fe = o.alloc()
		o.files[k] = fe
	}
	last := len(fe.counts) - 1
	r.pj.epoch, r.pj.ordered = fe.base+uint64(last), true
	fe.counts[last]++
	if syncOp(r) {
		fe.counts = append(fe.counts, 0)
		fe.held = append(fe.held, nil)
	}
}

func (o *syncOrder) alloc() *fileEpochs {
	if n := len(o.free); n > 0 {
		fe := o.free[n-1]
		o.free[n-1] = nil
		o.free = o.free[:n-1]
		return fe
	}
	return &fileEpochs{counts: make([]int, 1, 4), held: make([]*Request, 1, 4)}
}

// hold reports whether r, a sync a worker took, must wait, and if so
// keeps it until it may start (or is canceled).
func (o *syncOrder) hold(r *Request) bool {
	if !r.pj.ordered || !syncOp(r) || r.pj.state.Load() != jobQueued {
		return false
	}
	fe := o.files[keyOf(r)]
	i := int(r.pj.epoch - fe.base)
	if i == 0 && fe.counts[0] == 1 {
		return false
	}
	fe.held[i] = r
	r.pj.held = true
	return true
}

// unhold takes back r, a held sync that was canceled, and returns it to
// be queued (its worker reports the cancel); nil if r is not held.
func (o *syncOrder) unhold(r *Request) []*Request {
	if !r.pj.held {
		return nil
	}
	fe := o.files[keyOf(r)]
	fe.held[r.pj.epoch-fe.base] = nil
	r.pj.held = false
	o.one[0] = r
	return o.one[:]
}

// done counts r out, and returns the sync that may now start, to be
// queued (nil if none).
func (o *syncOrder) done(r *Request) []*Request {
	if !r.pj.ordered {
		return nil
	}
	r.pj.ordered = false
	k := keyOf(r)
	fe := o.files[k]
	fe.counts[r.pj.epoch-fe.base]--
	for len(fe.counts) > 1 && fe.counts[0] == 0 {
		copy(fe.counts, fe.counts[1:])
		fe.counts = fe.counts[:len(fe.counts)-1]
		copy(fe.held, fe.held[1:])
		fe.held[len(fe.held)-1] = nil
		fe.held = fe.held[:len(fe.held)-1]
		fe.base++
	}
	if len(fe.counts) == 1 && fe.counts[0] == 0 {
		delete(o.files, k)
		fe.base = 0
		o.free = append(o.free, fe)
		return nil
	}
	if s := fe.held[0]; s != nil && fe.counts[0] == 1 {
		fe.held[0] = nil
		s.pj.held = false
		o.one[0] = s
		return o.one[:]
	}
	return nil
}

//go:build linux

package fbsdmodel

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// Entries of one lio_listio with bad sigevents, as aio_aqueue checks them
// in order: an unknown sigev_notify and a bad signal number before the
// opcode (a LIO_NOP included), the kevent flags and the kqueue only after
// the LIO_NOP return (so a LIO_NOP naming no kqueue passes), each rejected
// entry holding status -1 and its errno; the call is EIO.
func TestLioListioEntrySigevents(t *testing.T) {
	for _, rel := range []int{Osreldate13, Osreldate15} {
		e := newEnv(t, Config{Osreldate: rel})
		entry := func(op int32, set func(*aiocb)) *aiocb {
			cb := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
			cb.opcode = op
			set(cb)
			return cb
		}
		good := entry(LIO_READ, func(*aiocb) {})
		list := []*aiocb{
			entry(LIO_READ, func(cb *aiocb) { cb.notify = 99 }),
			entry(LIO_NOP, func(cb *aiocb) { cb.notify = 99 }),
			entry(LIO_WRITE, func(cb *aiocb) { cb.notify, cb.kq = SIGEV_SIGNAL, 0 }),
			entry(LIO_READ, func(cb *aiocb) { cb.kevFlags = EV_ADD }),
			entry(LIO_READ, func(cb *aiocb) { cb.kq = int32(e.fd) }),
			entry(LIO_NOP, func(cb *aiocb) { cb.kq, cb.kevFlags = int32(e.fd), EV_ADD }),
			good,
		}
		type outcome struct{ Status, Err int64 }
		want := []outcome{
			{-1, int64(unix.EINVAL)},
			{-1, int64(unix.EINVAL)},
			{-1, int64(unix.EINVAL)},
			{-1, int64(unix.EINVAL)},
			{-1, int64(unix.EBADF)},
			{-1, 0},
			{-1, int64(unix.EINPROGRESS)},
		}
		if err := e.listio(LIO_NOWAIT, list, nil); err != unix.EIO {
			t.Fatalf("release %d: lio_listio = %v, want EIO", rel, err)
		}
		got := make([]outcome, len(list))
		for i, cb := range list {
			got[i] = outcome{cb.status, cb.err}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("release %d: status/error of each entry (-want +got):\n%s", rel, diff)
		}
		if ev := e.harvest(1)[0]; ev.ident != identOf(good) {
			t.Fatalf("release %d: event %+v, want the good entry's", rel, ev)
		}
		e.ret(good)
	}
}

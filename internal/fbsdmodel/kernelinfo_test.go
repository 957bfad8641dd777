//go:build linux

package fbsdmodel

import (
	"testing"
	"unsafe"
)

// 13.x and 14.x write _aiocb_private.kernelinfo, the third word of the
// aiocb's private part: -1 first, with status and error (aio_aqueue's
// store_kernelinfo(ujob, -1)), then the job's reference id (jobrefid, from
// 1) once the descriptor checks have passed, a LIO_NOP entry included. The
// main branch of 2025 (15) dropped store_kernelinfo and leaves the word as
// the program wrote it. A program that keeps anything there loses it on
// 13.x and 14.x.
func TestKernelinfoWrittenBelow15(t *testing.T) {
	for _, rel := range []int{Osreldate13, Osreldate14, Osreldate15} {
		e := newEnv(t, Config{Osreldate: rel})
		const mark = 0x5a5a
		ok := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		ok.kinfo = mark
		badSig := e.cb(e.fd, 0, e.buf(8), EV_ONESHOT)
		badSig.notify, badSig.kinfo = 99, mark
		nop := e.cb(e.fd, 0, nil, 0)
		nop.opcode, nop.kinfo = LIO_NOP, mark
		badFd := e.cb(-1, 0, e.buf(8), EV_ONESHOT)
		badFd.opcode, badFd.kinfo = LIO_READ, mark
		e.submit(e.k.AioRead, ok)
		if err := e.k.AioRead(unsafe.Pointer(badSig)); err == nil {
			t.Fatalf("release %d: a bad sigevent was queued", rel)
		}
		list := []*aiocb{nop, badFd}
		if err := e.k.LioListio(LIO_NOWAIT, unsafe.Pointer(&list[0]), len(list), nil); err == nil {
			t.Fatalf("release %d: lio_listio with a bad descriptor succeeded", rel)
		}
		if rel >= Osreldate15 {
			for name, cb := range map[string]*aiocb{"queued": ok, "bad sigevent": badSig, "LIO_NOP": nop, "bad fd": badFd} {
				if cb.kinfo != mark {
					t.Errorf("release %d, %s: kernelinfo %#x, want it untouched (%#x)", rel, name, cb.kinfo, mark)
				}
			}
		} else {
			if ok.kinfo <= 0 || nop.kinfo <= 0 || ok.kinfo == nop.kinfo {
				t.Errorf("release %d: kernelinfo of the queued job %d and of the LIO_NOP %d, want two job reference ids", rel, ok.kinfo, nop.kinfo)
			}
			if badSig.kinfo != -1 || badFd.kinfo != -1 {
				t.Errorf("release %d: kernelinfo of the entries refused before they had an id: %d, %d; want -1", rel, badSig.kinfo, badFd.kinfo)
			}
		}
		e.finish(ok)
		e.ret(ok)
	}
}

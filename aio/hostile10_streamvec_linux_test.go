//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// h10Packets is a connected pair of message sockets of typ (SOCK_SEQPACKET
// or SOCK_DGRAM): ours in Go's poller, the peer a raw descriptor.
func h10Packets(t *testing.T, typ int) (ours *os.File, peer int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Skipf("socketpair: %v", err)
	}
	ours = os.NewFile(uintptr(p[0]), "packets")
	t.Cleanup(func() { ours.Close(); unix.Close(p[1]) })
	return ours, p[1]
}

// TestH10VectoredMessages: a vectored request on a message socket (a
// SOCK_SEQPACKET or SOCK_DGRAM socket) is one message, as readv and writev
// make it: a read scatters the whole message over the buffers, where a
// read into the first buffer alone makes the kernel drop the rest of the
// message, and a write sends the buffers as one message, not one message
// each.
func TestH10VectoredMessages(t *testing.T) {
	for _, typ := range []struct {
		name string
		typ  int
	}{{"seqpacket", unix.SOCK_SEQPACKET}, {"dgram", unix.SOCK_DGRAM}} {
		for _, be := range []Backend{DefaultBackend, PortableBackend} {
			t.Run(typ.name+"/"+be.String(), func(t *testing.T) {
				c := h3Context(t, Config{MaxRequests: 4}, be)
				sock, peer := h10Packets(t, typ.typ)
				msg := h3Pattern(1, 100)
				if _, err := unix.Write(peer, msg); err != nil {
					t.Fatal(err)
				}
				head, tail := make([]byte, 10), make([]byte, 190)
				r := NewRequest()
				if err := r.PrepareReadv(sock, 0, [][]byte{nil, head, tail}, nil); err != nil {
					t.Fatal(err)
				}
				n, err := h3RunOne(t, c, r)
				if got := append(append([]byte(nil), head...), tail...)[:max(n, 0)]; n != len(msg) || err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("readv of a %d-byte message into 10+190 bytes = %d, %v; the rest of the message is lost", len(msg), n, err)
				}

				first, second := h3Pattern(2, 10), h3Pattern(3, 90)
				if err := r.PrepareWritev(sock, 0, [][]byte{first, nil, second}, nil); err != nil {
					t.Fatal(err)
				}
				if n, err := h3RunOne(t, c, r); n != 100 || err != nil {
					t.Fatalf("writev of 10+90 bytes = %d, %v", n, err)
				}
				got := make([]byte, 200)
				k, err := unix.Read(peer, got)
				if err != nil || k != 100 || !bytes.Equal(got[:k], append(append([]byte(nil), first...), second...)) {
					t.Fatalf("the peer's first message after a writev of 10+90 bytes: %d bytes, %v; want the 100 bytes as one message", k, err)
				}
				if k, err := unix.Read(peer, got); k > 0 || err != unix.EAGAIN {
					t.Fatalf("a second message after the writev: %d bytes, %v", k, err)
				}
			})
		}
	}
}

// TestH10WriteToGonePeer: writes, plain and vectored, to a pipe whose read
// end is closed and to a socket whose peer is closed fail with EPIPE,
// typed (SIGPIPE, which the kernel sends with it, neither kills the
// process nor ends a Wait), and a read of that socket reports the end (0
// bytes, no error). Guards what no earlier test did; it passed before
// this round's fixes.
func TestH10WriteToGonePeer(t *testing.T) {
	for _, be := range []Backend{DefaultBackend, PortableBackend} {
		t.Run(be.String(), func(t *testing.T) {
			c := h3Context(t, Config{MaxRequests: 4}, be)
			pr, pw := h3Pipe(t, false)
			pr.Close()
			p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			sock := os.NewFile(uintptr(p[0]), "socket")
			t.Cleanup(func() { sock.Close() })
			unix.Close(p[1])
			r := NewRequest()
			for _, f := range []*os.File{pw, sock} {
				if err := r.PrepareWrite(f, 0, []byte("data"), nil); err != nil {
					t.Fatal(err)
				}
				if n, err := h3RunOne(t, c, r); n != 0 || !errors.Is(err, unix.EPIPE) {
					t.Fatalf("write to %s with its peer gone = %d, %v; want EPIPE", f.Name(), n, err)
				}
				if err := r.PrepareWritev(f, 0, [][]byte{[]byte("da"), nil, []byte("ta")}, nil); err != nil {
					t.Fatal(err)
				}
				if n, err := h3RunOne(t, c, r); n != 0 || !errors.Is(err, unix.EPIPE) {
					t.Fatalf("writev to %s with its peer gone = %d, %v; want EPIPE", f.Name(), n, err)
				}
			}
			if err := r.PrepareReadv(sock, 0, [][]byte{make([]byte, 4), make([]byte, 4)}, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := h3RunOne(t, c, r); n != 0 || err != nil {
				t.Fatalf("readv of a socket whose peer is gone = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

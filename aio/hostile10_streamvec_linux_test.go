//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"bytes"
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

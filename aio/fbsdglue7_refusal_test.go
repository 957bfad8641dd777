//go:build (freebsd || linux) && (amd64 || arm64)

package aio

import "testing"

// Which EOPNOTSUPP refusals are remembered for the whole file: all of them
// on Linux and for FreeBSD's regular files and streams; for a FreeBSD
// device only that of a read or write every disk's bio path takes.
func TestGlue7RefusalCoversFile(t *testing.T) {
	page := make([]byte, 4096)
	cases := []struct {
		name string
		k    kernelAIO
		kind fileKind
		op   opcode
		buf  []byte
		bufs [][]byte
		want bool
	}{
		{"freebsd regular read", freebsdAIO, kindRegular, opRead, make([]byte, 100), nil, true},
		{"freebsd regular flush", freebsdAIO, kindRegular, opFlush, nil, nil, true},
		{"freebsd fifo write", freebsdAIO, kindPipe, opWrite, make([]byte, 1), nil, true},
		{"freebsd device page read", freebsdAIO, kindChar, opRead, page, nil, true},
		{"freebsd device 64 KiB writev", freebsdAIO, kindChar, opWritev, nil, [][]byte{make([]byte, 32<<10), make([]byte, 32<<10)}, true},
		{"freebsd device flush", freebsdAIO, kindChar, opFlush, nil, nil, false},
		{"freebsd device datasync", freebsdAIO, kindChar, opDataSync, nil, nil, false},
		{"freebsd device part of a sector", freebsdAIO, kindChar, opRead, make([]byte, 100), nil, false},
		{"freebsd device 512 bytes", freebsdAIO, kindChar, opRead, make([]byte, 512), nil, false},
		{"freebsd device empty read", freebsdAIO, kindChar, opRead, nil, nil, true},
		{"freebsd device 1 MiB read", freebsdAIO, kindChar, opRead, make([]byte, 1<<20), nil, false},
		{"freebsd device 17 iovecs", freebsdAIO, kindChar, opReadv, nil, glue7EmptyBufs(17), false},
		{"freebsd device no iovecs", freebsdAIO, kindChar, opReadv, nil, nil, false},
		{"model disk flush", freebsdAIO, kindBlock, opFlush, nil, nil, false},
		{"linux device flush", linuxAIO, kindBlock, opFlush, nil, nil, true},
	}
	for _, tc := range cases {
		r := &Request{op: tc.op, buf: tc.buf, bufs: tc.bufs}
		r.class.kind = tc.kind
		if got := refusalCoversFile(tc.k, r); got != tc.want {
			t.Errorf("%s: refusalCoversFile = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// glue7EmptyBufs is n empty buffers: only their count can matter.
func glue7EmptyBufs(n int) [][]byte {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = []byte{}
	}
	return bufs
}

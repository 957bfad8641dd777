package aio

import "testing"

func TestKernelServes(t *testing.T) {
	reg := fileClass{known: true, kind: kindRegular}
	direct := fileClass{known: true, kind: kindRegular, direct: true}
	blk := fileClass{known: true, kind: kindBlock}
	blkDirect := fileClass{known: true, kind: kindBlock, direct: true}
	refused := fileClass{known: true, kind: kindRegular, refused: true}
	refusedDirect := fileClass{known: true, kind: kindRegular, direct: true, refused: true}
	for _, tc := range []struct {
		name   string
		k      kernelAIO
		c      fileClass
		kernel bool
	}{
		{"linux buffered file", linuxAIO, reg, false},
		{"linux O_DIRECT file", linuxAIO, direct, true},
		{"linux buffered disk", linuxAIO, blk, false},
		{"linux O_DIRECT disk", linuxAIO, blkDirect, true},
		{"linux O_DIRECT file refused once", linuxAIO, refusedDirect, false},
		{"linux pipe", linuxAIO, fileClass{known: true, kind: kindPipe}, false},
		{"linux socket", linuxAIO, fileClass{known: true, kind: kindSocket}, false},
		{"linux tty", linuxAIO, fileClass{known: true, kind: kindTerminal, direct: true}, false},
		{"linux character device", linuxAIO, fileClass{known: true, kind: kindChar, direct: true}, false},
		{"linux directory", linuxAIO, fileClass{known: true, kind: kindDir, direct: true}, false},
		{"linux unknown", linuxAIO, fileClass{known: true, direct: true}, false},
		{"freebsd buffered file", freebsdAIO, reg, true},
		{"freebsd O_DIRECT file", freebsdAIO, direct, true},
		{"freebsd disk", freebsdAIO, blk, true},
		{"freebsd file on NFS (refused once)", freebsdAIO, refused, false},
		{"freebsd pipe", freebsdAIO, fileClass{known: true, kind: kindPipe}, false},
		{"freebsd socket", freebsdAIO, fileClass{known: true, kind: kindSocket}, false},
		{"freebsd disk (a character device)", freebsdAIO, fileClass{known: true, kind: kindChar}, true},
		{"freebsd tty", freebsdAIO, fileClass{known: true, kind: kindTerminal}, false},
		{"freebsd directory", freebsdAIO, fileClass{known: true, kind: kindDir}, false},
		{"no kernel AIO", 0, direct, false},
	} {
		if got := kernelServes(tc.k, &tc.c); got != tc.kernel {
			t.Errorf("%s: kernelServes = %v, want %v", tc.name, got, tc.kernel)
		}
	}
}

func TestLinuxSubmitBlocks(t *testing.T) {
	for _, tc := range []struct {
		kind  fileKind
		block bool
	}{
		{kindRegular, false}, {kindBlock, false}, {kindDir, false}, {kindOther, false},
		{kindAnon, true}, {kindPipe, true}, {kindSocket, true}, {kindChar, true}, {kindTerminal, true},
	} {
		if got := linuxSubmitBlocks(&fileClass{known: true, kind: tc.kind}); got != tc.block {
			t.Errorf("kind %d: linuxSubmitBlocks = %v, want %v", tc.kind, got, tc.block)
		}
	}
}

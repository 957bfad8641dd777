package aio

import (
	"io/fs"
	"testing"
)

func TestUseEngine(t *testing.T) {
	all := []fileKind{kindRegular, kindBlock, kindChar, kindTerminal, kindPipe, kindSocket, kindDir, kindOther, kindAnon}
	// want[kernel][kind] for (direct, explicit) = (false,false), (true,false), (false,true), (true,true).
	type answers [4]bool
	want := map[kernelAIO]map[fileKind]answers{
		linuxAIO: {
			kindRegular: {false, true, true, true},
			kindBlock:   {false, true, true, true},
			kindChar:    {false, false, true, true},
		},
		freebsdAIO: {
			kindRegular: {true, true, true, true},
			kindBlock:   {true, true, true, true},
			kindChar:    {true, true, true, true},
		},
		0: {
			kindRegular: {false, false, true, true},
			kindBlock:   {false, false, true, true},
			kindChar:    {false, false, true, true},
		},
	}
	for k, kinds := range want {
		for _, kind := range all {
			w := kinds[kind] // streams, directories and others: all false
			for i, c := range []struct{ direct, explicit bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				class := fileClass{known: true, kind: kind, direct: c.direct}
				if got := useEngine(k, class, c.explicit); got != w[i] {
					t.Errorf("useEngine(%v, kind %d, direct %v, explicit %v) = %v, want %v", k, kind, c.direct, c.explicit, got, w[i])
				}
			}
		}
	}
	refused := fileClass{known: true, kind: kindRegular, refused: true}
	if useEngine(freebsdAIO, refused, false) {
		t.Error("a file FreeBSD refused still goes to the engine")
	}
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		mode fs.FileMode
		tty  bool
		want fileKind
	}{
		{0o644, false, kindRegular},
		{fs.ModeDir | 0o755, false, kindDir},
		{fs.ModeNamedPipe, false, kindPipe},
		{fs.ModeSocket, false, kindSocket},
		{fs.ModeDevice | fs.ModeCharDevice, true, kindTerminal},
		{fs.ModeDevice | fs.ModeCharDevice, false, kindChar},
		{fs.ModeDevice, false, kindBlock},
		{fs.ModeSymlink, false, kindOther},
		{fs.ModeIrregular, false, kindOther},
	} {
		if got := kindOf(c.mode, c.tty); got != c.want {
			t.Errorf("kindOf(%v, tty %v) = %d, want %d", c.mode, c.tty, got, c.want)
		}
	}
}

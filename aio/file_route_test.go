package aio

import (
	"io/fs"
	"testing"
)

func TestUseEngine(t *testing.T) {
	all := []fileKind{kindRegular, kindBlock, kindChar, kindTerminal, kindPipe, kindSocket, kindDir, kindOther}
	// want[os][kind] for (direct, explicit) = (false,false), (true,false), (false,true), (true,true).
	type answers [4]bool
	want := map[routeOS]map[fileKind]answers{
		routeLinux: {
			kindRegular: {false, true, true, true},
			kindBlock:   {false, true, true, true},
			kindChar:    {false, false, true, true},
		},
		routeFreeBSD: {
			kindRegular: {true, true, true, true},
			kindBlock:   {true, true, true, true},
			kindChar:    {true, true, true, true},
		},
		routePortable: {
			kindRegular: {false, false, true, true},
			kindBlock:   {false, false, true, true},
			kindChar:    {false, false, true, true},
		},
	}
	for os, kinds := range want {
		for _, k := range all {
			w := kinds[k] // streams, directories and others: all false
			for i, c := range []struct{ direct, explicit bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				if got := useEngine(os, k, c.direct, c.explicit); got != w[i] {
					t.Errorf("useEngine(%v, kind %d, direct %v, explicit %v) = %v, want %v", os, k, c.direct, c.explicit, got, w[i])
				}
			}
		}
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

package main

import (
	"context"
	"strings"
	"testing"
)

// TestBadNumberFlagsSayWhy: a -duration, -qd or -seed that does not parse
// is refused with a message saying what the flag wants, not the flag
// package's bare "parse error".
func TestBadNumberFlagsSayWhy(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-duration", "5"}, "want a duration such as 2s or 500ms"},
		{[]string{"-duration", "soon"}, "want a duration such as 2s or 500ms"},
		{[]string{"-qd", "abc"}, "want a whole number"},
		{[]string{"-qd", "1.5"}, "want a whole number"},
		{[]string{"-seed", "-1"}, "want a whole number from 0"},
	} {
		status, err := runInProcess(context.Background(), append(c.args, "-size", "1M")...)
		if status != 2 || err == nil || strings.Contains(err.Error(), "parse error") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, exit status %d; want status 2 and %q", c.args, err, status, c.want)
		}
	}
}

// TestNumberFlagsTakeWhatFlagTakes: -qd and -seed take the numbers the flag
// package's IntVar and Uint64Var took before they said why they refuse one
// (Go's integer syntax: 0x20, 0o40, 1_000), so that no command line that
// worked stops working.
func TestNumberFlagsTakeWhatFlagTakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		qd   int
		seed uint64
	}{
		{[]string{"-qd", "0x20"}, 32, 1},
		{[]string{"-qd", "0o40", "-seed", "0xdeadbeef"}, 32, 0xdeadbeef},
		{[]string{"-seed", "1_000"}, 32, 1000},
	} {
		cfg, err := parseFlags(append(c.args, "-size", "1M"))
		if err != nil {
			t.Errorf("%v: %v; want -qd %d -seed %d", c.args, err, c.qd, c.seed)
			continue
		}
		if cfg.qd != c.qd || cfg.seed != c.seed {
			t.Errorf("%v: -qd %d -seed %d; want %d and %d", c.args, cfg.qd, cfg.seed, c.qd, c.seed)
		}
	}
}

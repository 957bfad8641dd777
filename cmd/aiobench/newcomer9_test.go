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

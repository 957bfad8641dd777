package aio

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestErrorsNameThePackageOnce: every error message of the package says
// "aio:" once, at its start, however deeply it wraps a sentinel; and the
// sentinels still match through the wrapping.
func TestErrorsNameThePackageOnce(t *testing.T) {
	smCheckPins(t)
	file := smFile(t, 4096)
	c, f := newFakeContext(t, Config{}, 4, 2)
	r := smPrepared(t, file, 1)[0]
	if n, err := c.Submit(r); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	closed, err := os.Open(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	onClosed := NewRequest()
	if err := onClosed.PrepareRead(closed, 0, make([]byte, 8), nil); err != nil {
		t.Fatal(err)
	}
	closed.Close()
	_, errClosedFile := c.Submit(onClosed)
	_, errTwice := c.Submit(r)
	_, errNil := c.Submit(nil)
	full := smPrepared(t, file, 3)
	_, errFull := c.Submit(full...)
	_, errMin := c.Wait(context.Background(), 5, make([]*Request, 1))
	_, errCfg := NewContext(Config{MaxRequests: -1})
	for _, tc := range []struct {
		name string
		err  error
		is   error
	}{
		{"prepare of a submitted request", r.PrepareRead(file, 0, make([]byte, 8), nil), ErrInProgress},
		{"submit past MaxRequests", errFull, ErrAgain},
		{"submit of a file closed since Prepare", errClosedFile, os.ErrClosed},
		{"submit of a submitted request", errTwice, ErrInProgress},
		{"submit of nil", errNil, ErrInvalidState},
		{"wait with min > len(out)", errMin, os.ErrInvalid},
		{"new context with MaxRequests -1", errCfg, os.ErrInvalid},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		msg := tc.err.Error()
		if !strings.HasPrefix(msg, "aio") || strings.Count(msg, "aio:")+strings.Count(msg, "aio ") > 1 {
			t.Errorf("%s: %q names the package more than once", tc.name, msg)
		}
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: %v does not match %v", tc.name, tc.err, tc.is)
		}
	}
	f.completeAll()
	smWaitN(t, c, 2)
}

// TestUserValueAllocations: a nil or pointer user value costs nothing on
// Prepare; a value that is not pointer-shaped is boxed, as the doc says.
func TestUserValueAllocations(t *testing.T) {
	file := smFile(t, 4096)
	r, buf, p := NewRequest(), make([]byte, 8), new(int)
	big := 1000 // changed on every call, so that no static box serves it
	for _, tc := range []struct {
		name   string
		user   func() any
		allocs float64
	}{
		{"nil", func() any { return nil }, 0},
		{"pointer", func() any { return p }, 0},
		{"int above 255", func() any { big++; return big }, 1},
	} {
		got := testing.AllocsPerRun(100, func() {
			if err := r.PrepareRead(file, 0, buf, tc.user()); err != nil {
				t.Fatal(err)
			}
		})
		if got != tc.allocs {
			t.Errorf("Prepare with a %s user value: %v allocations, want %v", tc.name, got, tc.allocs)
		}
	}
}

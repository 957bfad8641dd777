package main

import (
	"errors"
	"strconv"
	"time"
)

// The flag package refuses a -duration, -qd or -seed it cannot parse with
// a bare "parse error"; these say what the flag wants, and take what the
// flag package's took (Go's integer syntax: 0x20, 1_000).

// durationFlag is -duration.
type durationFlag struct{ v *time.Duration }

func (d durationFlag) String() string {
	if d.v == nil {
		return ""
	}
	return d.v.String()
}

func (d durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 2s or 500ms")
	}
	*d.v = v
	return nil
}

// intFlag is -qd.
type intFlag struct{ v *int }

func (f intFlag) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.Itoa(*f.v)
}

func (f intFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return errors.New("too large")
	case err != nil:
		return errors.New("want a whole number, such as 32")
	}
	*f.v = int(v)
	return nil
}

// uint64Flag is -seed.
type uint64Flag struct{ v *uint64 }

func (f uint64Flag) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.FormatUint(*f.v, 10)
}

func (f uint64Flag) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return errors.New("want a whole number from 0 to 18446744073709551615")
	}
	*f.v = v
	return nil
}

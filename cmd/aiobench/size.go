package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a byte count flag: 4096, 64K, 64M, 1G, 1GiB.
type sizeFlag struct{ v int64 }

func (s *sizeFlag) String() string { return strconv.FormatInt(s.v, 10) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	s.v = n
	return nil
}

func parseSize(s string) (int64, error) {
	t := strings.ToUpper(s)
	for _, unit := range []string{"IB", "B"} { // 1GiB, 1GB: the unit letter decides
		if k := len(t) - len(unit) - 1; k >= 0 && strings.HasSuffix(t, unit) && strings.IndexByte("KMGT", t[k]) >= 0 {
			t = t[:k+1]
			break
		}
	}
	shift := 0
	if t != "" {
		if i := strings.IndexByte("KMGT", t[len(t)-1]); i >= 0 {
			shift = 10 * (i + 1)
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, errors.New("not a size (want e.g. 4096, 64K, 64M, 1G)")
	}
	if n <= 0 {
		return 0, errors.New("must be positive")
	}
	if n > (1<<62)>>shift {
		return 0, errors.New("too large")
	}
	return n << shift, nil
}

func formatSize(n int64) string {
	for shift, unit := 40, "TGMK"; shift > 0; shift, unit = shift-10, unit[1:] {
		if n >= 1<<shift && n%(1<<shift) == 0 {
			return fmt.Sprintf("%d %ciB", n>>shift, unit[0])
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

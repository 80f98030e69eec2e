package main

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is a byte count with an optional K, M or G suffix (powers of 1024).
type Size int64

// UnmarshalText parses a Size flag.
func (s *Size) UnmarshalText(text []byte) error {
	v, err := parseSize(string(text))
	if err != nil {
		return err
	}
	*s = Size(v)
	return nil
}

func parseSize(raw string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(raw))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 1 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size: give a positive number of bytes, e.g. 4096, 64K or 4M", raw)
	}
	return n * mult, nil
}

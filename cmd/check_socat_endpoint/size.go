package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/check-socat/check-socat/internal/flagval"
)

// Size is a byte count with an optional K, M or G suffix (powers of 1024).
type Size int64

// Decode lets kong parse a Size flag.
func (s *Size) Decode(ctx *kong.DecodeContext) error {
	raw, err := flagval.Pop(ctx)
	if err != nil {
		return err
	}
	v, err := parseSize(raw)
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

package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a flag value that takes plain seconds ("10", "2.5") as
// monitoring-plugins do, or a Go duration ("500ms", "1m30s"); Go's
// time.ParseDuration rejects a bare "10".
type Duration time.Duration

// maxDuration bounds every duration flag: nothing a check waits for
// should take a day.
const maxDuration = 24 * time.Hour

// ParseDuration reads a Duration; it must be positive.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var d time.Duration
	if f, err := strconv.ParseFloat(in, 64); err == nil && isPlainDecimal(in) {
		if f > maxDuration.Seconds() {
			return 0, fmt.Errorf("%q is too long: give at most one day", s)
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		var perr error
		d, perr = time.ParseDuration(in)
		if perr != nil {
			return 0, fmt.Errorf("%q is not a duration: use seconds (10, 2.5) or a unit (500ms, 1m)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be greater than zero", s)
	}
	if d > maxDuration {
		return 0, fmt.Errorf("%q is too long: give at most one day", s)
	}
	return d, nil
}

func isPlainDecimal(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		case c == '+' && i == 0:
		default:
			return false
		}
	}
	return s != "." && s != "+"
}

// UnmarshalText parses a Duration flag.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ZeroDuration is like Duration but also accepts 0 (to switch a wait off).
type ZeroDuration time.Duration

// UnmarshalText parses a ZeroDuration flag.
func (d *ZeroDuration) UnmarshalText(text []byte) error {
	raw := string(text)
	if isZero(raw) {
		*d = 0
		return nil
	}
	v, err := ParseDuration(raw)
	if err != nil {
		return err
	}
	*d = ZeroDuration(v)
	return nil
}

// D returns the time.Duration.
func (d ZeroDuration) D() time.Duration { return time.Duration(d) }

// isZero recognises every spelling of zero ParseDuration would accept
// otherwise: 0, 0.00, 0s, 0ms.
func isZero(raw string) bool {
	in := strings.TrimSpace(raw)
	if f, err := strconv.ParseFloat(in, 64); err == nil && isPlainDecimal(in) {
		return f == 0
	}
	d, err := time.ParseDuration(in)
	return err == nil && d == 0
}

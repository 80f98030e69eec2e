// Package flagval reads one flag value from kong's scanner for the custom
// flag types (states, ranges, durations), with a clear error when the
// value is missing.
package flagval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// ErrMissing is returned when a flag is last on the command line.
var ErrMissing = errors.New("needs a value")

// Pop returns the next value as a string.
func Pop(ctx *kong.DecodeContext) (string, error) {
	t, err := ctx.Scan.PopValue("value")
	if err != nil {
		return "", err
	}
	if t.IsEOL() {
		return "", ErrMissing
	}
	switch v := t.Value.(type) {
	case string:
		return v, nil
	default:
		return fmt.Sprint(v), nil
	}
}

// Text is a string flag that must not be empty when given: an empty
// value (an unset NRPE $ARG1$) would otherwise read as "not given" and
// silently change what the check does.
type Text string

// Decode lets kong parse a Text flag.
func (t *Text) Decode(ctx *kong.DecodeContext) error {
	v, err := Pop(ctx)
	if err != nil {
		return err
	}
	if strings.TrimSpace(v) == "" {
		return errors.New("is empty: give a value, or leave the flag out")
	}
	*t = Text(v)
	return nil
}

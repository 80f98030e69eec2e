// Package flagval reads one flag value from kong's scanner for the custom
// flag types (states, ranges, durations), with a clear error when the
// value is missing.
package flagval

import (
	"errors"
	"fmt"

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

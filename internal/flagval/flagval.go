// Package flagval holds flag value types more than one binary uses.
package flagval

import (
	"errors"
	"strings"
)

// Text is a string flag that must not be empty when given: an empty
// value (an unset NRPE $ARG1$) would otherwise read as "not given" and
// silently change what the check does.
type Text string

// UnmarshalText parses a Text flag.
func (t *Text) UnmarshalText(text []byte) error {
	if strings.TrimSpace(string(text)) == "" {
		return errors.New("is empty: give a value, or leave the flag out")
	}
	*t = Text(text)
	return nil
}

// Package state is the Nagios service state: OK, WARNING, CRITICAL and
// UNKNOWN, their exit codes, and the rule that combines several of them.
package state

import (
	"fmt"
	"strings"
)

// State is a Nagios service state. The zero value is OK.
type State int

// The four states, with their plugin exit codes as values.
const (
	OK       State = 0
	Warning  State = 1
	Critical State = 2
	Unknown  State = 3
)

// String is the state word used in the first line of plugin output.
func (s State) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// ExitCode is the process exit code for the state; anything that is not a
// known state exits 3.
func (s State) ExitCode() int {
	switch s {
	case OK, Warning, Critical:
		return int(s)
	default:
		return int(Unknown)
	}
}

// severity orders states for Worst: CRITICAL > WARNING > UNKNOWN > OK,
// the order monitoring-plugins uses (max_state_alt): a definite problem
// outranks a partial inability to tell.
func (s State) severity() int {
	switch s {
	case OK:
		return 0
	case Unknown:
		return 1
	case Warning:
		return 2
	default:
		return 3
	}
}

// Worse reports whether s is more severe than o.
func (s State) Worse(o State) bool { return s.severity() > o.severity() }

// Worst returns the most severe of the states, OK for none.
func Worst(states ...State) State {
	w := OK
	for _, s := range states {
		if s.Worse(w) {
			w = s
		}
	}
	return w
}

// Parse reads a state name as users write it on the command line:
// ok, warning, critical, unknown (also warn, crit and the digits 0-3),
// case-insensitive.
func Parse(s string) (State, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ok", "0":
		return OK, nil
	case "warning", "warn", "1":
		return Warning, nil
	case "critical", "crit", "2":
		return Critical, nil
	case "unknown", "3":
		return Unknown, nil
	}
	return OK, fmt.Errorf("%q is not a state: use ok, warning, critical or unknown", s)
}

// UnmarshalText parses a State flag.
func (s *State) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

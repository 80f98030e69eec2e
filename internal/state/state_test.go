package state

import (
	"testing"

	nagios "github.com/atc0005/go-nagios"
)

// The words and exit codes are the plugin API's; go-nagios' constants
// are the second opinion.
func TestAgreesWithGoNagios(t *testing.T) {
	for _, tt := range []struct {
		s     State
		code  int
		label string
	}{
		{OK, nagios.StateOKExitCode, nagios.StateOKLabel},
		{Warning, nagios.StateWARNINGExitCode, nagios.StateWARNINGLabel},
		{Critical, nagios.StateCRITICALExitCode, nagios.StateCRITICALLabel},
		{Unknown, nagios.StateUNKNOWNExitCode, nagios.StateUNKNOWNLabel},
	} {
		if tt.s.ExitCode() != tt.code || tt.s.String() != tt.label {
			t.Errorf("%v: exit %d, want %d %s", tt.s, tt.s.ExitCode(), tt.code, tt.label)
		}
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []State
		want State
	}{
		{nil, OK},
		{[]State{OK, Warning, OK}, Warning},
		{[]State{Warning, Critical, Warning}, Critical},
		{[]State{Critical, Warning}, Critical},
		{[]State{OK, Unknown}, Unknown},
		{[]State{Unknown, Warning}, Warning},
		{[]State{Unknown, Critical, OK}, Critical},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]State{"ok": OK, "OK": OK, "Warning": Warning, "warn": Warning, "critical": Critical, "crit": Critical, "unknown": Unknown, "2": Critical} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "green", "4", "okay"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	for s, code := range map[State]int{OK: 0, Warning: 1, Critical: 2, Unknown: 3, State(7): 3, State(-1): 3} {
		if s.ExitCode() != code {
			t.Errorf("%d.ExitCode() = %d", s, s.ExitCode())
		}
	}
}

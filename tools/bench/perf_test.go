package main

import "testing"

// The counts the adversarial rows compare come from the perfdata, with
// labels quoted (before issue 12) or bare (since), never from the summary.
func TestPerfInt(t *testing.T) {
	for _, line := range []string{
		"CRITICAL: 3 service exits (exit=9 in text) | 'exit'=3;;0;0; 'accepted'=12;;;0;",
		"CRITICAL: 3 service exits (exit=9 in text) | exit=3;;0;0; accepted=12;;;0;",
	} {
		if perfInt(line, "exit") != 3 || perfInt(line, "accepted") != 12 || perfInt(line, "missing") != -1 {
			t.Errorf("%q: exit %d, accepted %d", line, perfInt(line, "exit"), perfInt(line, "accepted"))
		}
	}
}

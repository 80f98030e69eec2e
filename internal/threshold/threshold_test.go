package threshold

import (
	"testing"

	nagios "github.com/atc0005/go-nagios"

	"github.com/check-socat/check-socat/internal/state"
)

func TestParseAndAlert(t *testing.T) {
	tests := []struct {
		in      string
		canon   string
		alert   []float64
		noAlert []float64
	}{
		{"10", "10", []float64{-0.1, 10.1, 100}, []float64{0, 5, 10}},
		{"10:", "10:", []float64{9.99, -1}, []float64{10, 1e9}},
		{"~:10", "~:10", []float64{10.5}, []float64{-1e9, 10}},
		{"10:20", "10:20", []float64{9, 21}, []float64{10, 15, 20}},
		{"@10:20", "@10:20", []float64{10, 15, 20}, []float64{9.9, 20.1}},
		// go-nagios v0.20.0 parses "@~:10" as "outside ~:10"; the guideline
		// says alert when the value is inside -inf..10.
		{"@~:10", "@~:10", []float64{-5, 10}, []float64{10.01}},
		{"-5:-1", "-5:-1", []float64{-6, 0}, []float64{-5, -3, -1}},
		{"0.5:2.25", "0.5:2.25", []float64{0.4, 2.3}, []float64{0.5, 2.25}},
		{":10", "10", []float64{-1, 11}, []float64{0, 10}},
		{"@0", "@0", []float64{0}, []float64{0.001, -0.001}},
		{" 5 ", "5", []float64{6}, []float64{5}},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.canon {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.canon)
		}
		for _, v := range tt.alert {
			if !r.Alert(v) {
				t.Errorf("%q: %v should alert", tt.in, v)
			}
		}
		for _, v := range tt.noAlert {
			if r.Alert(v) {
				t.Errorf("%q: %v should not alert", tt.in, v)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "@", "~", "1.2.3", "abc", "10:5", "1e3", "0x10", "inf", "NaN", "1:2:3", "~10", "--1", "1_000", "5,6", ":", "~:", "@:", "@~:"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

// The traps of go-nagios v0.20.0 that this package exists to avoid. Each
// row states what the library does (so the trap is documented by a test
// that notices when it is fixed) and what ours must do; the assertions on
// ours fail if the library's parser were used instead.
func TestGoNagiosTraps(t *testing.T) {
	tests := []struct {
		in          string
		v           float64
		wantAlert   bool
		libAccepted bool
		libAlert    bool
	}{
		// "@~:10" is parsed by go-nagios as 0:0 inside: -5 does not alert.
		{in: "@~:10", v: -5, wantAlert: true, libAccepted: true, libAlert: false},
		// "1.2.3" is accepted by go-nagios as 0:0.
		{in: "1.2.3", libAccepted: true},
	}
	for _, tt := range tests {
		lib := nagios.ParseRangeString(tt.in)
		if (lib != nil) != tt.libAccepted {
			t.Logf("go-nagios changed: ParseRangeString(%q) accepted=%v", tt.in, lib != nil)
		} else if lib != nil && tt.wantAlert && lib.CheckRange("-5") != tt.libAlert {
			t.Logf("go-nagios changed its answer for %q", tt.in)
		}
		r, err := Parse(tt.in)
		if !tt.wantAlert {
			if err == nil {
				t.Errorf("Parse(%q) must be rejected", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if r.Alert(tt.v) != tt.wantAlert {
			t.Errorf("%q on %v: alert=%v, want %v", tt.in, tt.v, r.Alert(tt.v), tt.wantAlert)
		}
	}
}

func TestEvaluateLooksAtBoth(t *testing.T) {
	warn, crit := MustParse("1"), MustParse("2")
	tests := []struct {
		v    float64
		want state.State
	}{{0.5, state.OK}, {1.5, state.Warning}, {3, state.Critical}}
	for _, tt := range tests {
		if got := Evaluate(tt.v, warn, crit); got != tt.want {
			t.Errorf("Evaluate(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	// Unset ranges never alert.
	if got := Evaluate(1e9, Range{}, Range{}); got != state.OK {
		t.Errorf("unset ranges alerted: %v", got)
	}
}

// go-nagios' EvaluateThreshold stops at the first breached metric: with a
// WARNING metric before a CRITICAL one it reports WARNING. Worst-state
// aggregation over Evaluate must report CRITICAL.
func TestWorstOverMetrics(t *testing.T) {
	p := nagios.NewPlugin()
	p.SkipOSExit()
	_ = p.EvaluateThreshold(
		nagios.PerformanceData{Label: "a", Value: "5", Warn: "1", Crit: "10"},
		nagios.PerformanceData{Label: "b", Value: "50", Warn: "1", Crit: "10"},
	)
	libState := state.State(p.ExitStatusCode)
	ours := state.Worst(
		Evaluate(5, MustParse("1"), MustParse("10")),
		Evaluate(50, MustParse("1"), MustParse("10")),
	)
	if ours != state.Critical {
		t.Fatalf("worst of WARNING and CRITICAL metrics = %v, want CRITICAL", ours)
	}
	if libState != state.Warning {
		t.Logf("go-nagios changed: EvaluateThreshold now gives %v", libState)
	}
}

// Any text: a range or an error, never a panic; a range prints as text
// that parses to the same range.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"10", "10:", "~:10", "10:20", "@10:20", "@~:10", "-5:-1", "1.5", "1e3", ":", "~:", "10:5", "", "@", "1.2.3", "NaN", "Inf:", "-0", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(r.String())
		if err != nil {
			t.Fatalf("%q parsed, but its text %q does not: %v", s, r.String(), err)
		}
		for _, v := range []float64{-1e9, -10, -1, 0, 0.5, 1, 9.99, 10, 10.01, 20, 1e9} {
			if r.Alert(v) != again.Alert(v) {
				t.Fatalf("%q and its text %q judge %v differently", s, r.String(), v)
			}
		}
	})
}

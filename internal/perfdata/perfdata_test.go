package perfdata

import (
	"strings"
	"testing"

	nagios "github.com/atc0005/go-nagios"

	"github.com/check-socat/check-socat/internal/threshold"
)

func TestString(t *testing.T) {
	tests := []struct {
		m    Metric
		want string
	}{
		{Seconds("time", 0.0012345678), "time=0.001235s;;;;"},
		{Seconds("time", 2).WithRanges(threshold.MustParse("1"), threshold.MustParse("@~:-0.5")), "time=2s;1;@~:-0.5;;"},
		{New("bytes_received", 123456789012, "B").WithMin(0), "bytes_received=123456789012B;;;0;"},
		{New("throughput", 1.5e12, ""), "throughput=1500000000000;;;;"},
		{New("connections_ok", 3, "").WithMin(0).WithMax(8), "connections_ok=3;;;0;8"},
		{New("tiny", 1e-9, ""), "tiny=0.000000001;;;;"},
	}
	// A label that needs quotes keeps them (Validate rejects it for our
	// own metrics, but the renderer must not break it).
	if got := New("a b", 1, "").String(); got != "'a b'=1;;;;" {
		t.Errorf("a label with a space: %q", got)
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if err := tt.m.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", tt.want, err)
		}
	}
}

func TestFormatNumberNeverScientific(t *testing.T) {
	for _, v := range []float64{1e21, 1e-7, 123456789.123456789, -0.0000001} {
		for _, d := range []int{-1, 0, 3, 6} {
			s := FormatNumber(v, d)
			for _, c := range s {
				if c == 'e' || c == 'E' {
					t.Errorf("FormatNumber(%v, %d) = %q", v, d, s)
				}
			}
		}
	}
	if got := FormatNumber(-0.0000001, 3); got != "0" {
		t.Errorf("negative zero rendered as %q", got)
	}
}

func TestValidateRejects(t *testing.T) {
	for _, m := range []Metric{New("Time", 1, ""), New("a b", 1, ""), New("x|y", 1, ""), New("ok", 1, "sec"), New("", 1, "")} {
		if err := m.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", m)
		}
	}
}

// go-nagios is the second opinion on the format: every metric we render
// is what its PerformanceData renders from the same fields (but for the
// quotes of a plain label), passes its Validate, and parses back with its
// parser to the same fields.
func TestAgreesWithGoNagios(t *testing.T) {
	lo, hi := 0.0, 8.0
	for _, m := range []Metric{
		Seconds("time", 0.0012345678),
		Seconds("time", 2).WithRanges(threshold.MustParse("1"), threshold.MustParse("@~:-0.5")),
		New("bytes_received", 123456789012, "B").WithMin(0),
		New("connections_ok", 3, "").WithMin(lo).WithMax(hi),
		New("used", 99.5, "%").WithRanges(threshold.MustParse("80:"), threshold.MustParse("10:90")),
		New("lines", 12, "c"),
		New("days_left", -3.25, "").WithRanges(threshold.MustParse("30:"), threshold.MustParse("7:")),
	} {
		pd := nagios.PerformanceData{Label: m.Label, Value: m.value(), UnitOfMeasurement: m.Unit,
			Warn: m.Warn.String(), Crit: m.Crit.String(), Min: m.min(), Max: m.max()}
		if err := pd.Validate(); err != nil {
			t.Errorf("%s: go-nagios rejects it: %v", m, err)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", m, err)
		}
		theirs := strings.Replace(strings.TrimSpace(pd.String()), "'"+m.Label+"'=", m.Label+"=", 1)
		if m.String() != theirs {
			t.Errorf("ours %q, go-nagios %q", m.String(), theirs)
		}
		parsed, err := nagios.ParsePerfData(m.String())
		if err != nil || len(parsed) != 1 {
			t.Errorf("go-nagios cannot parse %q: %v", m.String(), err)
			continue
		}
		if parsed[0] != pd {
			t.Errorf("go-nagios parses %q as %+v, want %+v", m.String(), parsed[0], pd)
		}
	}
}

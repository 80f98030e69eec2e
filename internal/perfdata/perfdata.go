// Package perfdata builds Nagios performance data. Values are rendered as
// plain decimals (never scientific notation) and the warn/crit fields carry
// the ranges the user gave, so graphers draw the right lines. The rendering
// itself ('label'=value[UOM];[warn];[crit];[min];[max], the label quoted
// only when it must be) is checked against go-nagios' PerformanceData in
// the tests; the binaries do not link go-nagios, whose compress/gzip and
// log initialisation every start would pay.
package perfdata

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/check-socat/check-socat/internal/threshold"
)

// Units allowed by the contract; "" means a plain number.
var units = map[string]bool{"": true, "s": true, "ms": true, "us": true, "%": true, "B": true, "KB": true, "MB": true, "TB": true, "c": true}

// labelRE is compiled when a metric is first validated (tests), not at
// every start.
var labelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_]*$`) })

// Metric is one performance data item.
type Metric struct {
	Label      string
	Value      float64
	Unit       string
	Warn, Crit threshold.Range
	Min, Max   *float64
	// Decimals bounds the fraction digits of Value (and Min/Max); -1 keeps
	// the shortest exact form.
	Decimals int
}

// New returns a metric with the given label, value and unit and the
// shortest exact decimal rendering.
func New(label string, value float64, unit string) Metric {
	return Metric{Label: label, Value: value, Unit: unit, Decimals: -1}
}

// Seconds returns a duration metric in seconds with microsecond resolution.
func Seconds(label string, seconds float64) Metric {
	m := New(label, seconds, "s")
	m.Decimals = 6
	return m
}

// WithRanges sets the warning and critical ranges.
func (m Metric) WithRanges(warn, crit threshold.Range) Metric {
	m.Warn, m.Crit = warn, crit
	return m
}

// WithMin sets the minimum.
func (m Metric) WithMin(v float64) Metric { m.Min = &v; return m }

// WithMax sets the maximum.
func (m Metric) WithMax(v float64) Metric { m.Max = &v; return m }

// FormatNumber renders v as a plain decimal with at most decimals fraction
// digits (trailing zeros removed); -1 for the shortest exact form. NaN and
// infinities, which no grapher understands, become "U" here; the result
// model never hands such a value to the perfdata (checks.Result.Perf).
func FormatNumber(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "U"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if decimals > 0 && strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Validate checks the label and unit against the contract.
func (m Metric) Validate() error {
	if !labelRE().MatchString(m.Label) {
		return fmt.Errorf("perfdata label %q is not lower_snake", m.Label)
	}
	if !units[m.Unit] {
		return fmt.Errorf("perfdata %s: unit %q is not allowed", m.Label, m.Unit)
	}
	for _, v := range []string{m.value(), m.min(), m.max()} {
		if v == "U" {
			return fmt.Errorf("perfdata %s: the value is not a number", m.Label)
		}
	}
	return nil
}

func (m Metric) value() string { return FormatNumber(m.Value, m.Decimals) }

func (m Metric) min() string {
	if m.Min == nil {
		return ""
	}
	return FormatNumber(*m.Min, m.Decimals)
}

func (m Metric) max() string {
	if m.Max == nil {
		return ""
	}
	return FormatNumber(*m.Max, m.Decimals)
}

// String renders the metric as label=value[unit];warn;crit;min;max. The
// label is quoted only when it needs quotes (a space, a quote or an
// equals sign): Sensu's and Telegraf's Nagios parsers keep the quotes of
// a quoted label as part of its name.
func (m Metric) String() string {
	label := m.Label
	if !plainLabel(label) {
		label = "'" + label + "'"
	}
	return label + "=" + m.value() + m.Unit + ";" + m.Warn.String() + ";" + m.Crit.String() + ";" + m.min() + ";" + m.max()
}

// plainLabel reports whether a label can go without quotes.
func plainLabel(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// Join renders metrics separated by single spaces.
func Join(ms []Metric) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}

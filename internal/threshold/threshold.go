// Package threshold implements Nagios ranges as the plugin development
// guidelines define them, completely: "10", "10:", "~:10", "10:20",
// "@10:20", "@~:10", negative numbers and decimals.
//
// go-nagios' ParseRangeString is not used: it mis-parses "@~:10" and
// accepts "1.2.3"; and its EvaluateThreshold stops at the first breached
// metric, so a WARNING can hide a later CRITICAL. Evaluation here is per
// value and the caller combines states with state.Worst.
package threshold

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/check-socat/check-socat/internal/state"
)

// Range is one parsed Nagios range. The zero value is "not set" and never
// alerts.
type Range struct {
	set    bool
	inside bool    // '@': alert when start <= v <= end
	start  float64 // -Inf when '~'
	end    float64 // +Inf when omitted after ':'
}

// number is compiled when a range is first parsed, not at every start.
var number = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)
})

func parseNumber(s string) (float64, error) {
	if !number().MatchString(s) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseFloat(s, 64)
}

// Parse reads a range in the Nagios guideline syntax.
func Parse(s string) (Range, error) {
	in := strings.TrimSpace(s)
	r := Range{set: true}
	if strings.HasPrefix(in, "@") {
		r.inside = true
		in = in[1:]
	}
	bad := func(why string) (Range, error) {
		return Range{}, fmt.Errorf("%q is not a Nagios range (%s); use e.g. 10, 10:, ~:10, 10:20 or @10:20", s, why)
	}
	if in == "" {
		return bad("empty")
	}
	startStr, endStr, hasColon := strings.Cut(in, ":")
	if !hasColon {
		endStr, startStr = startStr, ""
	}
	switch startStr {
	case "~":
		if !hasColon {
			return bad("'~' must be followed by ':'")
		}
		r.start = math.Inf(-1)
	case "":
		r.start = 0
	default:
		v, err := parseNumber(startStr)
		if err != nil {
			return bad(err.Error())
		}
		r.start = v
	}
	if endStr == "" {
		if !hasColon || startStr == "" || startStr == "~" {
			return bad("no end")
		}
		r.end = math.Inf(1)
	} else {
		v, err := parseNumber(endStr)
		if err != nil {
			return bad(err.Error())
		}
		r.end = v
	}
	if r.start > r.end {
		return bad("start is greater than end")
	}
	return r, nil
}

// MustParse is Parse for constants in code and tests.
func MustParse(s string) Range {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// IsSet reports whether the range was given.
func (r Range) IsSet() bool { return r.set }

// Alert reports whether v breaches the range.
func (r Range) Alert(v float64) bool {
	if !r.set {
		return false
	}
	inside := v >= r.start && v <= r.end
	if r.inside {
		return inside
	}
	return !inside
}

func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// String is the canonical form of the range, as it goes into perfdata:
// plain decimals, never scientific notation. An unset range is "".
func (r Range) String() string {
	if !r.set {
		return ""
	}
	var b strings.Builder
	if r.inside {
		b.WriteByte('@')
	}
	switch {
	case math.IsInf(r.start, -1):
		b.WriteString("~:")
	case r.start != 0 || math.IsInf(r.end, 1):
		b.WriteString(formatNumber(r.start))
		b.WriteByte(':')
	}
	if !math.IsInf(r.end, 1) {
		b.WriteString(formatNumber(r.end))
	}
	return b.String()
}

// Evaluate returns CRITICAL if v breaches crit, else WARNING if it breaches
// warn, else OK. Both are always looked at.
func Evaluate(v float64, warn, crit Range) state.State {
	switch {
	case crit.Alert(v):
		return state.Critical
	case warn.Alert(v):
		return state.Warning
	}
	return state.OK
}

// UnmarshalText parses a Range flag. Negative ranges such as "-5:-1"
// arrive whole: a flag's value may start with a hyphen (internal/flags).
func (r *Range) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

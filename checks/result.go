package checks

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
)

// Result is the outcome of one run: what every check returns and the one
// thing the renderers (Nagios text, OpenMetrics, JSON) read.
type Result struct {
	State   state.State
	Summary string // first line, after "STATE: "
	// Findings are the problems found, worst first (Sort).
	Findings []Finding
	// Details is the rest of the long output, after the findings: items,
	// notes, what -v asks for; one line each.
	Details []string
	Metrics []Metric
	// SubjectLabel names the label that carries a finding's subject in
	// OpenMetrics ("socat_instance" for procs); "subject" when empty.
	SubjectLabel string
	// Document, when set, is what the run prints instead of the result
	// (check_socat_procs --discover: configuration), with exit 0 when the
	// state is OK; any other state is rendered as a result.
	Document []byte
}

// Unknownf is a Result for a run that could not determine anything:
// bad input, an unreadable file, a missing permission. The message says
// what is wrong and what to do.
func Unknownf(format string, args ...any) Result {
	return Result{State: state.Unknown, Summary: fmt.Sprintf(format, args...)}
}

// Finding is one problem a check found.
type Finding struct {
	// ID is stable (a contract: configurations, alerts and --ignore name
	// it), lower-kebab, e.g. cert-expiring, backend-down, tls-verify-off.
	ID    string
	State state.State
	// Rank orders findings of one state: lower first; Count then orders
	// findings of one rank, higher first.
	Rank  int
	Count int64
	// Subject is what the finding is about: an instance, a port, a file,
	// a log source, a category, a target.
	Subject string
	Text    string // what is wrong, one line
	Remedy  string // what to do, when the check knows
	// Labels identify the subject in OpenMetrics when one label is not
	// enough (procs: the instance's port); Subject is used when empty.
	Labels []Label
	// Line is the finding's line of Nagios long output when it is not
	// "STATE: Text"; Evidence are lines shown under it (log lines).
	Line     string
	Evidence []string
	// Quiet findings are said by the summary and the details already:
	// they add no line of Nagios output (but are in JSON and OpenMetrics).
	Quiet bool
}

// NagiosLine is the finding as a line of Nagios long output.
func (f Finding) NagiosLine() string {
	if f.Line != "" {
		return f.Line
	}
	return f.State.String() + ": " + f.Text
}

// Sort orders findings worst state first (CRITICAL, WARNING, UNKNOWN,
// OK), then by rank, then by count (higher first); otherwise as found.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.State != b.State:
			return a.State.Worse(b.State)
		case a.Rank != b.Rank:
			return a.Rank < b.Rank
		}
		return a.Count > b.Count
	})
}

// Worst folds the findings' states into from: the worst of all, never
// the first one found.
func Worst(from state.State, fs []Finding) state.State {
	for _, f := range fs {
		from = state.Worst(from, f.State)
	}
	return from
}

// More is the summary's note of what it does not name: " (+N more)", or
// " (+N more problems)" with a noun; "" for none.
func More(n int, noun string) string {
	switch {
	case n <= 0:
		return ""
	case noun == "":
		return fmt.Sprintf(" (+%d more)", n)
	}
	return fmt.Sprintf(" (+%d more %s%s)", n, noun, Plural(n))
}

// Plural is "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// JoinMax joins at most n items with ", " and says how many more: "a, b, +3".
func JoinMax(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(", +%d", len(items)-n)
}

// Kind is the OpenMetrics type of a metric.
type Kind int

// Gauges go up and down; counters only grow, across runs, until the
// check's state is reset.
const (
	Gauge Kind = iota
	Counter
)

// Label is one OpenMetrics label.
type Label struct{ Name, Value string }

// Metric is one measured value. The Nagios side (perfdata label, unit,
// ranges, min, max) is the embedded perfdata.Metric, whose Label is empty
// for a metric that is not in the perfdata; Name, Labels and Kind are the
// OpenMetrics side, the name without the "socat_<check>_" prefix. JSON
// carries both.
type Metric struct {
	perfdata.Metric
	Name   string
	Help   string
	Kind   Kind
	Labels []Label
}

// NewMetric is a gauge named name (after socat_<check>_) with help, the
// Nagios side pm, and labels given as name, value pairs.
func NewMetric(name, help string, pm perfdata.Metric, labels ...string) Metric {
	m := Metric{Metric: pm, Name: name, Help: help}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Labels = append(m.Labels, Label{labels[i], labels[i+1]})
	}
	return m
}

// Only is a metric that is not in the Nagios perfdata.
func Only(name, help string, value float64, labels ...string) Metric {
	pm := perfdata.New("", value, "")
	return NewMetric(name, help, pm, labels...)
}

// AsCounter makes the metric a counter (its name ends in _total).
func (m Metric) AsCounter() Metric { m.Kind = Counter; return m }

// Known reports whether the value was measured: NaN and infinities are
// not, and are left out of every output.
func (m Metric) Known() bool { return !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) }

// Perf is the metrics that are in the Nagios perfdata, in order.
func (r Result) Perf() []perfdata.Metric {
	var out []perfdata.Metric
	for _, m := range r.Metrics {
		// A value that was not measured is left out (Icinga logs
		// "Ignoring invalid perfdata" for each "U"); the check says why
		// in its long output.
		if m.Label != "" && m.Known() {
			out = append(out, m.Metric)
		}
	}
	return out
}

// PerfWithout is Perf without the metrics that carry the label named
// label (the per-instance ones, for the label of a result's subjects).
func (r Result) PerfWithout(label string) []perfdata.Metric {
	var out []perfdata.Metric
	for _, m := range r.Metrics {
		if m.Label == "" || !m.Known() {
			continue
		}
		has := false
		for _, l := range m.Labels {
			if l.Name == label {
				has = true
			}
		}
		if !has {
			out = append(out, m.Metric)
		}
	}
	return out
}

// PerfValue is the value of the perfdata item label, and whether there is one.
func (r Result) PerfValue(label string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Label == label && label != "" {
			return m.Value, true
		}
	}
	return 0, false
}

// FromPerf wraps perfdata items as metrics named after their labels: for
// tests and for callers with nothing but perfdata.
func FromPerf(ms []perfdata.Metric) []Metric {
	out := make([]Metric, len(ms))
	for i, m := range ms {
		out[i] = Metric{Metric: m, Name: m.Label, Help: "The perfdata item " + m.Label + "."}
	}
	return out
}

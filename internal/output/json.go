package output

import (
	"encoding/json"
	"strings"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
)

// jsonResult is the JSON form of a result (packaging/json/result.schema.json).
type jsonResult struct {
	Check    string        `json:"check"`
	State    string        `json:"state"`
	ExitCode int           `json:"exit_code"`
	Summary  string        `json:"summary"`
	Findings []jsonFinding `json:"findings"`
	Metrics  []jsonMetric  `json:"metrics"`
	Details  []string      `json:"details"`
}

type jsonFinding struct {
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Subject  string   `json:"subject"`
	Text     string   `json:"text"`
	Remedy   string   `json:"remedy"`
	Evidence []string `json:"evidence,omitempty"`
}

type jsonMetric struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels"`
	Value    *float64          `json:"value"` // null: not measured
	Unit     string            `json:"unit"`
	Warn     *string           `json:"warn"`
	Crit     *string           `json:"crit"`
	Min      *float64          `json:"min"`
	Max      *float64          `json:"max"`
	Perfdata string            `json:"perfdata,omitempty"` // the Nagios label
}

// JSON renders r as one JSON object with a newline: state, exit_code,
// summary, findings, metrics, details. Every text passes sanitize.Line,
// as in the Nagios output (outside text that a check did not escape, a
// newline from a flag, is escaped here too); JSON's own escaping keeps
// each one value. A metric's name is its OpenMetrics name, or for a
// perfdata-only metric (days_left) socat_<check>_<perfdata label>.
func JSON(r checks.Result, check string) ([]byte, error) {
	out := jsonResult{
		Check: "check_socat_" + check, State: r.State.String(), ExitCode: r.State.ExitCode(),
		Summary: sanitize.Line(strings.TrimSpace(r.Summary)), Findings: []jsonFinding{}, Metrics: []jsonMetric{}, Details: lines(r.Details),
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, jsonFinding{ID: f.ID, State: f.State.String(), Subject: sanitize.Line(f.Subject),
			Text: sanitize.Line(f.Text), Remedy: sanitize.Line(f.Remedy), Evidence: lines(f.Evidence)})
	}
	for _, m := range r.Metrics {
		name := m.Name
		if name == "" {
			name = m.Label
		}
		jm := jsonMetric{Name: "socat_" + check + "_" + name, Labels: map[string]string{}, Unit: m.Unit, Min: m.Min, Max: m.Max, Perfdata: m.Label}
		if m.Known() {
			v := m.Value
			jm.Value = &v
		}
		for _, l := range m.Labels {
			jm.Labels[l.Name] = l.Value
		}
		if s := m.Warn.String(); s != "" {
			jm.Warn = &s
		}
		if s := m.Crit.String(); s != "" {
			jm.Crit = &s
		}
		out.Metrics = append(out.Metrics, jm)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// lines sanitizes each line; never nil, so that JSON says [] not null.
func lines(ls []string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, sanitize.Line(l))
	}
	return out
}

package output

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks"
)

// The Prometheus encodings are written here rather than with
// prometheus/common's expfmt: expfmt needs client_model's protobuf
// types, whose package initialisation (descriptors, registries) cost
// every run of every binary about 3 ms, a fifth of a check's start-up on
// the machines we measure, for output a Nagios run never asks for. The
// tests compare these bytes with expfmt's own encoders on the same
// families (TestEncodersMatchExpfmt) and parse them with Prometheus'
// parser, so the format is Prometheus', not ours.

// family is one metric family: its samples share name, help and type.
type family struct {
	name, help string
	counter    bool
	samples    []sample
}

type sample struct {
	labels []checks.Label
	value  float64
}

// OpenMetrics renders r in the OpenMetrics 1.0 text format, for a
// Prometheus that scrapes it: see families for what it holds.
func OpenMetrics(r checks.Result, check string, now time.Time) ([]byte, error) {
	fams, err := families(r, check, now)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, f := range fams {
		name := f.name
		if f.counter {
			name = strings.TrimSuffix(name, "_total")
		}
		fmt.Fprintf(&b, "# HELP %s %s\n", name, quotedEscaper.Replace(f.help))
		typ := "gauge"
		if f.counter {
			typ = "counter"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ)
		for _, s := range f.samples {
			writeSample(&b, f.name, s, omFloat(s.value))
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes(), nil
}

// Textfile renders r for node_exporter's textfile collector, which reads
// the Prometheus text format (0.0.4), not OpenMetrics: there a counter's
// TYPE line names the family with its _total, where OpenMetrics names it
// without, and node_exporter 1.5 types an OpenMetrics counter "untyped"
// (promtool check metrics reports it as lacking HELP). The same families
// as OpenMetrics, then "# EOF", which the text format reads as a comment.
func Textfile(r checks.Result, check string, now time.Time) ([]byte, error) {
	fams, err := families(r, check, now)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, f := range fams {
		fmt.Fprintf(&b, "# HELP %s %s\n", f.name, escaper.Replace(f.help))
		typ := "gauge"
		if f.counter {
			typ = "counter"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", f.name, typ)
		for _, s := range f.samples {
			writeSample(&b, f.name, s, textFloat(s.value))
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes(), nil
}

var (
	escaper       = strings.NewReplacer("\\", `\\`, "\n", `\n`)
	quotedEscaper = strings.NewReplacer("\\", `\\`, "\n", `\n`, "\"", `\"`)
)

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, with colon false, a label name; a loop, not a regexp compiled at
// start-up by every run.
func validName(s string, colon bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || colon && c == ':' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return s != ""
}

func writeSample(b *bytes.Buffer, name string, s sample, value string) {
	b.WriteString(name)
	for i, l := range s.labels {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(quotedEscaper.Replace(l.Value))
		b.WriteByte('"')
	}
	if len(s.labels) > 0 {
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

// textFloat is a value as the text format writes it (expfmt's writeFloat).
func textFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// omFloat is a value as OpenMetrics writes it: always with a fraction
// or an exponent.
func omFloat(f float64) string {
	s := textFloat(f)
	if !math.IsNaN(f) && !math.IsInf(f, 0) && !strings.ContainsAny(s, "e.") {
		s += ".0"
	}
	return s
}

// families are the metric families of r: every metric of the result
// under socat_<check>_, one socat_<check>_finding series per finding (its
// value is how many findings share its labels), socat_<check>_state
// (0..3, the exit code) and socat_<check>_last_run_timestamp_seconds,
// each with HELP and TYPE. Values that were not measured are left out;
// a series is written once.
func families(r checks.Result, check string, now time.Time) ([]*family, error) {
	prefix := "socat_" + check + "_"
	var fams []*family
	byName := map[string]*family{}
	seen := map[string]bool{} // name and labels: a series is written once
	var bad error
	add := func(name, help string, kind checks.Kind, labels []checks.Label, value float64) {
		if !validName(name, true) {
			bad = fmt.Errorf("metric name %q is not valid", name)
			return
		}
		key := name
		for _, l := range labels {
			if !validName(l.Name, false) || strings.HasPrefix(l.Name, "__") {
				bad = fmt.Errorf("metric %s: label name %q is not valid", name, l.Name)
				return
			}
			key += "\x00" + l.Name + "\x00" + l.Value
		}
		if seen[key] {
			return
		}
		seen[key] = true
		f := byName[name]
		if f == nil {
			f = &family{name: name, help: help, counter: kind == checks.Counter}
			byName[name] = f
			fams = append(fams, f)
		}
		f.samples = append(f.samples, sample{labels: labels, value: value})
	}

	add(prefix+"state", "State of the last run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the plugin's exit code).", checks.Gauge, nil, float64(r.State.ExitCode()))
	add(prefix+"last_run_timestamp_seconds", "When the last run ended, as a Unix time.", checks.Gauge, nil, float64(now.UnixMilli())/1000)
	for _, m := range r.Metrics {
		if m.Name == "" || !m.Known() {
			continue
		}
		name := prefix + m.Name
		if m.Kind == checks.Counter && !strings.HasSuffix(name, "_total") {
			name += "_total"
		}
		add(name, m.Help, m.Kind, m.Labels, m.Value)
	}

	// Findings: one series per ID and subject, counting the findings.
	subjectLabel := r.SubjectLabel
	if subjectLabel == "" {
		subjectLabel = "subject"
	}
	counts := map[string]float64{}
	var order []string
	labelsOf := map[string][]checks.Label{}
	for _, f := range r.Findings {
		labels := []checks.Label{{Name: "id", Value: f.ID}}
		switch {
		case len(f.Labels) > 0:
			labels = append(labels, f.Labels...)
		case f.Subject != "":
			labels = append(labels, checks.Label{Name: subjectLabel, Value: f.Subject})
		}
		labels = append(labels, checks.Label{Name: "severity", Value: strings.ToLower(f.State.String())})
		key := fmt.Sprint(labels)
		if _, ok := counts[key]; !ok {
			order = append(order, key)
			labelsOf[key] = labels
		}
		counts[key]++
	}
	for _, key := range order {
		add(prefix+"finding", "Findings of the last run by ID, subject and severity (absent: none).", checks.Gauge, labelsOf[key], counts[key])
	}
	return fams, bad
}

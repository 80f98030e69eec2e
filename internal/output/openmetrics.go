package output

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/check-socat/check-socat/checks"
)

// OpenMetrics renders r in the OpenMetrics 1.0 text format, for a
// Prometheus that scrapes it: see families for what it holds. The
// encoding is prometheus/common's.
func OpenMetrics(r checks.Result, check string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	for _, fam := range families(r, check, now) {
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, fam); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", fam.GetName(), err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Textfile renders r for node_exporter's textfile collector, which reads
// the Prometheus text format (0.0.4), not OpenMetrics: there a counter's
// TYPE line names the family with its _total, where OpenMetrics names it
// without, and node_exporter 1.5 types an OpenMetrics counter "untyped"
// (promtool check metrics reports it as lacking HELP). The same families
// as OpenMetrics, encoded by prometheus/common, then "# EOF", which the
// text format reads as a comment.
func Textfile(r checks.Result, check string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	for _, fam := range families(r, check, now) {
		if _, err := expfmt.MetricFamilyToText(&b, fam); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", fam.GetName(), err)
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes(), nil
}

// families are the metric families of r: every metric of the result
// under socat_<check>_, one socat_<check>_finding series per finding (its
// value is how many findings share its labels), socat_<check>_state
// (0..3, the exit code) and socat_<check>_last_run_timestamp_seconds,
// each with HELP and TYPE. Values that were not measured are left out;
// a series is written once.
func families(r checks.Result, check string, now time.Time) []*dto.MetricFamily {
	prefix := "socat_" + check + "_"
	var fams []*dto.MetricFamily
	byName := map[string]*dto.MetricFamily{}
	seen := map[string]bool{} // name and labels: a series is written once
	add := func(name, help string, kind checks.Kind, labels []checks.Label, value float64) {
		key := name
		for _, l := range labels {
			key += "\x00" + l.Name + "\x00" + l.Value
		}
		if seen[key] {
			return
		}
		seen[key] = true
		fam := byName[name]
		if fam == nil {
			typ := dto.MetricType_GAUGE
			if kind == checks.Counter {
				typ = dto.MetricType_COUNTER
			}
			fam = &dto.MetricFamily{Name: &name, Help: &help, Type: &typ}
			byName[name] = fam
			fams = append(fams, fam)
		}
		m := &dto.Metric{}
		for _, l := range labels {
			m.Label = append(m.Label, &dto.LabelPair{Name: &l.Name, Value: &l.Value})
		}
		if kind == checks.Counter {
			m.Counter = &dto.Counter{Value: &value}
		} else {
			m.Gauge = &dto.Gauge{Value: &value}
		}
		fam.Metric = append(fam.Metric, m)
	}

	add(prefix+"state", "State of the last run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the plugin's exit code).", checks.Gauge, nil, float64(r.State.ExitCode()))
	add(prefix+"last_run_timestamp_seconds", "When the last run ended, as a Unix time.", checks.Gauge, nil, float64(now.UnixMilli())/1000)
	for _, m := range r.Metrics {
		if m.Name == "" || !m.Known() {
			continue
		}
		add(prefix+m.Name, m.Help, m.Kind, m.Labels, m.Value)
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

	return fams
}

package output

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
)

func sampleResult() checks.Result {
	return checks.Result{
		State: state.Critical, Summary: "two problems",
		Findings: []checks.Finding{
			{ID: "tls-verify-off", State: state.Critical, Subject: "pid 1 :8443", Labels: []checks.Label{{Name: "instance", Value: "8443"}}},
			{ID: "tls-verify-off", State: state.Critical, Subject: "pid 2 :8443", Labels: []checks.Label{{Name: "instance", Value: "8443"}}},
			{ID: "odd", State: state.Warning, Subject: "a \"quoted\"\nsubject"},
		},
		Metrics: []checks.Metric{
			checks.NewMetric("instances", "Instances.", perfdata.New("instances", 2, "")),
			checks.NewMetric("instance_open_fds", "Fds.", perfdata.New("i8443_fds", math.NaN(), ""), "instance", "8443"),
			checks.Only("lines_total", "Lines.", 7, "category", "refused").AsCounter(),
			checks.Only("lines_total", "Lines.", 9, "category", "refused").AsCounter(), // the same series again
		},
		SubjectLabel: "instance",
	}
}

func TestOpenMetricsAndTextfile(t *testing.T) {
	now := time.Unix(1700000000, 500e6)
	om, err := OpenMetrics(sampleResult(), "procs", now)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := Textfile(sampleResult(), "procs", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out  []byte
		want []string
	}{
		{om, []string{
			"# TYPE socat_procs_state gauge\nsocat_procs_state 2.0\n",
			"socat_procs_last_run_timestamp_seconds 1.7000000005e+09\n",
			"# TYPE socat_procs_lines counter\nsocat_procs_lines_total{category=\"refused\"} 7.0\n",
			"socat_procs_finding{id=\"tls-verify-off\",instance=\"8443\",severity=\"critical\"} 2.0\n",
			"socat_procs_finding{id=\"odd\",instance=\"a \\\"quoted\\\"\\nsubject\",severity=\"warning\"} 1.0\n",
			"\n# EOF\n",
		}},
		{tf, []string{
			"# TYPE socat_procs_lines_total counter\nsocat_procs_lines_total{category=\"refused\"} 7\n",
			"socat_procs_finding{id=\"tls-verify-off\",instance=\"8443\",severity=\"critical\"} 2\n",
			"\n# EOF\n",
		}},
	} {
		for _, w := range c.want {
			if !strings.Contains(string(c.out), w) {
				t.Errorf("missing %q in:\n%s", w, c.out)
			}
		}
		if strings.Contains(string(c.out), "fds") || strings.Contains(string(c.out), " 9") {
			t.Errorf("an unmeasured value or a repeated series is written:\n%s", c.out)
		}
	}
}

func TestJSONLeavesUnknownValuesNull(t *testing.T) {
	b, err := JSON(sampleResult(), "procs")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"state":"CRITICAL","exit_code":2`, `"name":"socat_procs_instance_open_fds","labels":{"instance":"8443"},"value":null`, `"perfdata":"i8443_fds"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("missing %s in %s", w, b)
		}
	}
}

// A value that was not measured never reaches the perfdata as "U".
func TestUnknownValueLeftOutOfPerfdata(t *testing.T) {
	out := Render(sampleResult(), 8000)
	if strings.Contains(out, "=U") || strings.Contains(out, "i8443_fds") || !strings.Contains(out, "| instances=2;;;;\n") {
		t.Errorf("perfdata: %q", out)
	}
}

package output

import (
	"bytes"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
)

// toDTO is the families as client_model's types, for expfmt.
func toDTO(fams []*family) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, f := range fams {
		name, help := f.name, f.help
		typ := dto.MetricType_GAUGE
		if f.counter {
			typ = dto.MetricType_COUNTER
		}
		mf := &dto.MetricFamily{Name: &name, Help: &help, Type: &typ}
		for _, s := range f.samples {
			m := &dto.Metric{}
			for _, l := range s.labels {
				n, v := l.Name, l.Value
				m.Label = append(m.Label, &dto.LabelPair{Name: &n, Value: &v})
			}
			v := s.value
			if f.counter {
				m.Counter = &dto.Counter{Value: &v}
			} else {
				m.Gauge = &dto.Gauge{Value: &v}
			}
			mf.Metric = append(mf.Metric, m)
		}
		out = append(out, mf)
	}
	return out
}

var nasty = []string{"", "a", `back\slash`, `"quoted"`, "new\nline", "tab\there", "ünïcödé", `\n literal`, "pipe|x", "{}=,", "\x00nul", "end\\"}

func randomResult(rng *rand.Rand) checks.Result {
	pick := func() string { return nasty[rng.Intn(len(nasty))] + nasty[rng.Intn(len(nasty))] }
	values := []float64{0, 1, -1, 2, 0.5, 1e-9, 123456789012, 1.796456054175e+09, -3.25, 1e21, 7e-7, math.MaxFloat64, math.SmallestNonzeroFloat64}
	val := func() float64 {
		if rng.Intn(3) == 0 {
			return rng.NormFloat64() * math.Pow(10, float64(rng.Intn(30)-15))
		}
		return values[rng.Intn(len(values))]
	}
	r := checks.Result{State: state.State(rng.Intn(4)), SubjectLabel: []string{"", "instance"}[rng.Intn(2)]}
	for i := rng.Intn(8); i > 0; i-- {
		name := []string{"a_metric", "b_bytes", "c_seconds", "d"}[rng.Intn(4)]
		m := checks.NewMetric(name, pick(), perfdata.New("x", val(), ""), "k", pick(), "other", pick())
		if rng.Intn(3) == 0 {
			m = checks.Only("e_total", pick(), math.Abs(val()), "category", pick()).AsCounter()
		}
		r.Metrics = append(r.Metrics, m)
	}
	for i := rng.Intn(5); i > 0; i-- {
		f := checks.Finding{ID: []string{"x", "y-z"}[rng.Intn(2)], State: state.State(rng.Intn(4)), Subject: pick()}
		if rng.Intn(2) == 0 {
			f.Labels = []checks.Label{{Name: "instance", Value: pick()}}
		}
		r.Findings = append(r.Findings, f)
	}
	return r
}

// The hand-written encoders write, byte for byte, what prometheus/common's
// expfmt writes for the same families, on inputs full of characters that
// need escaping and numbers of every shape.
func TestEncodersMatchExpfmt(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	now := time.Unix(1796456054, 175e6)
	for i := 0; i < 2000; i++ {
		r := randomResult(rng)
		fams, err := families(r, "logs", now)
		if err != nil {
			t.Fatal(err)
		}
		var wantOM, wantText bytes.Buffer
		for _, mf := range toDTO(fams) {
			if _, err := expfmt.MetricFamilyToOpenMetrics(&wantOM, mf); err != nil {
				t.Fatal(err)
			}
			if _, err := expfmt.MetricFamilyToText(&wantText, mf); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := expfmt.FinalizeOpenMetrics(&wantOM); err != nil {
			t.Fatal(err)
		}
		wantText.WriteString("# EOF\n")
		om, _ := OpenMetrics(r, "logs", now)
		tf, _ := Textfile(r, "logs", now)
		if string(om) != wantOM.String() {
			t.Fatalf("OpenMetrics differs from expfmt's:\n--- expfmt\n%s--- ours\n%s", wantOM.String(), om)
		}
		if string(tf) != wantText.String() {
			t.Fatalf("text format differs from expfmt's:\n--- expfmt\n%s--- ours\n%s", wantText.String(), tf)
		}
		// And Prometheus' parser reads it back.
		var p expfmt.TextParser
		if _, err := p.TextToMetricFamilies(strings.NewReader(string(tf))); err != nil {
			t.Fatalf("Prometheus' parser rejects:\n%s\n%v", tf, err)
		}
	}
}

// A name or label name that Prometheus would reject is an error, not
// output: they come from code, so this is a bug caught by the tests.
func TestInvalidNamesAreErrors(t *testing.T) {
	for _, m := range []checks.Metric{
		checks.Only("bad-name", "h", 1),
		checks.Only("ok", "h", 1, "bad-label", "v"),
		checks.Only("ok", "h", 1, "__reserved", "v"),
	} {
		if _, err := OpenMetrics(checks.Result{Metrics: []checks.Metric{m}}, "x", time.Now()); err == nil {
			t.Errorf("%s %v: no error", m.Name, m.Labels)
		}
	}
}

package golden

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/output"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// schemaPath is packaging/json/result.schema.json of this module.
func schemaPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "packaging", "json", "result.schema.json")
}

// Result checks r's Nagios output against the golden file (as Check),
// and its machine outputs: the JSON against the shipped schema and its
// state and exit code against r's, the textfile parsed by Prometheus'
// own text parser with every family named socat_<check>_ and the state
// and timestamp present, the OpenMetrics ending in "# EOF".
func Result(t testing.TB, r checks.Result, check string) {
	t.Helper()
	Check(t, output.Render(r, 8000))
	Machine(t, r, check)
}

// Machine checks r's JSON, OpenMetrics and textfile renderings.
func Machine(t testing.TB, r checks.Result, check string) {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		schema, schemaErr = c.Compile(schemaPath())
	})
	if schemaErr != nil {
		t.Fatalf("the JSON schema: %v", schemaErr)
	}
	js, err := output.JSON(r, check)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("JSON output is not JSON: %v\n%s", err, js)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("JSON output fails the schema: %v\n%s", err, js)
	}
	var got struct {
		State    string `json:"state"`
		ExitCode int    `json:"exit_code"`
	}
	_ = json.Unmarshal(js, &got)
	if got.State != r.State.String() || got.ExitCode != r.State.ExitCode() {
		t.Errorf("JSON says %s/%d, the result %s/%d", got.State, got.ExitCode, r.State, r.State.ExitCode())
	}

	om, err := output.OpenMetrics(r, check, time.Now())
	if err != nil {
		t.Fatalf("OpenMetrics: %v", err)
	}
	if !strings.HasSuffix(string(om), "\n# EOF\n") {
		t.Errorf("OpenMetrics output does not end in # EOF:\n%s", om)
	}
	tf, err := output.Textfile(r, check, time.Now())
	if err != nil {
		t.Fatalf("textfile: %v", err)
	}
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(tf))
	if err != nil {
		t.Fatalf("Prometheus' parser rejects the textfile: %v\n%s", err, tf)
	}
	prefix := "socat_" + check + "_"
	for name, fam := range fams {
		if !strings.HasPrefix(name, prefix) || fam.GetHelp() == "" {
			t.Errorf("family %s: want the prefix %s and a HELP", name, prefix)
		}
	}
	st := fams[prefix+"state"]
	if st == nil || len(st.Metric) != 1 || int(st.Metric[0].GetGauge().GetValue()) != r.State.ExitCode() {
		t.Errorf("%sstate is missing or not %d:\n%s", prefix, r.State.ExitCode(), tf)
	}
	if fams[prefix+"last_run_timestamp_seconds"] == nil {
		t.Errorf("%slast_run_timestamp_seconds is missing", prefix)
	}
	promtool(t, fams, tf)
}

var (
	linted   = map[string]bool{}
	lintedMu sync.Mutex
)

// promtool runs `promtool check metrics` (Prometheus' own linter: base
// units, counter names, HELP) on the textfile, once per set of family
// names and types: the lints are about those, not the values.
func promtool(t testing.TB, fams map[string]*dto.MetricFamily, tf []byte) {
	t.Helper()
	var sig []string
	for name, fam := range fams {
		sig = append(sig, name+":"+fam.GetType().String())
	}
	sort.Strings(sig)
	key := strings.Join(sig, ",")
	lintedMu.Lock()
	done := linted[key]
	linted[key] = true
	lintedMu.Unlock()
	if done {
		return
	}
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed: make test installs it (apt-get install prometheus)")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(tf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, tf)
	}
}

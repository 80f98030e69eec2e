package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The exit code is the state's whatever --output says, and each format
// says the same state.
func TestOutputFormatsKeepTheExitCode(t *testing.T) {
	for _, value := range []string{"1", "5", "50"} {
		nagios, outN, _ := run(t, "--value", value, "-w", "4", "-c", "10")
		om, outO, _ := run(t, "--value", value, "-w", "4", "-c", "10", "--output", "openmetrics")
		js, outJ, _ := run(t, "--value", value, "-w", "4", "-c", "10", "--output", "json")
		if nagios != om || nagios != js {
			t.Errorf("value %s: exit %d (nagios), %d (openmetrics), %d (json)", value, nagios, om, js)
		}
		var got struct {
			ExitCode int `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(outJ), &got); err != nil || got.ExitCode != nagios {
			t.Errorf("value %s: JSON %q (%v), want exit_code %d", value, outJ, err, nagios)
		}
		if want := "socat_check_fake_state " + []string{"0", "1", "2", "3"}[nagios] + ".0\n"; !strings.Contains(outO, want) {
			t.Errorf("value %s: OpenMetrics lacks %q:\n%s", value, want, outO)
		}
		if !strings.HasPrefix(outN, []string{"OK", "WARNING", "CRITICAL"}[nagios]+": ") {
			t.Errorf("value %s: Nagios output %q", value, outN)
		}
	}
	code, out, _ := run(t, "--output", "xml")
	if code != 3 || !strings.HasPrefix(out, "UNKNOWN: --output must be one of") {
		t.Errorf("--output xml: exit %d, %q", code, out)
	}
}

// --textfile writes the metrics atomically, mode 0644, while stdout stays
// the Nagios output; a path that cannot be written is exit 3 naming it.
func TestTextfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fake.prom")
	code, out, _ := run(t, "--value", "5", "-w", "4", "--textfile", path)
	if code != 1 || !strings.HasPrefix(out, "WARNING: value checked | value=5;4;;;") {
		t.Errorf("stdout is not the Nagios output: exit %d, %q", code, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "socat_check_fake_state 1\n") || !strings.HasSuffix(string(b), "# EOF\n") {
		t.Errorf("textfile:\n%s", b)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}

	for _, bad := range []string{filepath.Join(dir, "missing", "x.prom"), filepath.Join(path, "x.prom"), dir} {
		code, out, _ := run(t, "--textfile", bad)
		if code != 3 || !strings.HasPrefix(out, "UNKNOWN: --textfile "+bad) || strings.Count(out, "\n") != 1 {
			t.Errorf("--textfile %s: exit %d, %q", bad, code, out)
		}
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		code, out, _ := run(t, "--textfile", filepath.Join(ro, "x.prom"))
		if code != 3 || !strings.Contains(out, "cannot write --textfile") {
			t.Errorf("read-only directory: exit %d, %q", code, out)
		}
	}
}

// After the flags are parsed, every result is in the --output format, a
// bad configuration or an unwritable --textfile too: a JSON consumer
// always gets JSON.
func TestErrorsInTheOutputFormat(t *testing.T) {
	for _, args := range [][]string{
		{"--output", "json", "--max-output", "10"},
		{"--output", "json", "--textfile", t.TempDir()},
	} {
		code, out, _ := run(t, args...)
		var got struct {
			State    string `json:"state"`
			ExitCode int    `json:"exit_code"`
			Summary  string `json:"summary"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 3 || got.ExitCode != 3 || got.State != "UNKNOWN" || got.Summary == "" {
			t.Errorf("%v: exit %d, %q (%v)", args, code, out, err)
		}
	}
}

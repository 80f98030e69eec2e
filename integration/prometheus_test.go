//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

// TestPrometheus runs each packaged check with --textfile, serves the
// files with a real node_exporter (textfile collector only, loopback),
// scrapes that with a real Prometheus (loopback, temporary data) that
// loads the shipped alerting rules, and queries one metric of each
// check through Prometheus' HTTP API. promtool checks the files and the
// rules.
func TestPrometheus(t *testing.T) {
	install(t)
	testlab.Need(t, "prometheus-node-exporter", "prometheus", "promtool")
	logPath := filepath.Join(openDir(t, true), "logged.log")
	l := startLab(t, logPath)
	textDir, stateDir := t.TempDir(), t.TempDir()

	runs := []struct {
		check string
		code  int
		args  []string
	}{
		{"endpoint", 0, []string{"-H", "127.0.0.1", "-p", strconv.Itoa(l.relay), "-s", "ping", "-e", "ping"}},
		{"tls", 0, []string{"-H", "127.0.0.1", "-p", strconv.Itoa(l.tls), "--ca-file", l.ca, "--cert-only"}},
		{"procs", 2, []string{"--match", "socat-integration-risky"}},
		// Twice: the second run reads nothing new, and the counters keep
		// what the first counted (they are cumulative, in the state).
		{"logs", 1, []string{"-f", l.log, "--state-dir", stateDir, "--first-run", "start"}},
		{"logs", 0, []string{"-f", l.log, "--state-dir", stateDir}},
	}
	for _, r := range runs {
		file := filepath.Join(textDir, r.check+".prom")
		cmd := exec.Command(filepath.Join(plugins, "check_socat_"+r.check), append(r.args, "--textfile", file)...)
		out, _ := cmd.Output()
		if code := cmd.ProcessState.ExitCode(); code != r.code {
			t.Fatalf("check_socat_%s: exit %d, want %d:\n%s", r.check, code, r.code, out)
		}
		if !strings.HasPrefix(string(out), []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[r.code]+": ") {
			t.Errorf("check_socat_%s --textfile: stdout is not the Nagios output: %s", r.check, out)
		}
		check := exec.Command("promtool", "check", "metrics")
		check.Stdin, _ = os.Open(file)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics %s: %v\n%s", file, err, out)
		}
	}

	// node_exporter, textfile collector only.
	nePort := freePort(t)
	neLog := filepath.Join(t.TempDir(), "node_exporter.log")
	start(t, neLog, "prometheus-node-exporter", fmt.Sprintf("--web.listen-address=127.0.0.1:%d", nePort),
		"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+textDir)
	var page string
	testlab.Eventually(t, 20*time.Second, "node_exporter serving the textfiles", func() bool {
		page = get(fmt.Sprintf("http://127.0.0.1:%d/metrics", nePort))
		return strings.Contains(page, "socat_logs_state")
	})
	for _, want := range []string{"node_textfile_scrape_error 0\n", "# TYPE socat_logs_lines_total counter\n", "socat_endpoint_up 1\n"} {
		if !strings.Contains(page, want) {
			t.Errorf("node_exporter does not serve %q:\n%s\n%s", want, page, tail(neLog))
		}
	}

	// Prometheus, scraping it every second, with the shipped rules.
	rules, _ := filepath.Abs("../packaging/prometheus/check_socat.rules.yml")
	if out, err := exec.Command("promtool", "check", "rules", rules).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	write(t, config, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, rules, nePort))
	promPort := freePort(t)
	promLog := filepath.Join(dir, "prometheus.log")
	start(t, promLog, "prometheus", "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/", promPort)

	queries := []struct{ query, want string }{
		{`socat_endpoint_up`, "1"},
		{`socat_tls_cert_not_after_timestamp_seconds > time()`, ""},
		{`socat_procs_finding{id="remote-exec",severity="critical"}`, "1"},
		{`socat_logs_lines_total{category="backend_failure"}`, "2"},
	}
	for _, q := range queries {
		var got []string
		ok := waitFor(40*time.Second, func() bool {
			got = query(api, q.query)
			return len(got) > 0 && (q.want == "" || got[0] == q.want)
		})
		if !ok {
			t.Errorf("Prometheus query %s: %v, want %q\n%s", q.query, got, q.want, tail(promLog))
		}
	}
	var loaded []string
	if !waitFor(20*time.Second, func() bool { loaded = ruleNames(api); return len(loaded) == 5 }) {
		t.Errorf("Prometheus loaded the rules %v, want the 5 of %s\n%s", loaded, rules, tail(promLog))
	}
}

func get(u string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b)
}

// waitFor polls cond until it holds or the time is up.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return cond()
}

// query returns the values of an instant query's vector.
func query(api, q string) []string {
	var r struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(get(api+"query?query="+url.QueryEscape(q))), &r) != nil {
		return nil
	}
	var out []string
	for _, s := range r.Data.Result {
		if len(s.Value) == 2 {
			out = append(out, fmt.Sprint(s.Value[1]))
		}
	}
	return out
}

// ruleNames are the alerting rules Prometheus loaded.
func ruleNames(api string) []string {
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(get(api+"rules")), &r) != nil {
		return nil
	}
	var out []string
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			out = append(out, rule.Name)
		}
	}
	return out
}

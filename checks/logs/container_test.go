package logs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
)

// dockerJSON wraps lines as Docker's json-file driver writes them.
func dockerJSON(t *testing.T, lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		rec, err := json.Marshal(map[string]string{"log": l + "\n", "stream": "stderr",
			"time": time.Date(2026, 11, 26, 6, 0, i%60, 0, time.UTC).Format(time.RFC3339Nano)})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(rec)
		b.WriteByte('\n')
	}
	return b.String()
}

// cri wraps lines as the CRI runtimes write Kubernetes' container logs,
// splitting a long one into partial records as containerd does.
func cri(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		stamp := time.Date(2026, 11, 26, 6, 0, i%60, 123456789, time.UTC).Format(time.RFC3339Nano)
		for len(l) > 64 {
			fmt.Fprintf(&b, "%s stderr P %s\n", stamp, l[:64])
			l = l[64:]
		}
		fmt.Fprintf(&b, "%s stderr F %s\n", stamp, l)
	}
	return b.String()
}

// A socat in a container logs to stderr; the runtime's own file is read
// directly: Docker's json-file and the CRI format of Kubernetes, with
// state across runs and rotation (docker renames to ID-json.log.1; the
// kubelet to 0.log.DATE-TIME, found with --rotated 'PATH.*').
func TestContainerRuntimeFiles(t *testing.T) {
	// Real socat: a relay to a dead backend, its lines as stderr gives them.
	gone := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1", "STDIO")
	port := gone.Port
	gone.Stop()
	relay := testlab.Start(t, "-d", "-d", listen, "TCP:127.0.0.1:"+strconv.Itoa(port))
	for range 3 {
		connectAndClose(t, relay.Addr())
	}
	if _, ok := relay.WaitLine(regexp.MustCompile(`E connect\(`), 10*time.Second); !ok {
		t.Fatal("no failed connect logged")
	}
	testlab.Eventually(t, 10*time.Second, "three failed connects", func() bool {
		return strings.Count(relay.Log(), "E connect(") == 3
	})
	lines := strings.Split(relay.Log(), "\n")
	// A program's long line among socat's (as a container's stderr holds).
	lines = append(lines, strings.Repeat("program output ", 20))

	for _, tc := range []struct {
		name, file, rotated, rotatedName string
		wrap                             func([]string) string
	}{
		{"docker json-file", "0123abcd-json.log", "PATH.1", "0123abcd-json.log.1", func(l []string) string { return dockerJSON(t, l) }},
		{"kubernetes CRI", "0.log", "PATH.*", "0.log.20261126-060000", cri},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, tc.file)
			cfg := baseConfig(t, log)
			cfg.FirstRun, cfg.Rotated = "start", tc.rotated
			appendFile(t, log, tc.wrap(lines))
			r := run(t, cfg)
			if r.State != state.Warning || perf(r, "backend_failure") != 3 || perf(r, "accepted") != 3 ||
				perf(r, "lines") != float64(len(lines)) || perf(r, "unparsed") != 1 {
				t.Errorf("first run:\n%s", dump(r))
			}
			// More lines, then rotation, then more: each line once.
			appendFile(t, log, tc.wrap(lines[:4]))
			if err := os.Rename(log, filepath.Join(dir, tc.rotatedName)); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, tc.wrap(lines))
			r = run(t, cfg)
			if perf(r, "lines") != float64(4+len(lines)) || perf(r, "backend_failure") != 3 || perf(r, "accepted") != 3+countIn(lines[:4], "accepting connection") {
				t.Errorf("after rotation:\n%s", dump(r))
			}
			r = run(t, cfg)
			if r.State != state.OK || perf(r, "lines") != 0 {
				t.Errorf("nothing new:\n%s", dump(r))
			}
		})
	}
}

func countIn(lines []string, sub string) float64 {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return float64(n)
}

// A source where most new lines are not socat's is said, not a silent
// OK: the wrong file, or a format this check does not read.
func TestMostLinesUnrecognised(t *testing.T) {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "nginx.log")
	appendFile(t, wrong, strings.Repeat("127.0.0.1 - - [26/Nov/2026:06:24:05 +0000] \"GET / HTTP/1.1\" 200 612\n", 5))
	r := run(t, noState(t, wrong))
	if r.State != state.Warning || !strings.Contains(r.Summary, "5 new lines, none recognised as socat's: wrong file or format?") {
		t.Errorf("a foreign log:\n%s", dump(r))
	}
	mixed := filepath.Join(dir, "mixed.log")
	appendFile(t, mixed, "2026/11/26 06:24:05 socat[1] N listening on AF=2 0.0.0.0:80\n"+strings.Repeat("program says hello\n", 2))
	r = run(t, noState(t, mixed))
	if r.State != state.Warning || !strings.Contains(r.Summary, "2 of 3 new lines are not socat's") {
		t.Errorf("mostly a program's output:\n%s", dump(r))
	}
	cfg := noState(t, mixed)
	cfg.IgnorePatterns = []*regexp.Regexp{regexp.MustCompile(`^program says`)}
	if r = run(t, cfg); r.State != state.OK {
		t.Errorf("the program's lines ignored:\n%s", dump(r))
	}
	half := filepath.Join(dir, "half.log")
	appendFile(t, half, "2026/11/26 06:24:05 socat[1] N listening on AF=2 0.0.0.0:80\nprogram says hello\n\n\n")
	if r = run(t, noState(t, half)); r.State != state.OK {
		t.Errorf("half socat's, blank lines aside:\n%s", dump(r))
	}
}

package output

import (
	"fmt"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
)

func TestRenderShape(t *testing.T) {
	r := checks.Result{
		State:   state.Warning,
		Summary: "tcp://127.0.0.1:1 answered",
		Details: []string{"first", "second"},
		Metrics: checks.FromPerf([]perfdata.Metric{perfdata.Seconds("time", 0.5), perfdata.New("bytes_received", 3, "B")}),
	}
	want := "WARNING: tcp://127.0.0.1:1 answered | time=0.5s;;;; bytes_received=3B;;;;\nfirst\nsecond\n"
	if got := Render(r, 8000); got != want {
		t.Errorf("Render =\n%q\nwant\n%q", got, want)
	}
	if got := Render(checks.Result{State: state.OK, Summary: "fine"}, 0); got != "OK: fine\n" {
		t.Errorf("no perfdata: %q", got)
	}
}

// Outside text carrying '|' and newlines must not create perfdata or lines;
// go-nagios writes ServiceOutput and LongServiceOutput as given.
func TestRenderNeutralisesPipes(t *testing.T) {
	r := checks.Result{
		State:   state.Critical,
		Summary: "banner was 'a|b=1'\nsecond line",
		Details: []string{"x|y", "multi\nline|z"},
		Metrics: checks.FromPerf([]perfdata.Metric{perfdata.New("time", 1, "s")}),
	}
	out := Render(r, 8000)
	if n := strings.Count(out, "|"); n != 1 {
		t.Fatalf("%d pipes in output:\n%s", n, out)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasSuffix(first, "| time=1s;;;;") {
		t.Fatalf("perfdata is not the end of the first line: %q", first)
	}
}

// A newline inside a detail or the summary (from outside text that was not
// sanitized at its source) is escaped: it never starts a line of output.
func TestRenderNewlinesNeverSplit(t *testing.T) {
	r := checks.Result{State: state.OK, Summary: "x\nCRITICAL: fake", Details: []string{"a\nCRITICAL: injected"}}
	out := Render(r, 8000)
	want := "OK: x\\nCRITICAL: fake\na\\nCRITICAL: injected\n"
	if out != want {
		t.Errorf("Render = %q, want %q", out, want)
	}
}

func TestCutStringKeepsEscapesWhole(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{`abc\x7cdef`, 5, "abc"},
		{`abc\x7cdef`, 7, `abc\x7c`},
		{`ab\\cd`, 3, `ab`},
		{`ab\\cd`, 4, `ab\\`},
		{`ab\u202e`, 6, "ab"},
		{"abcdef", 3, "abc"},
		{"caf\u00e9", 4, "caf"},
	}
	for _, tt := range tests {
		if got := cutString(tt.in, tt.n); got != tt.want {
			t.Errorf("cutString(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestRenderBoundsAndKeepsPerfdata(t *testing.T) {
	var details []string
	for i := 0; i < 500; i++ {
		details = append(details, fmt.Sprintf("finding number %d with some words to make it long", i))
	}
	r := checks.Result{
		State:   state.Critical,
		Summary: strings.Repeat("very long summary ", 50),
		Details: details,
		Metrics: checks.FromPerf([]perfdata.Metric{perfdata.Seconds("time", 1.25), perfdata.New("connections_ok", 2, "").WithMin(0).WithMax(3)}),
	}
	for _, max := range []int{MinSize, 300, 1000, 8000} {
		out := Render(r, max)
		if len(out) > max {
			t.Errorf("max %d: output is %d bytes", max, len(out))
		}
		if !strings.Contains(out, "time=1.25s;;;; connections_ok=2;;;0;3") {
			t.Errorf("max %d: perfdata lost:\n%s", max, out)
		}
		if !strings.Contains(out, " more\n") {
			t.Errorf("max %d: the cut is not said:\n%s", max, out)
		}
	}
	// Nothing is cut when it fits.
	small := checks.Result{State: state.OK, Summary: "s", Details: details[:3]}
	if out := Render(small, 8000); strings.Contains(out, "more") {
		t.Errorf("cut without need:\n%s", out)
	}
}

func TestRenderCutsPerfdataLast(t *testing.T) {
	var perf []perfdata.Metric
	for i := 0; i < 100; i++ {
		perf = append(perf, perfdata.New(fmt.Sprintf("i%d_children", 1000+i), float64(i), ""))
	}
	out := Render(checks.Result{State: state.OK, Summary: "many", Metrics: checks.FromPerf(perf)}, 500)
	if len(out) > 500 {
		t.Fatalf("%d bytes", len(out))
	}
	if !strings.Contains(out, "i1000_children=0") || !strings.Contains(out, "more performance data items cut") {
		t.Fatalf("perfdata not cut from the end with a note:\n%s", out)
	}
}

// Issue 15: with 25 instances and --max-output 1024 the first line ended
// in the middle of the per-instance items. Either every item fits, or the
// check's own items are kept whole and the rest is left out, said.
func TestRenderKeepsTheChecksOwnPerfdata(t *testing.T) {
	r := checks.Result{State: state.Warning, Summary: "25 socat instances, 0 critical, 3 warning findings", SubjectLabel: "socat_instance"}
	for _, name := range []string{"instances", "children", "findings_critical", "findings_warning"} {
		r.Metrics = append(r.Metrics, checks.NewMetric(name, "h", perfdata.New(name, 1, "").WithMin(0)))
	}
	for i := 0; i < 25; i++ {
		inst := fmt.Sprint(8000 + i)
		for _, m := range []string{"children", "rss", "fds", "uptime"} {
			r.Metrics = append(r.Metrics, checks.NewMetric("instance_"+m, "h", perfdata.New("i"+inst+"_"+m, 4096, "").WithMin(0), "socat_instance", inst))
		}
	}
	out := Render(r, 1024)
	first := strings.SplitN(out, "\n", 2)[0]
	if len(out) > 1024 || !strings.HasSuffix(first, "findings_warning=1;;;0;") || strings.Contains(first, "i8000_") ||
		!strings.Contains(out, "... 100 performance data items of single instances left out: --max-output 1024 holds only the check's own") {
		t.Errorf("%d bytes:\n%s", len(out), out)
	}
	if out := Render(r, 8000); strings.Contains(out, "left out") || !strings.Contains(out, "i8024_uptime=4096;;;0;") {
		t.Errorf("everything fits in 8000 bytes:\n%s", out)
	}
}

package plugin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	nagios "github.com/atc0005/go-nagios"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

// fake is a command whose behaviour the test chooses.
type fake struct {
	Common
	Warning  threshold.Range `short:"w"`
	Critical threshold.Range `short:"c"`
	Value    float64         `default:"1"`
	Mode     string          `default:"ok" enum:"ok,panic,goroutine-panic,ignore-deadline,respect-deadline"`
	Port     int             `short:"p"`
	Name     string          `short:"n"`

	gotTimeout time.Duration
}

// Config hands the fake itself to its check.
func (f *fake) Config() (*fake, error) { return f, nil }

func fakeCheck(ctx context.Context, env checks.Env, f *fake) checks.Result {
	f.gotTimeout = f.Timeout.D()
	switch f.Mode {
	case "panic":
		var m map[string]int
		//lint:ignore SA5000 a real runtime panic is what this case needs
		m["boom"] = 1
	case "goroutine-panic":
		errc := make(chan error, 1)
		go func() { errc <- checks.Safely(func() error { panic("in a goroutine") }) }()
		return checks.Unknownf("worker: %v", <-errc)
	case "ignore-deadline":
		env.SetStage("first byte")
		time.Sleep(time.Hour)
	case "respect-deadline":
		env.SetStage("connect")
		<-ctx.Done()
		return checks.Result{State: f.TimeoutState, Summary: "timed out at connect"}
	}
	st := threshold.Evaluate(f.Value, f.Warning, f.Critical)
	return checks.Result{State: st, Summary: "value checked",
		Metrics: checks.FromPerf([]perfdata.Metric{perfdata.New("value", f.Value, "").WithRanges(f.Warning, f.Critical)})}
}

func run(t *testing.T, args ...string) (int, string, *fake) {
	t.Helper()
	f := &fake{}
	var out, errb bytes.Buffer
	b := Binary[*fake]{Options: Options{Name: "check_fake", Description: "A fake.", TimeoutState: state.Critical}, Check: fakeCheck}
	code := b.Main(f, args, nil, &out, &errb)
	return code, out.String(), f
}

func TestExitCodesAndFirstLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		prefix string
	}{
		{"ok", nil, 0, "OK: value checked | value=1;;;;"},
		{"warning", []string{"-w", "0.5", "-c", "2"}, 1, "WARNING: value checked | value=1;0.5;2;;"},
		{"critical", []string{"--value", "3", "-w", "1", "-c", "2"}, 2, "CRITICAL:"},
		{"negative range with a space", []string{"--value", "-3", "-w", "-5:-1"}, 0, "OK: value checked | value=-3;-5:-1;;;"},
		{"negative range with =", []string{"--value", "-7", "--warning=-5:-1"}, 1, "WARNING:"},
		{"inside range", []string{"--value", "5", "-c", "@~:10"}, 2, "CRITICAL:"},
		{"bad range", []string{"-w", "1.2.3"}, 3, "UNKNOWN: --warning: \"1.2.3\" is not a Nagios range"},
		{"unknown flag", []string{"--bogus"}, 3, "UNKNOWN: unknown flag --bogus"},
		{"bad int", []string{"-p", "http"}, 3, "UNKNOWN: --port:"},
		{"bad enum", []string{"--mode", "x"}, 3, "UNKNOWN: --mode"},
		{"bad timeout", []string{"-t", "soon"}, 3, "UNKNOWN: --timeout: \"soon\" is not a duration"},
		{"zero timeout", []string{"-t", "0"}, 3, "UNKNOWN: --timeout: \"0\" must be greater than zero"},
		{"bad timeout state", []string{"--timeout-state", "green"}, 3, "UNKNOWN: --timeout-state: \"green\" is not a state"},
		{"tiny max-output", []string{"--max-output", "10"}, 3, "UNKNOWN: --max-output 10 is too small"},
		{"missing int", []string{"-p"}, 3, "UNKNOWN: --port: needs a value (see check_fake --help)"},
		{"missing string", []string{"--name"}, 3, "UNKNOWN: --name: needs a value"},
		{"missing string, short", []string{"-v", "-n"}, 3, "UNKNOWN: --name: needs a value"},
		{"missing range", []string{"-w"}, 3, "UNKNOWN: --warning: needs a value"},
		{"missing duration", []string{"--timeout"}, 3, "UNKNOWN: --timeout: needs a value"},
		{"stray argument", []string{"extra"}, 3, "UNKNOWN: unexpected argument extra"},
		{"panic is UNKNOWN, not CRITICAL", []string{"--mode", "panic"}, 3, "UNKNOWN: internal error: assignment to entry in nil map"},
		{"goroutine panic", []string{"--mode", "goroutine-panic"}, 3, "UNKNOWN: worker: internal error: in a goroutine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.code, out)
			}
			if !strings.HasPrefix(out, tt.prefix) {
				t.Errorf("output %q does not start with %q", out, tt.prefix)
			}
			if tt.code == 3 && strings.Count(strings.TrimRight(out, "\n"), "\n") != 0 {
				t.Errorf("usage error is not one line:\n%s", out)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, ".go:") {
				t.Errorf("stack trace on stdout:\n%s", out)
			}
		})
	}
}

// go-nagios reports a panic as CRITICAL; the contract says UNKNOWN.
func TestGoNagiosPanicTrap(t *testing.T) {
	var buf bytes.Buffer
	p := nagios.NewPlugin()
	p.SkipOSExit()
	p.SetOutputTarget(&buf)
	func() {
		defer p.ReturnCheckResults()
		panic("boom")
	}()
	if p.ExitStatusCode != nagios.StateCRITICALExitCode {
		t.Logf("go-nagios changed: a panic now gives exit %d", p.ExitStatusCode)
	}
	if code, _, _ := run(t, "--mode", "panic"); code != 3 {
		t.Fatalf("a panic gave exit %d, want 3", code)
	}
}

func TestHelpAndVersionExit3(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}} {
		code, out, _ := run(t, args...)
		if code != 3 {
			t.Errorf("%v: exit %d, want 3", args, code)
		}
		if !strings.Contains(out, "Usage: check_fake") || !strings.Contains(out, "--timeout") {
			t.Errorf("%v: no help on stdout:\n%s", args, out)
		}
	}
	for _, args := range [][]string{{"-V"}, {"--version"}} {
		code, out, _ := run(t, args...)
		if code != 3 || !strings.HasPrefix(out, "check_fake ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
}

func TestTimeoutForms(t *testing.T) {
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "2.5": 2500 * time.Millisecond, "500ms": 500 * time.Millisecond, "1m": time.Minute} {
		code, out, f := run(t, "-t", in)
		if code != 0 || f.gotTimeout != want {
			t.Errorf("-t %s: exit %d, timeout %v, want %v\n%s", in, code, f.gotTimeout, want, out)
		}
	}
	if _, _, f := run(t); f.gotTimeout != 10*time.Second {
		t.Errorf("default timeout %v", f.gotTimeout)
	}
}

func TestWatchdogEndsTheRun(t *testing.T) {
	start := time.Now()
	code, out, _ := run(t, "--mode", "ignore-deadline", "-t", "300ms", "--timeout-state", "warning")
	took := time.Since(start)
	if code != 1 || !strings.HasPrefix(out, "WARNING: check_fake timed out after 300ms at stage first byte") {
		t.Errorf("exit %d, output %q", code, out)
	}
	if took > 300*time.Millisecond+time.Second {
		t.Errorf("run took %v, more than the deadline + 1 s", took)
	}
	// A check that watches its context answers itself, before the watchdog.
	code, out, _ = run(t, "--mode", "respect-deadline", "-t", "200ms")
	if code != 2 || !strings.HasPrefix(out, "CRITICAL: timed out at connect") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestParseDuration(t *testing.T) {
	for _, bad := range []string{"", "abc", "-1", "-5s", "0", "1e3", "1.2.3", "10 s", "25h", "100000"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

// go-nagios' AddUniqueError indexes into a zero-length slice and panics as
// soon as one error was recorded. Checks here collect every problem as a
// line of long output instead; several errors must all arrive.
func TestSeveralErrorsAllReported(t *testing.T) {
	func() {
		defer func() {
			if recover() == nil {
				t.Log("go-nagios changed: AddUniqueError no longer panics")
			}
		}()
		p := nagios.NewPlugin()
		p.AddError(errTest("first"))
		p.AddUniqueError(errTest("second"))
	}()
	var out bytes.Buffer
	f := &multi{}
	b := Binary[*multi]{Options: Options{Name: "check_fake"}, Check: multiCheck}
	code := b.Main(f, nil, nil, &out, &out)
	if code != 2 || !strings.Contains(out.String(), "\nconnection 1: refused\nconnection 2: reset\n") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

type multi struct{ Common }

func (m *multi) Config() (*multi, error) { return m, nil }

func multiCheck(context.Context, checks.Env, *multi) checks.Result {
	return checks.Result{State: state.Critical, Summary: "2 of 2 connections failed",
		Details: []string{"connection 1: refused", "connection 2: reset"}}
}

func TestZeroDuration(t *testing.T) {
	for _, in := range []string{"0", "0s", "0ms", "0.00", "0.0"} {
		if !isZero(in) {
			t.Errorf("isZero(%q) = false", in)
		}
	}
	for _, in := range []string{"1", "1ms", "0.5", "-0", "x", ""} {
		if isZero(in) && in != "-0" {
			t.Errorf("isZero(%q) = true", in)
		}
	}
}

// The man page comes from the same flags and texts as --help: every
// visible flag with its help text, roff-escaped; exit 3 like --help.
func TestManPage(t *testing.T) {
	f := &fake{}
	var out, errb bytes.Buffer
	help := map[string]string{"warning": "Warn above this -x.", "critical": "Crit.", "value": "The value.", "mode": "How.", "port": "Port.", "name": ".Starts with a dot."}
	b := Binary[*fake]{Options: Options{Name: "check_fake", Description: "Check a fake: nothing real.", TimeoutState: state.Critical, Help: func() map[string]string { return help }}, Check: fakeCheck}
	code := b.Main(f, []string{"--man-page"}, nil, &out, &errb)
	page := out.String()
	if code != 3 || !strings.HasPrefix(page, ".TH CHECK_FAKE 1") || !strings.Contains(page, "check_fake \\- check a fake\n") {
		t.Fatalf("exit %d:\n%s", code, page)
	}
	for _, want := range []string{
		"\\fB\\-w\\fR, \\fB\\-\\-warning\\fR \\fIWARNING\\fR\nWarn above this \\-x.",
		"\\fB\\-\\-timeout\\fR",
		"\\&.Starts with a dot.",
		"(default: 1)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in:\n%s", want, page)
		}
	}
	if strings.Contains(page, "man\\-page") {
		t.Errorf("the hidden flag is in the page")
	}
}

// Any text: a duration or an error, never a panic, never negative.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10", "2.5", "500ms", "1m", "0", "-1", "1e9", "soon", "", "1h2m", "9999999999999999999", ".5", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("%q: negative %v accepted", s, d)
		}
	})
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/flags/flagstest"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/testlab"
)

// These tests run the built binary, as Nagios does: exit codes, the first
// line, the deadline of the whole process.

var binary string

func TestMain(m *testing.M) { testlab.MainWithBinary(m, "check_socat_endpoint", &binary) }

type result struct {
	code int
	out  string
	took time.Duration
}

func (r result) first() string { return strings.SplitN(r.out, "\n", 2)[0] }

func run(t *testing.T, args ...string) result {
	t.Helper()
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{}, args...)
	return result{code: r.Code, out: r.Out, took: r.Took}
}

const listen = "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr"

func port(s *testlab.Socat) string { return fmt.Sprint(s.Port) }

// A listener that accepts and never answers, and one that trickles a byte
// every 300 ms: the process ends by the deadline + 1 s, names the stage,
// and returns --timeout-state.
func TestDeadlineAgainstSlowPeers(t *testing.T) {
	dir := t.TempDir()
	silent := testlab.Start(t, listen, "EXEC:"+testlab.Script(t, dir, "silent", "exec sleep 600"))
	trickle := testlab.Start(t, listen, "EXEC:"+testlab.Script(t, dir, "trickle", "while :; do printf x || exit; sleep 0.3; done"))

	tests := []struct {
		name    string
		args    []string
		code    int
		first   string
		timeout time.Duration
	}{
		{"silent, waiting for the first byte", []string{"-H", "127.0.0.1", "-p", port(silent), "-s", "hello", "-e", "hello", "-t", "1.5"},
			2, "CRITICAL: tcp://127.0.0.1:" + port(silent) + " timed out at first byte: nothing received", 1500 * time.Millisecond},
		{"silent TLS handshake", []string{"-H", "127.0.0.1", "-p", port(silent), "--tls", "--insecure", "-t", "1"},
			2, "timed out at TLS handshake", time.Second},
		{"trickle, expectation never met", []string{"-H", "127.0.0.1", "-p", port(trickle), "-e", "never", "-t", "2", "--timeout-state", "warning"},
			1, `WARNING: tcp://127.0.0.1:` + port(trickle) + ` timed out at expectation: "never" not found in what arrived before the deadline (the last byte`, 2 * time.Second},
		{"trickle, many bytes expected", []string{"-H", "127.0.0.1", "-p", port(trickle), "-e", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "-t", "500ms", "--timeout-state", "unknown"},
			3, "UNKNOWN: ", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.first(), tt.first) {
				t.Errorf("exit %d, first line %q; want exit %d with %q", r.code, r.first(), tt.code, tt.first)
			}
			if r.took > tt.timeout+time.Second {
				t.Errorf("the run took %v, beyond the deadline %v + 1 s", r.took, tt.timeout)
			}
			if r.took < tt.timeout-100*time.Millisecond {
				t.Errorf("the run took %v: it did not wait for the peer until the deadline %v", r.took, tt.timeout)
			}
		})
	}
}

// A banner carrying '|' and '=' must not become performance data.
func TestBannerWithPipe(t *testing.T) {
	dir := t.TempDir()
	evil := testlab.Start(t, listen, "EXEC:"+testlab.Script(t, dir, "banner", `printf 'SSH-2.0-evil|fake=1;2;3 | other=9\r\n'; exec sleep 600`))
	for _, args := range [][]string{
		{"-H", "127.0.0.1", "-p", port(evil), "-e", "SSH-2.0", "-v"},
		{"-H", "127.0.0.1", "-p", port(evil), "-e", "HTTP/1.1", "-t", "1"},
	} {
		r := run(t, args...)
		if n := strings.Count(r.out, "|"); n != 1 {
			t.Errorf("%d pipes in the output:\n%s", n, r.out)
		}
		perf := r.first()[strings.Index(r.first(), "|")+1:]
		if strings.Contains(perf, "fake") || strings.Contains(perf, "other") {
			t.Errorf("the banner became perfdata: %q", perf)
		}
		if !strings.Contains(r.out, `SSH-2.0-evil\x7cfake=1;2;3 \x7c other=9\r\n`) {
			t.Errorf("the received text is not shown sanitized:\n%s", r.out)
		}
	}
}

func TestOKOutput(t *testing.T) {
	echo := testlab.Start(t, listen, "PIPE")
	relay := testlab.Start(t, listen, "TCP:"+echo.Addr())
	r := run(t, "-H", "127.0.0.1", "-p", port(relay), "-s", `ping\r\n`, "-e", "ping", "-w", "1", "-c", "2", "-t", "10")
	re := regexp.MustCompile(`^OK: tcp://127\.0\.0\.1:\d+ answered in [0-9.]+ s, 1 of 1 expectations met \(6 B\) \| time=[0-9.]+s;1;2;0; connect_time=[0-9.]+s;;;0; first_byte_time=[0-9.]+s;;;0; bytes_received=6B;;;0;$`)
	if r.code != 0 || !re.MatchString(r.first()) {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// The echo keeps the connection open: reading must stop once the
	// expectation matched, not wait for the deadline.
	if r.took > 5*time.Second {
		t.Errorf("the run took %v: it waited for the deadline after the answer was complete", r.took)
	}
}

// A server whose certificate names carry a newline must not add lines to
// the output: Go's x509 errors quote those names.
func TestCertificateNameCannotInjectLines(t *testing.T) {
	evil := testlab.SelfSigned(t, "evil", []string{"a\nCRITICAL: injected line|x=1"})
	echo := testlab.Start(t, listen, "EXEC:cat")
	tls := testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+evil, "TCP:"+echo.Addr())
	for _, extra := range [][]string{nil, {"--connections", "2"}, {"--retries", "1", "--retry-delay", "0"}} {
		args := append([]string{"-H", "localhost", "-p", port(tls), "--tls"}, extra...)
		r := run(t, args...)
		if r.code != 2 || strings.Contains(r.out, "\nCRITICAL: injected") || strings.Count(r.out, "|") != 1 {
			t.Errorf("%v: exit %d, output:\n%s", extra, r.code, r.out)
		}
		if !strings.Contains(r.out, `a\nCRITICAL: injected line\x7cx=1`) {
			t.Errorf("%v: the name is not shown escaped:\n%s", extra, r.out)
		}
	}
}

// A wrong answer on a connection the server keeps open is a mismatch once
// nothing more comes for --read-timeout, not a timeout at the deadline.
func TestMismatchOnOpenConnection(t *testing.T) {
	echo := testlab.Start(t, listen, "EXEC:cat")
	r := run(t, "-H", "127.0.0.1", "-p", port(echo), "-s", "SSH-2.0-OpenSSH", "-e", "220 ", "--read-timeout", "300ms", "-t", "10", "--mismatch-state", "warning")
	if r.code != 1 || !strings.Contains(r.first(), `failed at expectation: "220 " not found in the response (nothing more came for 300ms)`) {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	if r.took > 3*time.Second {
		t.Errorf("took %v: it waited for the deadline", r.took)
	}
}

// Ranges judge response times: a timed-out attempt gets --timeout-state,
// not the threshold its elapsed time happens to breach; and an OK state
// chosen by --timeout-state does not claim an answer.
func TestTimeoutStateWinsOverThresholds(t *testing.T) {
	silent := testlab.Start(t, listen, "EXEC:"+testlab.Script(t, t.TempDir(), "silent", "exec sleep 600"))
	r := run(t, "-H", "127.0.0.1", "-p", port(silent), "-s", "x", "-t", "1", "-w", "0.2", "-c", "0.5", "--timeout-state", "warning")
	if r.code != 1 {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = run(t, "-H", "127.0.0.1", "-p", port(silent), "-s", "x", "-t", "500ms", "--timeout-state", "ok")
	if r.code != 0 || !strings.Contains(r.first(), "timed out at first byte") || !strings.Contains(r.first(), "(--timeout-state ok)") || strings.Contains(r.first(), "answered") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

// The --settle wait is not response time.
func TestSettleIsNotResponseTime(t *testing.T) {
	echo := testlab.Start(t, listen, "EXEC:cat")
	r := run(t, "-H", "127.0.0.1", "-p", port(echo), "--settle", "800ms", "-w", "0.5")
	m := regexp.MustCompile(`time=([0-9.]+)s`).FindStringSubmatch(r.first())
	if r.code != 0 || m == nil || m[1] >= "0.5" || r.took < 800*time.Millisecond {
		t.Errorf("exit %d after %v:\n%s", r.code, r.took, r.out)
	}
}

// A TLS 1.2 listener that requires a client certificate fails the
// handshake itself; the output still says what is missing.
func TestTLS12ClientCertificateHint(t *testing.T) {
	pki := testlab.NewPKI(t)
	echo := testlab.Start(t, listen, "EXEC:cat")
	mtls := testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,openssl-max-proto-version=TLS1.2,cafile="+pki.CA+",cert="+pki.ServerCert, "TCP:"+echo.Addr())
	r := run(t, "-H", "127.0.0.1", "-p", port(mtls), "--tls", "--ca-file", pki.CA)
	if r.code != 2 || !strings.Contains(r.first(), "failed at TLS handshake") || !strings.Contains(r.first(), "(a client certificate is required: give --cert/--key)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

func TestExplicitOneConnectionIsReported(t *testing.T) {
	echo := testlab.Start(t, listen, "EXEC:cat")
	r := run(t, "-H", "127.0.0.1", "-p", port(echo), "-s", "x", "--connections", "1", "--retry-delay", "0", "--max-bytes", "1K")
	if r.code != 0 || !strings.Contains(r.first(), "connections_ok=1;;;0;1") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

// Every flag given a bad value: exit 3, one line "UNKNOWN: ..." naming it.
func TestBadInput(t *testing.T) {
	tcp := []string{"-H", "127.0.0.1", "-p", "9"}
	with := func(extra ...string) []string { return append(append([]string{}, tcp...), extra...) }
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"-p", "9"}, "no target"},
		{[]string{"-H", "127.0.0.1"}, "-p/--port"},
		{[]string{"-H", "127.0.0.1", "-p", "http"}, "--port"},
		{[]string{"-H", "[::1]", "-p", "443"}, "-H [::1]: give the IPv6 address without brackets"},
		{[]string{"-H", "socat.example:443", "-p", "443"}, "-H socat.example:443 holds a port"},
		{[]string{"-H", "127.0.0.1", "-p", "0"}, "-p/--port"},
		{[]string{"-H", "127.0.0.1", "-p", "65536"}, "-p/--port"},
		{[]string{"--unix", "/tmp/x", "-H", "127.0.0.1"}, "--unix"},
		{with("--udp"), "--udp"},
		{with("--udp", "-s", "x", "--tls"), "--tls"},
		{with("-4", "-6"), "-4 and -6"},
		{with("-6"), "IPv6"},
		{with("--source", "eth0"), "--source"},
		{with("--source", "10.255.255.1"), "--source"},
		{with("-s", `bad\q`), "--send"},
		{with("-s", `\x4`), "--send"},
		{with("-e", ""), "--expect"},
		{with("-e", `\z`), "--expect"},
		{with("--expect-regex", "(unclosed"), "--expect-regex"},
		{with("--expect-bytes", "xyz"), "--expect-bytes"},
		{with("--max-bytes", "0"), "--max-bytes"},
		{with("--max-bytes", "many"), "--max-bytes"},
		{with("--max-bytes", "999999999"), "--max-bytes 999999999 is out of range"},
		{with("--max-bytes", "9M"), "--max-bytes 9437184 is out of range"},
		{with("--max-bytes", "8M", "--connections", "100", "-e", "x"), "--max-bytes"},
		{with("--read-timeout", "later"), "--read-timeout"},
		{with("-w", ":"), "--warning"},
		{with("-c", "@~:"), "--critical"},
		{with("--sni", "example.org"), "--tls"},
		{with("--insecure"), "--tls"},
		{with("--tls", "--ca-file", missing), "--ca-file"},
		{with("--tls", "--ca-file", notPEM), "--ca-file"},
		{with("--tls", "--ca-file", "/dev/zero"), "cannot read --ca-file /dev/zero: not a regular file"},
		{with("--tls", "--cert", "/dev/zero"), "cannot read --cert /dev/zero: not a regular file"},
		{with("--tls", "--cert", missing), "--cert"},
		{with("--tls", "--cert", notPEM), "--cert"},
		{with("--tls", "--key", notPEM), "--key"},
		{with("--echo-bytes", "-5"), "--echo-bytes"},
		{with("--echo-bytes", "lots"), "--echo-bytes"},
		{with("--echo-bytes", "10", "-s", "x"), "--echo-bytes"},
		{with("--connections", "0"), "--connections"},
		{with("--connections", "99999"), "--connections"},
		{with("--retries", "-1"), "--retries"},
		{with("--reject", ""), "--reject"},
		{with("--reject-regex", ""), "--reject-regex"},
		{with("--reject-regex", "("), "--reject-regex"},
		{with("--until", ""), "--until"},
		{with("--http-status", "200-99"), "--http-status"},
		{with("--http-status", "ok"), "--http-status"},
		{with("--http-status", "200", "-s", "GET"), "--http-status"},
		{with("--http-status", "200", "--http-path", "/a\tb"), "--http-path"},
		{with("--http-status", "200", "--http-host", "a b"), "--http-host"},
		{with("--http-path", "/x"), "--http-status"},
		{with("--attempt-timeout", "1ns"), "--attempt-timeout"},
		{with("--warning-days", "5"), "--tls"},
		{with("--tls", "--warning-days", "NaN"), "--warning-days"},
		{with("--tls", "--critical-days", "Inf"), "--critical-days"},
		{with("--tls", "--warning-days", "3", "--critical-days", "7"), "--critical-days"},
		{with("--retries", "x"), "--retries"},
		{with("--retry-delay", "soon"), "--retry-delay"},
		{with("--settle", "-1"), "--settle"},
		{with("--refused-state", "closed"), "--refused-state"},
		{with("--mismatch-state", "bad"), "--mismatch-state"},
		{with("--timeout-state", "late"), "--timeout-state"},
		{with("-t", "0"), "--timeout"},
		{with("-t", "ten"), "--timeout"},
		{with("-w", "1.2.3"), "--warning"},
		{with("-c", "5:1"), "--critical"},
		{with("-v", "--max-output", "100"), "--max-output"},
		{with("--no-such-flag"), "--no-such-flag"},
		{with("stray"), "stray"},
	}
	for _, tt := range tests {
		r := run(t, tt.args...)
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if r.code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], "UNKNOWN: ") || !strings.Contains(lines[0], tt.flag) {
			t.Errorf("%v: exit %d, output:\n%s\nwant exit 3 and one UNKNOWN line naming %s", tt.args, r.code, r.out, tt.flag)
		}
	}
}

// Every flag has one help text, and no help text names a flag that is gone.
func TestEveryFlagHasHelp(t *testing.T) {
	missing, stale, err := plugin.MissingHelp(&cli{}, help)
	if err != nil || len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("missing help: %v; help for no flag: %v; %v", missing, stale, err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := run(t, "--help")
	if r.code != 3 || !strings.Contains(r.out, "--echo-bytes=N") || !strings.Contains(r.out, "--refused-state=STATE") ||
		!strings.Contains(r.out, "(default: 65536)") || !strings.Contains(r.out, "Whole-run deadline") {
		t.Errorf("--help: exit %d\n%s", r.code, r.out)
	}
	r = run(t, "-V")
	if r.code != 3 || !regexp.MustCompile(`^check_socat_endpoint \S+ \(\S+, go[0-9.]+\)\n$`).MatchString(r.out) {
		t.Errorf("-V: exit %d %q", r.code, r.out)
	}
}

// --max-output bounds the output and keeps perfdata, with 100 connections
// each reporting a failure.
func TestMaxOutput(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := run(t, "-H", "127.0.0.1", "-p", fmt.Sprint(p), "--connections", "100", "--max-output", "600", "-v")
	if r.code != 2 || len(r.out) > 600 || !strings.Contains(r.first(), "connections_ok=0;;;0;100") || !strings.Contains(r.out, " more\n") {
		t.Errorf("exit %d, %d bytes:\n%s", r.code, len(r.out), r.out)
	}
}

// The packaged Icinga 2 CheckCommand is what the flags say today (make
// packaging-files regenerates it).
func TestIcinga2CommandIsPackaged(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--icinga2-command"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	testlab.CheckIcinga2Packaged(t, out.Bytes())
}

// What a user or an engine does to a running check: SIGTERM (Icinga's and
// NRPE's own timeout) ends it with the timeout line, the stage, the
// perfdata measured so far and --timeout-state's code; a low open-file
// limit is exit 3 in words.
func TestRuntimeFaults(t *testing.T) {
	// The server keeps what it receives and never answers: once our
	// request is there, the check has connected and waits for its first
	// byte.
	dir := t.TempDir()
	got := filepath.Join(dir, "got")
	silent := testlab.Start(t, listen, "EXEC:"+testlab.Script(t, dir, "silent", "exec cat > "+got))
	for _, tt := range []struct {
		flags []string
		code  int
	}{{nil, 2}, {[]string{"--timeout-state", "warning"}, 1}} {
		os.Remove(got)
		args := append([]string{"-H", "127.0.0.1", "-p", port(silent), "-s", "x", "-e", "y", "-t", "20"}, tt.flags...)
		r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Signal: syscall.SIGTERM,
			When: func(int) bool { info, err := os.Stat(got); return err == nil && info.Size() > 0 }}, args...)
		if r.Code != tt.code || !strings.Contains(r.First(), "check_socat_endpoint was stopped by SIGTERM after ") ||
			!strings.Contains(r.First(), " at stage first byte ") || r.Err != "" || r.Took > 10*time.Second {
			t.Errorf("SIGTERM %v: exit %d in %v, want %d:\n%s\nstderr: %s", tt.flags, r.Code, r.Took, tt.code, r.Out, r.Err)
		}
		if _, ok := r.Perf("connect_time"); !ok {
			t.Errorf("SIGTERM after the connect: no connect_time:\n%s", r.Out)
		}
	}
	testlab.LowFDLimits(t, binary, "-H", "127.0.0.1", "-p", port(silent), "-t", "1")
}

// The flags parse as kong parsed them (the binaries used kong until
// start-up time had it replaced): every flag in every form, and the
// mistakes both refuse.
func TestFlagsAgreeWithKong(t *testing.T) {
	newCmd := func() any { return &cli{} }
	vars := program.Options.Vars()
	flagstest.Agree(t, newCmd, vars, flagstest.CommandLines(t, newCmd, vars, flagstest.Samples{"timeout-state": "warning", "max-output": "4096", "max-bytes": "1K", "retries": "2", "retry-delay": "250ms", "settle": "0", "mismatch-state": "warning", "warning": "-5:-1", "critical": "@0.5:2", "echo-bytes": "64K", "connections": "3", "port": "8443", "refused-state": "ok", "timeout": "2.5", "read-timeout": "0", "http-path": "/health", "http-status": "200-299", "attempt-timeout": "3s"}))
}

// The manual page describes every finding the check can give (issue 15).
func TestManPageFindings(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--man-page"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	testlab.CheckManPage(t, out.String(), "../../checks/endpoint")
}

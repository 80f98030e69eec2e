package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/flags/flagstest"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/testlab"
)

var binary string

func TestMain(m *testing.M) { testlab.MainWithBinary(m, "check_socat_logs", &binary) }

type result struct {
	code int
	out  string
}

func (r result) first() string { return strings.SplitN(r.out, "\n", 2)[0] }

func runWith(t *testing.T, cred *syscall.Credential, stdin string, args ...string) result {
	t.Helper()
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Credential: cred, Stdin: strings.NewReader(stdin)}, args...)
	return result{code: r.Code, out: r.Out}
}

func run(t *testing.T, args ...string) result { return runWith(t, nil, "", args...) }

var perfRe = regexp.MustCompile(`(?:^| )([a-z_]+)=(\d+)`)

func (r result) perf(label string) int {
	parts := strings.SplitN(r.first(), " | ", 2)
	for _, m := range perfRe.FindAllStringSubmatch(parts[len(parts)-1], -1) {
		if m[1] == label {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return -1
}

func TestEveryFlagHasHelp(t *testing.T) {
	missing, stale, err := plugin.MissingHelp(&cli{}, help)
	if err != nil || len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("missing help: %v; help for no flag: %v; %v", missing, stale, err)
	}
}

func errLines(n int, tag string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] E connect(5, AF=2 10.0.0.1:80, 16): Connection refused %s-%d\n", 1000+i, tag, i)
	}
	return b.String()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// 200 runs at once over 1000 new lines count exactly 1000 in total: the
// lock serialises them, and each reads what the one before left.
func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	log, states := filepath.Join(dir, "socat.log"), filepath.Join(dir, "state")
	appendFile(t, log, "")
	if r := run(t, "-f", log, "--state-dir", states); r.code != 0 {
		t.Fatalf("first run: %d\n%s", r.code, r.out)
	}
	appendFile(t, log, errLines(1000, "burst"))
	var wg sync.WaitGroup
	counts := make([]int, 200)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := run(t, "-f", log, "--state-dir", states)
			counts[i] = r.perf("error")
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1000 {
		t.Errorf("counted %d in total (%v), want 1000", total, counts)
	}
}

func TestStdinAndOutput(t *testing.T) {
	in := "2026/11/26 06:24:49 socat[5] E SSL_accept(): error:0A00010B:SSL routines::wrong version number\n" +
		"2026/11/26 06:24:49 socat[6] W refusing connection from AF=2 10.1.1.1:5 due to range option\n" +
		"2026/11/26 06:24:49 socat[7] N SSL connection using ADH-AES128-SHA\n"
	r := runWith(t, nil, in, "-f", "-")
	if r.code != 2 || !strings.HasPrefix(r.first(), "CRITICAL: 1 weak TLS session, 1 refused connection, 1 TLS failure (+1 more) in 3 new lines of stdin | ") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	if r.perf("weak_tls") != 1 || r.perf("tls_failure") != 1 || r.perf("refused") != 1 || r.perf("lines") != 3 {
		t.Errorf("perfdata:\n%s", r.first())
	}
}

// A journal file made by systemd-journal-remote from export format, read
// with journalctl: the records of the unit, once.
func TestJournalFile(t *testing.T) {
	remote := "/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(remote); err != nil {
		t.Fatalf("%s is missing: run `make test`, which installs systemd-journal-remote", remote)
	}
	testlab.Need(t, "journalctl")
	dir := t.TempDir()
	var export strings.Builder
	now := time.Now().Add(-time.Minute).UnixMicro()
	records := []struct{ unit, msg string }{
		{"relay.service", "2026/11/26 06:24:49 socat[100] N listening on AF=2 127.0.0.1:1"},
		{"relay.service", "2026/11/26 06:24:49 socat[101] E SSL_accept(): error:0A00010B:SSL routines::wrong version number"},
		{"other.service", "2026/11/26 06:24:49 socat[200] E SSL_accept(): error:0A00010B:SSL routines::wrong version number"},
		{"relay.service", "Started relay.service."},
		{"relay.service", "2026/11/26 06:24:50 socat[100] W exiting on signal 15"},
	}
	for i, rec := range records {
		fmt.Fprintf(&export, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=%s\nSYSLOG_IDENTIFIER=socat\n_PID=100\nMESSAGE=%s\n\n",
			now+int64(i), 1000+i, rec.unit, rec.msg)
	}
	exportFile, journal := filepath.Join(dir, "in.export"), filepath.Join(dir, "socat.journal")
	if err := os.WriteFile(exportFile, []byte(export.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(remote, "-o", journal, exportFile).CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
	states := filepath.Join(dir, "state")
	args := []string{"--journal-file", journal, "--journal-unit", "relay.service", "--state-dir", states, "--first-run", "start"}
	r := run(t, args...)
	if r.code != 2 || r.perf("tls_failure") != 1 || r.perf("exit") != 1 || r.perf("unparsed") != 1 || r.perf("lines") != 4 ||
		!strings.Contains(r.first(), "of journal file "+journal+", unit relay.service") {
		t.Errorf("first run, exit %d:\n%s", r.code, r.out)
	}
	r = run(t, args...)
	if r.code != 0 || r.perf("lines") != 0 {
		t.Errorf("second run, exit %d:\n%s", r.code, r.out)
	}
	// A unit the journal has no record of: WARNING on every run, not only
	// the first (seen in make integration: the next runs said OK).
	for i := range 2 {
		r = run(t, "--journal-file", journal, "--journal-unit", "nosuch.service", "--state-dir", states)
		if r.code != 1 || !strings.Contains(r.first(), "the journal has no record of") {
			t.Errorf("unknown unit, run %d, exit %d:\n%s", i+1, r.code, r.out)
		}
	}
	// The whole file, no unit.
	r = run(t, "--journal-file", journal, "--no-state")
	if r.perf("tls_failure") != 2 || r.perf("lines") != 5 {
		t.Errorf("whole file:\n%s", r.out)
	}
}

// Missing, unreadable and unusable: exit 3 with one line naming the file
// or flag.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	appendFile(t, log, errLines(1, "x"))
	notDir := filepath.Join(dir, "file")
	appendFile(t, notDir, "")
	// A FIFO nobody writes to: opening it must not wait for a writer.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no source"},
		{[]string{"-f", filepath.Join(dir, "missing.log")}, "missing.log does not exist"},
		{[]string{"-f", dir}, "is not a regular file"},
		{[]string{"-f", ""}, "-f/--file is empty"},
		{[]string{"-f", log, "-f", log}, "given twice"},
		{[]string{"-f", "-", "-f", "-"}, "given twice"},
		{[]string{"-f", log, "--state-dir", filepath.Join(notDir, "sub")}, "--state-dir"},
		{[]string{"-f", log, "--state-dir", ""}, "--state-dir"},
		{[]string{"-f", log, "--first-run", "middle"}, "--first-run"},
		{[]string{"-f", log, "-w", "refused"}, "--warning"},
		{[]string{"-f", log, "-w", "nonsense=1"}, "--warning"},
		{[]string{"-f", log, "-c", "exit=x"}, "--critical"},
		{[]string{"-f", log, "--critical-pattern", "("}, "--critical-pattern"},
		{[]string{"-f", log, "--warning-pattern", "[z-a]"}, "--warning-pattern"},
		{[]string{"-f", log, "--ignore-pattern", "*"}, "--ignore-pattern"},
		{[]string{"-f", log, "--since", "yesterday"}, "--since"},
		{[]string{"-f", log, "--max-age", "-1h"}, "--max-age"},
		{[]string{"-f", log, "--show", "1000"}, "--show"},
		{[]string{"-f", log, "--show", "many"}, "--show"},
		{[]string{"-f", log, "--rotated", ""}, "--rotated"},
		{[]string{"--journal-file", filepath.Join(dir, "none.journal")}, "none.journal"},
		{[]string{"-f", log, "stray"}, "stray"},
		{[]string{"-f", fifo, "-t", "5"}, "fifo is not a regular file"},
		{[]string{"-f", fifo, "--no-state", "-t", "5"}, "fifo is not a regular file"},
		{[]string{"-f", log, "--ignore-peer", "10.0.0.0/33"}, "--ignore-peer \"10.0.0.0/33\" is not a CIDR"},
		{[]string{"-f", log, "--ignore-peer", "localhost"}, "--ignore-peer"},
		{[]string{"-f", log, "--ignore-peer", ""}, "--ignore-peer"},
	}
	for _, tt := range tests {
		start := time.Now()
		r := run(t, tt.args...)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%v took %v", tt.args, took)
		}
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if r.code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], "UNKNOWN: ") || !strings.Contains(lines[0], tt.want) {
			t.Errorf("%v: exit %d:\n%s\nwant exit 3, one UNKNOWN line with %q", tt.args, r.code, r.out, tt.want)
		}
	}
}

// As nobody (NRPE's situation): a log it may not read, and a state
// directory it may not write, are exit 3 with what to do.
func TestUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to nobody; CI runs as root")
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	secret := filepath.Join(dir, "secret.log")
	appendFile(t, secret, errLines(1, "x"))
	if err := os.Chmod(secret, 0o600); err != nil {
		t.Fatal(err)
	}
	readable := filepath.Join(dir, "open.log")
	appendFile(t, readable, errLines(1, "x"))
	rootOnly := filepath.Join(dir, "rootstate")
	if err := os.Mkdir(rootOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	r := runWith(t, nobody, "", "-f", secret, "--state-dir", filepath.Join(os.TempDir(), "unused"))
	if r.code != 3 || !strings.Contains(r.first(), "log "+secret+" is not readable by this user") {
		t.Errorf("unreadable log: exit %d:\n%s", r.code, r.out)
	}
	r = runWith(t, nobody, "", "-f", readable, "--state-dir", rootOnly)
	if r.code != 3 || !strings.Contains(r.first(), "--state-dir "+rootOnly) {
		t.Errorf("unwritable state dir: exit %d:\n%s", r.code, r.out)
	}
}

// Runs that overlap a writer: 3000 lines appended in bursts while 60 runs
// share one state; every line counted exactly once in total.
func TestConcurrentRunsWhileWriting(t *testing.T) {
	dir := t.TempDir()
	log, states := filepath.Join(dir, "socat.log"), filepath.Join(dir, "state")
	appendFile(t, log, "")
	run(t, "-f", log, "--state-dir", states)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	// Each burst is followed by two more runs, so runs start while others
	// hold the lock and the log grows under them.
	for i := range 30 {
		appendFile(t, log, errLines(100, fmt.Sprintf("burst%d", i)))
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := run(t, "-f", log, "--state-dir", states)
				mu.Lock()
				total += r.perf("error")
				mu.Unlock()
				if strings.Contains(r.out, "truncated") || strings.Contains(r.out, "replaced") {
					t.Errorf("a growing log taken for rotated:\n%s", r.out)
				}
			}()
		}
	}
	wg.Wait()
	total += run(t, "-f", log, "--state-dir", states).perf("error")
	if total != 3000 {
		t.Errorf("counted %d, want 3000", total)
	}
}

// A stdin that stalls ends by the deadline, with --timeout-state.
func TestStdinDeadline(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	if _, err := pw.WriteString(errLines(2, "x")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-f", "-", "-t", "1", "--timeout-state", "critical")
	cmd.Stdin = pr
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	err = cmd.Run()
	pr.Close()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || !strings.Contains(out.String(), "timed out at stage reading standard input: 2 lines read") ||
		time.Since(start) > 2*time.Second {
		t.Errorf("after %v: %v\n%s", time.Since(start), err, out.String())
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

// A category given with -w or -c loses both its defaults: -w exit=0 makes
// a service exit WARNING, where the default makes it CRITICAL.
func TestThresholdReplacesBothDefaults(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	content := "2026/11/26 06:24:49 socat[1] N listening on AF=2 0.0.0.0:1\n2026/11/26 06:24:50 socat[1] N exit(1)\n"
	if err := os.WriteFile(log, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "--no-state", "-f", log); r.code != 2 || !strings.HasPrefix(r.out, "CRITICAL: 1 service exit") {
		t.Errorf("default: exit %d\n%s", r.code, r.out)
	}
	if r := run(t, "--no-state", "-f", log, "-w", "exit=0"); r.code != 1 || !strings.HasPrefix(r.out, "WARNING: 1 service exit") ||
		!strings.Contains(r.first(), "exit=1;0;;0;") {
		t.Errorf("-w exit=0: exit %d\n%s", r.code, r.out)
	}
}

// The suite's own probes do not raise the log check: a verifying socat
// (-lf) in a network namespace the test makes is audited in full by
// check_socat_tls from 127.0.0.1 (dozens of SSL_accept errors in its
// log); --ignore-peer 127.0.0.1/32 leaves it OK, without it is WARNING;
// a client refused from another namespace (a non-loopback peer outside
// the CIDR) still counts.
func TestIgnorePeerOfAFullAudit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for ip netns; CI runs as root")
	}
	testlab.Need(t, "ip", "socat", "openssl")
	tlsBinary, cleanup, err := testlab.BuildCommand("../check_socat_tls", "check_socat_tls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)

	// Two namespaces joined by a veth pair with test-only addresses: the
	// server's, where socat and the audit run, and a client's.
	id := os.Getpid() % 200
	srv, cli := fmt.Sprintf("cslsrv%d", os.Getpid()), fmt.Sprintf("cslcli%d", os.Getpid())
	srvAddr, cliAddr := fmt.Sprintf("10.231.%d.1", id), fmt.Sprintf("10.231.%d.2", id)
	for _, ns := range []string{srv, cli} {
		testlab.MustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		testlab.MustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	testlab.MustRun(t, "ip", "-n", srv, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", cli)
	testlab.MustRun(t, "ip", "-n", srv, "addr", "add", srvAddr+"/30", "dev", "veth0")
	testlab.MustRun(t, "ip", "-n", cli, "addr", "add", cliAddr+"/30", "dev", "veth1")
	testlab.MustRun(t, "ip", "-n", srv, "link", "set", "veth0", "up")
	testlab.MustRun(t, "ip", "-n", cli, "link", "set", "veth1", "up")

	ca := testlab.NewOpenSSLCA(t)
	client := ca.Issue(t, testlab.Leaf{CN: "monitoring client"})
	cert := ca.Issue(t, testlab.Leaf{CN: "relay", SAN: "IP:127.0.0.1,IP:" + srvAddr})
	log := filepath.Join(t.TempDir(), "relay.log")
	testlab.StartInNetns(t, srv, "socat", "-d", "-d", "-lf", log, "OPENSSL-LISTEN:4433,fork,reuseaddr,cert="+cert+",cafile="+ca.Cert, "EXEC:cat")
	testlab.Eventually(t, 10*time.Second, "socat to listen", func() bool {
		return testlab.CountLines(log, regexp.MustCompile(`N listening on`)) > 0
	})
	inSrv := func(args ...string) result {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", srv, tlsBinary}, args...)...)
		out, err := cmd.Output()
		r := result{out: string(out)}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			r.code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	audit := []string{"-H", "127.0.0.1", "-p", "4433", "--ca-file", ca.Cert, "--client-cert", client}
	if r := inSrv(audit...); r.code > 2 || !strings.Contains(r.first(), "protocols") {
		t.Fatalf("full audit: exit %d\n%s", r.code, r.out)
	}
	testlab.Eventually(t, 10*time.Second, "the audit's refusals to be logged", func() bool {
		return testlab.CountLines(log, regexp.MustCompile(`E SSL_accept\(\)`)) >= 10
	})
	r := run(t, "-f", log, "--no-state")
	if r.code != 1 || r.perf("tls_failure") < 10 || r.perf("ignored") != 0 {
		t.Errorf("without --ignore-peer: exit %d, tls_failure %d:\n%s", r.code, r.perf("tls_failure"), r.out)
	}
	r = run(t, "-f", log, "--no-state", "--ignore-peer", "127.0.0.1/32")
	if r.code != 0 || r.perf("tls_failure") != 0 || r.perf("error") != 0 || r.perf("accepted") != 0 || r.perf("ignored") < 20 {
		t.Errorf("--ignore-peer 127.0.0.1/32: exit %d:\n%s", r.code, r.out)
	}

	// A client without a certificate, from the other namespace.
	before := testlab.CountLines(log, regexp.MustCompile(`E SSL_accept\(\)`))
	cmd := exec.Command("ip", "netns", "exec", cli, "openssl", "s_client", "-connect", srvAddr+":4433", "-servername", "relay")
	cmd.Stdin = strings.NewReader("")
	_ = cmd.Run()
	testlab.Eventually(t, 10*time.Second, "the refusal to be logged", func() bool {
		return testlab.CountLines(log, regexp.MustCompile(`E SSL_accept\(\)`)) > before
	})
	r = run(t, "-f", log, "--no-state", "--ignore-peer", "127.0.0.1/32")
	if r.code != 1 || r.perf("tls_failure") != 1 || r.perf("accepted") != 1 || !strings.Contains(r.out, "1 TLS failure") {
		t.Errorf("a refusal of %s with --ignore-peer 127.0.0.1/32: exit %d:\n%s", cliAddr, r.code, r.out)
	}
}

// SIGTERM (Icinga's and NRPE's own timeout) ends a run that is reading
// with the timeout line and --timeout-state's code (UNKNOWN by default
// here); a low open-file limit is exit 3 in words.
func TestRuntimeFaults(t *testing.T) {
	// A pipe whose writer stays open: the check blocks reading its stdin.
	stdin, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer stdin.Close()
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Stdin: stdin, Signal: syscall.SIGTERM,
		When: testlab.BlockedInPipeRead}, "-f", "-", "-t", "20")
	if r.Code != 3 || !strings.Contains(r.First(), "check_socat_logs was stopped by SIGTERM after ") || r.Err != "" {
		t.Errorf("SIGTERM: exit %d in %v:\n%s\nstderr: %s", r.Code, r.Took, r.Out, r.Err)
	}
	log := filepath.Join(t.TempDir(), "socat.log")
	if err := os.WriteFile(log, []byte("2026/11/26 06:24:49 socat[7] N accepting connection from AF=2 127.0.0.1:4 on AF=2 127.0.0.1:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testlab.LowFDLimits(t, binary, "-f", log, "--state-dir", t.TempDir())
}

// The flags parse as kong parsed them (the binaries used kong until
// start-up time had it replaced): every flag in every form, and the
// mistakes both refuse.
func TestFlagsAgreeWithKong(t *testing.T) {
	newCmd := func() any { return &cli{} }
	vars := program.Options.Vars()
	flagstest.Agree(t, newCmd, vars, flagstest.CommandLines(t, newCmd, vars, flagstest.Samples{"timeout-state": "warning", "max-output": "4096", "state-dir": "/tmp/x", "first-run": "start", "rotated": "PATH.0", "since": "1h", "max-age": "0", "show": "7", "warning": "refused=1:", "timeout": "2.5"}))
}

// The manual page describes every finding the check can give (issue 15).
func TestManPageFindings(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--man-page"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	testlab.CheckManPage(t, out.String(), "../../checks/logs")
}

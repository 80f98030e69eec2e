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
	cmd := exec.Command(binary, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	r := result{out: out.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	if r.code < 0 || r.code > 3 {
		t.Fatalf("exit %d:\n%s", r.code, r.out)
	}
	return r
}

func run(t *testing.T, args ...string) result { return runWith(t, nil, "", args...) }

var perfRe = regexp.MustCompile(`'([a-z_]+)'=(\d+)`)

func (r result) perf(label string) int {
	for _, m := range perfRe.FindAllStringSubmatch(r.first(), -1) {
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
	}
	for _, tt := range tests {
		r := run(t, tt.args...)
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
	if code := plugin.Main(options, &cli{}, []string{"--icinga2-command"}, &out, io.Discard); code != 3 {
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
		!strings.Contains(r.first(), "'exit'=1;0;;0;") {
		t.Errorf("-w exit=0: exit %d\n%s", r.code, r.out)
	}
}

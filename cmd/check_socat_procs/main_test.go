package main

import (
	"bytes"
	le "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks/procs"
	"github.com/check-socat/check-socat/internal/flags/flagstest"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/testlab"
)

var binary string

func TestMain(m *testing.M) { testlab.MainWithBinary(m, "check_socat_procs", &binary) }

type result struct {
	code int
	out  string
}

func (r result) first() string { return strings.SplitN(r.out, "\n", 2)[0] }

func runAs(t *testing.T, cred *syscall.Credential, args ...string) result {
	t.Helper()
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Credential: cred}, args...)
	return result{code: r.Code, out: r.Out}
}

func run(t *testing.T, args ...string) result { return runAs(t, nil, args...) }

func TestEveryFlagHasHelp(t *testing.T) {
	missing, stale, err := plugin.MissingHelp(&cli{}, help)
	if err != nil || len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("missing help: %v; help for no flag: %v; %v", missing, stale, err)
	}
}

func TestCmdlineAudit(t *testing.T) {
	r := run(t, "--cmdline", "socat TCP-LISTEN:4444,reuseaddr,fork EXEC:/bin/bash,pty,stderr")
	if r.code != 2 || !strings.HasPrefix(r.first(), "CRITICAL: socat command line: 2 critical, 4 warning findings: remote-exec (") ||
		!strings.Contains(r.first(), "| findings_critical=2;;;0; findings_warning=4;;;0;") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = run(t, "--cmdline", "socat -d -d -T 60 TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=10 TCP:127.0.0.1:80,retry=3")
	if r.code != 0 || !strings.HasPrefix(r.first(), "OK: socat command line: no findings") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = run(t, "--cmdline", "socat TCP-LISTEN:80 -", "--ignore", "plaintext-listener", "--ignore", "no-access-control", "--ignore", "no-logging")
	if r.code != 0 || !strings.Contains(r.first(), "no findings (3 ignored)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = run(t, "--cmdline", "socat TCP-LISTEN:80")
	if r.code != 1 || !strings.Contains(r.first(), "unparsable (the command line cannot be read: socat needs two addresses, found 1)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

func TestUnitFileAudit(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "server.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "tls-front.service")
	content := "[Service]\nUser=nobody\nExecStart=/usr/bin/socat -d -d -T 60 \\\n  OPENSSL-LISTEN:443,fork,max-children=20,cert=" + key +
		",cafile=" + filepath.Join(dir, "missing-ca.pem") + ",range=10.0.0.0/8 \\\n  TCP:127.0.0.1:8080,retry=3\n"
	if err := os.WriteFile(unit, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "--unit-file", unit)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL key-file-exposed [tls-front.service]: cert "+key+" holds a private key and is readable by group and others (mode 0644)") ||
		!strings.Contains(r.out, "CRITICAL file-missing [tls-front.service]: cafile "+filepath.Join(dir, "missing-ca.pem")+" of OPENSSL-LISTEN does not exist") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	if strings.Contains(r.out, "runs-as-root") {
		t.Errorf("User=nobody is not root:\n%s", r.out)
	}

	// Variables and a working directory: cert=${CERT} is server.pem in
	// WorkingDirectory=, so the same exposed key is found; ${PORT} is set
	// nowhere and is said.
	unit = filepath.Join(dir, "vars.service")
	content = "[Service]\nUser=nobody\nWorkingDirectory=" + dir + "\nEnvironment=\"CERT=server.pem\" OPTS=-T\\ 60\n" +
		"ExecStart=/usr/bin/socat -d -d OPENSSL-LISTEN:${PORT},fork,cert=${CERT},cafile=ca.pem TCP:127.0.0.1:8080\n"
	if err := os.WriteFile(unit, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--unit-file", unit)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL key-file-exposed [vars.service]: cert server.pem holds a private key") ||
		!strings.Contains(r.out, "CRITICAL file-missing [vars.service]: cafile ca.pem of OPENSSL-LISTEN does not exist") ||
		!strings.Contains(r.out, "note: the unit uses variables it does not set (PORT)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}

	// Every socat ExecStart= of a oneshot unit runs: the second one is a
	// bind shell. ExecStart=+ runs as root whatever User= says, and
	// su=root drops nothing.
	unit = filepath.Join(dir, "two.service")
	content = "[Service]\nType=oneshot\nUser=nobody\n" +
		"ExecStart=/usr/bin/socat -d -d OPEN:/etc/hostname UNIX-CONNECT:/run/x.sock\n" +
		"ExecStart=+/usr/bin/socat -d -d -T 60 TCP-LISTEN:4444,bind=127.0.0.1,max-children=2,fork EXEC:/usr/bin/date\n" +
		"ExecStart=/usr/bin/socat -d -d -T 60 TCP-LISTEN:4445,bind=127.0.0.1,max-children=2,fork EXEC:/usr/bin/date\n"
	if err := os.WriteFile(unit, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--unit-file", unit)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL runs-as-root [two.service ExecStart #2]") ||
		!strings.Contains(r.out, "WARNING remote-exec [two.service ExecStart #2]") ||
		!strings.Contains(r.out, "WARNING remote-exec [two.service ExecStart #3]") || strings.Contains(r.out, "runs-as-root [two.service ExecStart #3]") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	for _, tc := range []struct {
		su   string
		root bool
	}{{"su=root", true}, {"setuid=0", true}, {"su=nobody", false}} {
		unit = filepath.Join(dir, "su.service")
		content = "[Service]\nExecStart=/usr/bin/socat -d -d -T 60 TCP-LISTEN:4445,bind=127.0.0.1,max-children=2,fork," + tc.su + " EXEC:/usr/bin/date\n"
		if err := os.WriteFile(unit, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		r = run(t, "--unit-file", unit)
		if got := strings.Contains(r.out, "runs-as-root [su.service]"); got != tc.root {
			t.Errorf("%s: runs-as-root %v, want %v:\n%s", tc.su, got, tc.root, r.out)
		}
	}

	// Socket activation: the port is in the .socket unit.
	sockDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(sockDir, "relay@.service"), []byte("[Service]\nExecStart=-/usr/bin/socat -d -d STDIO TCP:127.0.0.1:80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sockDir, "relay.socket"), []byte("[Socket]\nListenStream=8080\nAccept=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--unit-file", filepath.Join(sockDir, "relay@.service"))
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL plaintext-listener [relay@.service]: socket unit stream 8080 listens on all addresses without TLS") ||
		!strings.Contains(r.out, "WARNING runs-as-root [relay@.service]") || !strings.Contains(r.out, "note: connections come from relay.socket") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

// Run as nobody, as NRPE does: another user's instance is still found and
// audited from what is visible, and what is hidden is said.
func TestUnprivilegedView(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start socat as root and the check as nobody; CI runs as root")
	}
	mark := fmt.Sprintf("csunpriv%d", os.Getpid())
	port := freePort(t)
	testlab.Start(t, "-lp", mark, "-T", "9", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork,max-children=3", port), "EXEC:cat")
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	r := runAs(t, nobody, "--match", mark, "--expect-listen", fmt.Sprint(port), "-v")
	if r.code != 2 {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	for _, want := range []string{
		fmt.Sprintf("1 socat instance (:%d)", port),
		// EXEC:cat behind a loopback listener: local users reach a
		// program that is not a shell, and it runs as root.
		"WARNING remote-exec",
		"CRITICAL runs-as-root",
		fmt.Sprintf("listens 127.0.0.1:%d (inferred)", port),
		"its open files are not visible to this user, so its sockets are inferred from the socket table and its files are not checked (run as root to see them)",
		// The open files of another user's process cannot be counted:
		// left out of the perfdata (never "U") and said.
		"fds not visible to this user (left out of the perfdata)",
		fmt.Sprintf("i%d_rss=", port),
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, fmt.Sprintf("i%d_fds", port)) || strings.Contains(r.out, "=U") {
		t.Errorf("an unknown value reached the perfdata:\n%s", r.out)
	}
	if strings.Contains(r.out, "no socat instance listens") || strings.Contains(r.out, "file-missing") {
		t.Errorf("hidden facts were taken for problems:\n%s", r.out)
	}
}

// A unit file nobody may read: exit 3 naming it, as NRPE would see it.
func TestUnreadableUnitFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file nobody cannot read; CI runs as root")
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	unit := filepath.Join(dir, "secret.service")
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/usr/bin/socat - -\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, "--unit-file", unit)
	if r.code != 3 || r.out != "UNKNOWN: cannot read --unit-file "+unit+": permission denied\n" {
		t.Errorf("exit %d: %q", r.code, r.out)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	s := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1", "STDIO")
	p := s.Port
	s.Stop()
	return p
}

// A wildcard listener is only safe to start inside a network namespace
// the test creates: there it listens on 0.0.0.0 and takes a connection
// from a non-loopback address, and the check run outside sees both.
func TestWildcardListenerInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for ip netns; CI runs as root")
	}
	testlab.Need(t, "ip", "socat")
	ns := fmt.Sprintf("csp%d", os.Getpid())
	testlab.MustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	testlab.MustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	// A documentation address (TEST-NET-1) on the namespace's own loopback
	// device: non-loopback as an address, reachable only inside.
	testlab.MustRun(t, "ip", "-n", ns, "addr", "add", "192.0.2.1/32", "dev", "lo")

	mark := fmt.Sprintf("csnetns%d", os.Getpid())
	server := testlab.StartInNetns(t, ns, "socat", "-lp", mark, "-d", "-d", "TCP-LISTEN:9999,fork", "EXEC:cat")
	// A client inside the namespace, from 192.0.2.1 to 192.0.2.1: a
	// non-loopback peer that never leaves the namespace. The server may not
	// listen yet: the client retries until it does.
	testlab.StartInNetns(t, ns, "socat", "-u", "EXEC:sleep 60", "TCP:192.0.2.1:9999,bind=192.0.2.1,retry=200,interval=0.05")
	var r result
	testlab.Eventually(t, 5*time.Second, "the peer to connect", func() bool {
		r = run(t, "--match", mark, "--allow-peer", "10.0.0.0/8", "--ignore", "remote-exec", "--ignore", "runs-as-root", "--ignore", "file-missing")
		return strings.Contains(r.out, "peers 192.0.2.1:")
	})
	for _, want := range []string{
		"CRITICAL plaintext-listener [pid " + fmt.Sprint(server) + " :9999]: TCP-LISTEN:9999 listens on all addresses without TLS",
		"WARNING no-access-control",
		"listens 0.0.0.0:9999",
		"has a connection from 192.0.2.1, outside every --allow-peer",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
	if r.code != 2 {
		t.Errorf("exit %d", r.code)
	}
}

// Every flag given a bad value: exit 3, one UNKNOWN line naming it.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notSocat := filepath.Join(dir, "nc.service")
	if err := os.WriteFile(notSocat, []byte("[Service]\nExecStart=/bin/nc -l 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noExec := filepath.Join(dir, "empty.service")
	if err := os.WriteFile(noExec, []byte("[Unit]\nDescription=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--match", "("}, "--match"},
		{[]string{"--exclude", "[z-a]"}, "--exclude"},
		{[]string{"--user"}, "--user"},
		{[]string{"--user", "no-such-user-xq"}, "--user"},
		{[]string{"--ignore", "no-retry@port:70000"}, "--ignore"},
		{[]string{"-w", "x"}, "--warning"},
		{[]string{"-c", "5:1"}, "--critical"},
		{[]string{"--expect-listen", "http"}, "--expect-listen"},
		{[]string{"--expect-listen", "70000"}, "--expect-listen"},
		{[]string{"--expect-listen", "host:80"}, "--expect-listen"},
		{[]string{"--allowed-ports", "443,abc"}, "--allowed-ports"},
		{[]string{"--allowed-ports", "10-5"}, "--allowed-ports"},
		{[]string{"--allow-peer", "10.0.0.0/33"}, "--allow-peer"},
		{[]string{"--allow-peer", "everyone"}, "--allow-peer"},
		{[]string{"--warning-children", "many"}, "--warning-children"},
		{[]string{"--critical-children", "1.2.3"}, "--critical-children"},
		{[]string{"--min-uptime", "soon"}, "--min-uptime"},
		{[]string{"--ignore", "made-up"}, "--ignore"},
		{[]string{"--ignore", "remote-exec@here"}, "--ignore"},
		{[]string{"--cmdline", "nc -l -p 80"}, "--cmdline"},
		{[]string{"--cmdline", "  "}, "--cmdline"},
		{[]string{"--cmdline", "socat - -", "--unit-file", notSocat}, "--cmdline and --unit-file"},
		{[]string{"--cmdline", ""}, "--cmdline: is empty"},
		{[]string{"--unit-file="}, "--unit-file: is empty"},
		{[]string{"--cmdline", "socat - -", "--expect-listen", "80", "-c", "1:"}, "--cmdline reviews a configuration, -w/-c, --expect-listen audit running processes"},
		{[]string{"--unit-file", notSocat, "--min-uptime", "1h"}, "--unit-file reviews a configuration, --min-uptime audit"},
		{[]string{"--unit-file", filepath.Join(dir, "missing.service")}, "--unit-file"},
		{[]string{"--unit-file", dir}, "--unit-file"},
		{[]string{"--unit-file", notSocat}, "--unit-file"},
		{[]string{"--unit-file", noExec}, "--unit-file"},
		{[]string{"--timeout-state", "later"}, "--timeout-state"},
		{[]string{"-t", "0"}, "--timeout"},
		{[]string{"--max-output", "1"}, "--max-output"},
		{[]string{"stray"}, "stray"},
		{[]string{"--sample-traffic", "0"}, "--sample-traffic"},
		{[]string{"--sample-traffic", "-2s"}, "--sample-traffic"},
		{[]string{"--sample-traffic", "500ms"}, "--sample-traffic 500ms: give a duration from 1s to 60s"},
		{[]string{"--sample-traffic", "61s", "-t", "90"}, "--sample-traffic 1m1s: give a duration from 1s to 60s"},
		{[]string{"--sample-traffic", "10s"}, "--sample-traffic 10s does not fit in -t 10s: give -t at least 11s"},
		{[]string{"--sample-traffic", "2s", "--cmdline", "socat - -"}, "--cmdline reviews a configuration, --sample-traffic audit running processes"},
		{[]string{"--sample-traffic"}, "--sample-traffic"},
	}
	for _, tt := range tests {
		r := run(t, tt.args...)
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if r.code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], "UNKNOWN: ") || !strings.Contains(lines[0], tt.flag) {
			t.Errorf("%v: exit %d, output:\n%s\nwant exit 3 and one UNKNOWN line naming %s", tt.args, r.code, r.out, tt.flag)
		}
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

// 200 audits at once (as a busy Nagios would), as an unprivileged user:
// every one sees the instance and its finding.
func TestConcurrentRuns(t *testing.T) {
	mark := fmt.Sprintf("csconc%d", os.Getpid())
	testlab.Start(t, "-lp", mark, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "SYSTEM:sh -c cat")
	runs := testlab.Concurrently(t, 200, testlab.Nobody(), binary, "--match", mark, "-t", "10")
	testlab.ExpectAll(t, runs, 2, "1 socat instance", "CRITICAL remote-exec")
}

// A low open-file limit is exit 3 in words, never the Go runtime's exit
// 2 (gopsutil's package initialisation opened files before main).
func TestRuntimeFaults(t *testing.T) {
	testlab.LowFDLimits(t, binary)
}

// The flags parse as kong parsed them (the binaries used kong until
// start-up time had it replaced): every flag in every form, and the
// mistakes both refuse.
func TestFlagsAgreeWithKong(t *testing.T) {
	newCmd := func() any { return &cli{} }
	vars := program.Options.Vars()
	flagstest.Agree(t, newCmd, vars, flagstest.CommandLines(t, newCmd, vars, flagstest.Samples{"timeout-state": "warning", "max-output": "4096", "warning": "-5:-1", "critical": "@1:", "warning-children": "10", "critical-children": "20", "cmdline": "socat TCP-LISTEN:80 TCP:db:80", "unit-file": "/x.service", "min-uptime": "1m", "timeout": "2.5"}))
}

// Issue 13: a root socat started from a renamed copy (cp socat relayd)
// was dropped without a word when the check ran as nobody (its
// /proc/PID/exe is not readable then): "OK: 0 socat instances". Its
// command line, which every user may read, tells it is socat; the
// output says it was recognised that way.
func TestRenamedSocatSeenByNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start socat as root and the check as nobody; CI runs as root")
	}
	testlab.Need(t, "socat")
	real, err := exec.LookPath("socat")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	relayd := filepath.Join(dir, "relayd")
	if err := os.WriteFile(relayd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	mark := fmt.Sprintf("csrenamed%d", os.Getpid())
	port := freePort(t)
	testlab.StartBinary(t, relayd, nil, "-lp", mark, fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork", port), "EXEC:/bin/sh")
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	r := runAs(t, nobody, "--match", mark)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL remote-exec") || !strings.Contains(r.out, "(a shell)") ||
		!strings.Contains(r.out, "recognised by their command line only") {
		t.Errorf("as nobody: exit %d:\n%s", r.code, r.out)
	}
	// As root the executable itself identifies it, and nothing is said.
	r = runAs(t, nil, "--match", mark)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL remote-exec") || strings.Contains(r.out, "recognised by their command line only") {
		t.Errorf("as root: exit %d:\n%s", r.code, r.out)
	}
}

// no-restart: a unit running a long-lived socat without Restart= stays
// down after a crash; a oneshot, a socket-activated unit or Restart=
// are fine.
func TestNoRestart(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		unit string
		want bool
	}{
		{"[Service]\nExecStart=/usr/bin/socat -d -d TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=2 TCP:127.0.0.1:80\n", true},
		{"[Service]\nExecStart=/usr/bin/socat -d -d TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=2 TCP:127.0.0.1:80\nRestart=no\n", true},
		{"[Service]\nExecStart=/usr/bin/socat -d -d UNIX-CONNECT:/run/a.sock TCP:127.0.0.1:80,forever\n", true},
		{"[Service]\nExecStart=/usr/bin/socat -d -d TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=2 TCP:127.0.0.1:80\nRestart=on-failure\n", false},
		{"[Service]\nType=oneshot\nExecStart=/usr/bin/socat -u OPEN:/etc/hostname TCP:127.0.0.1:80\n", false},
		{"[Service]\nExecStart=/usr/bin/socat -d -d STDIO TCP:127.0.0.1:80\n", false},
	} {
		path := filepath.Join(dir, "relay.service")
		if err := os.WriteFile(path, []byte(tt.unit), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, "--unit-file", path)
		if got := strings.Contains(r.out, "WARNING no-restart [relay.service]"); got != tt.want || r.code > 2 {
			t.Errorf("%q: exit %d, no-restart %v, want %v:\n%s", tt.unit, r.code, got, tt.want, r.out)
		}
	}
}

// privileged-binary: a set-uid or set-gid copy of socat, or one with
// capabilities beyond cap_net_bind_service, is a root shell for any local
// user: found on the PATH, in a unit and behind a running instance.
func TestPrivilegedBinary(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a set-uid root copy; CI runs as root")
	}
	testlab.Need(t, "socat")
	real, _ := exec.LookPath("socat")
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	copyAs := func(name string, mode os.FileMode) string {
		sub := filepath.Join(dir, name)
		_ = os.Mkdir(sub, 0o755)
		p := filepath.Join(sub, "socat")
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// On the PATH, running or not.
	pathDir := filepath.Join(dir, "bin")
	_ = os.Mkdir(pathDir, 0o755)
	if err := os.WriteFile(filepath.Join(pathDir, "socat"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(filepath.Join(pathDir, "socat"), 0o2755|os.ModeSetgid)
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Env: []string{"PATH=" + pathDir + ":/usr/bin:/bin"}}, "--match", "nothing-runs-with-this")
	if r.Code != 2 || !strings.Contains(r.Out, "CRITICAL privileged-binary [socat on the PATH]") || !strings.Contains(r.Out, "set-gid") {
		t.Errorf("set-gid socat on the PATH: exit %d:\n%s", r.Code, r.Out)
	}
	// A unit's socat, and a running instance's.
	suid := copyAs("suid", 0o755|os.ModeSetuid)
	unit := filepath.Join(dir, "relay.service")
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart="+suid+" -d -d TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=2 TCP:127.0.0.1:80\nRestart=always\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "--unit-file", unit); r.code != 2 || !strings.Contains(r.out, "CRITICAL privileged-binary [relay.service]") || !strings.Contains(r.out, "set-uid (root)") {
		t.Errorf("unit: exit %d:\n%s", r.code, r.out)
	}
	mark := fmt.Sprintf("cspriv%d", os.Getpid())
	port := freePort(t)
	testlab.StartBinary(t, suid, nil, "-lp", mark, fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork,max-children=2", port), "EXEC:cat")
	if r := run(t, "--match", mark); r.code != 2 || !strings.Contains(r.out, "CRITICAL privileged-binary") || !strings.Contains(r.out, suid) {
		t.Errorf("running instance: exit %d:\n%s", r.code, r.out)
	}
	// Capabilities: cap_net_bind_service alone is fine, cap_sys_admin is not.
	capped := copyAs("caps", 0o755)
	setCaps := func(bits uint32) bool {
		v := make([]byte, 20)
		le.LittleEndian.PutUint32(v[0:], 0x02000000|1) // VFS_CAP_REVISION_2, effective
		le.LittleEndian.PutUint32(v[4:], bits)
		return syscall.Setxattr(capped, "security.capability", v, 0) == nil
	}
	if !setCaps(1 << 10) {
		t.Skip("this file system takes no file capabilities")
	}
	_ = os.WriteFile(unit, []byte("[Service]\nExecStart="+capped+" -d -d TCP-LISTEN:8080,bind=127.0.0.1,fork,max-children=2 TCP:127.0.0.1:80\nRestart=always\n"), 0o644)
	if r := run(t, "--unit-file", unit); strings.Contains(r.out, "privileged-binary") {
		t.Errorf("cap_net_bind_service alone:\n%s", r.out)
	}
	setCaps(1<<10 | 1<<21)
	if r := run(t, "--unit-file", unit); !strings.Contains(r.out, "CRITICAL privileged-binary") || !strings.Contains(r.out, "cap_sys_admin") {
		t.Errorf("cap_sys_admin:\n%s", r.out)
	}
}

// file-writable end to end: a unit whose certificate belongs to nobody,
// whose EXEC program sits in a directory everyone may write, and which
// itself lies in such a directory, runs code and trust of other users.
func TestFileWritable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to nobody; CI runs as root")
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	ca := testlab.NewOpenSSLCA(t)
	cert := ca.Issue(t, testlab.Leaf{CN: "relay"})
	certCopy := filepath.Join(dir, "relay.pem")
	data, _ := os.ReadFile(cert)
	if err := os.WriteFile(certCopy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(certCopy, 65534, 65534)
	open := filepath.Join(dir, "open")
	_ = os.Mkdir(open, 0o755)
	_ = os.Chmod(open, 0o777)
	prog := filepath.Join(open, "handler")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(open, "relay.service")
	body := "[Service]\nUser=root\nRestart=always\nExecStart=/usr/bin/socat -d -d -T 30 OPENSSL-LISTEN:8443,bind=127.0.0.1,fork,max-children=2,cert=" +
		certCopy + ",cafile=" + ca.Cert + " EXEC:" + prog + "\n"
	if err := os.WriteFile(unit, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "--unit-file", unit)
	for _, want := range []string{
		"CRITICAL file-writable [relay.service]: cert " + certCopy + " can be changed by another user: the file " + certCopy + " belongs to nobody",
		"CRITICAL file-writable [relay.service]: program " + prog + " can be changed by another user: the directory " + open + " is writable by everyone (mode 0777)",
		"CRITICAL file-writable [relay.service]: the unit file " + unit + " can be changed by another user",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
	// Fixed: root's files in root's directories.
	_ = os.Chown(certCopy, 0, 0)
	_ = os.Chmod(open, 0o755)
	if r := run(t, "--unit-file", unit); strings.Contains(r.out, "file-writable") {
		t.Errorf("after the fix:\n%s", r.out)
	}
	// A unit file its own service user may change: that user could make
	// itself root (User=root, ExecStart=+...).
	_ = os.WriteFile(unit, []byte(strings.Replace(body, "User=root", "User=nobody", 1)), 0o644)
	_ = os.Chown(unit, 65534, 65534)
	if r := run(t, "--unit-file", unit); !strings.Contains(r.out, "the unit file "+unit+" can be changed by another user: the file "+unit+" belongs to nobody") {
		t.Errorf("a unit file owned by its User=:\n%s", r.out)
	}
}

// sudo-socat end to end: a sudoers drop-in the test writes (and
// removes) lets a user run socat with any arguments (CRITICAL) and
// another pinned to fixed ones (WARNING); as nobody, who cannot read
// sudoers, it is said that it was not checked.
func TestSudoSocat(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to write sudoers; CI runs as root")
	}
	rules := "# check_socat test, removed after the test\n" +
		"alice ALL = (root) NOPASSWD: /usr/bin/socat\n" +
		"bob ALL = (root) /usr/bin/socat -d -d TCP-LISTEN\\:8080\\,bind=127.0.0.1 TCP\\:127.0.0.1\\:80\n"
	path := "/etc/sudoers"
	if _, err := os.Stat(path); err == nil {
		// sudo is installed: a drop-in, which Debian's sudoers includes.
		path = fmt.Sprintf("/etc/sudoers.d/check-socat-test-%d", os.Getpid())
	}
	if err := os.WriteFile(path, []byte(rules), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	r := run(t, "--match", "nothing-runs-with-this")
	for _, want := range []string{
		"CRITICAL sudo-socat [sudoers " + path + ":2]: alice may run /usr/bin/socat as root with any arguments",
		"WARNING sudo-socat [sudoers " + path + ":3]: bob may run /usr/bin/socat as root, pinned to",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("no %q in:\n%s", want, r.out)
		}
	}
	if filepath.Dir(path) == "/etc" {
		r = runAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, "--match", "nothing-runs-with-this")
		if strings.Contains(r.out, "sudo-socat [") || !strings.Contains(r.out, "/etc/sudoers is not readable by this user: sudo-socat was not checked") {
			t.Errorf("as nobody:\n%s", r.out)
		}
	}
}

// A unit whose files nobody may look at: the files are not checked, and
// the output says so instead of passing in silence.
func TestUnitFilesNobodyCannotSee(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files nobody cannot see; CI runs as root")
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	_ = os.Chmod(filepath.Dir(dir), 0o755) // the test's own temporary root
	secret := filepath.Join(dir, "secret")
	_ = os.Mkdir(secret, 0o700)
	cert := filepath.Join(secret, "relay.pem")
	_ = os.WriteFile(cert, []byte("x"), 0o600)
	unit := filepath.Join(dir, "relay.service")
	body := "[Service]\nRestart=always\nExecStart=/usr/bin/socat -d -d -T 3 OPENSSL-LISTEN:8443,bind=127.0.0.1,fork,max-children=2,cert=" + cert + ",cafile=" + cert + " TCP:127.0.0.1:80,retry=3\n"
	if err := os.WriteFile(unit, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, "--unit-file", unit)
	if !strings.Contains(r.out, "note: 2 file(s) the unit names are not visible to this user and were not checked (cert "+cert) || strings.Contains(r.out, "file-missing") {
		t.Errorf("as nobody:\n%s", r.out)
	}
}

// file-writable in a live audit: a running instance's EXEC program sits
// in a directory everyone may write; the file is looked at as the
// process sees it (/proc/PID/root).
func TestFileWritableLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root; CI runs as root")
	}
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	open := filepath.Join(dir, "open")
	_ = os.Mkdir(open, 0o755)
	_ = os.Chmod(open, 0o777)
	prog := filepath.Join(open, "handler")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexec cat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mark := fmt.Sprintf("cswritable%d", os.Getpid())
	port := freePort(t)
	testlab.Start(t, "-lp", mark, "-T", "9", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork,max-children=2", port), "EXEC:"+prog)
	r := run(t, "--match", mark)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL file-writable") || !strings.Contains(r.out, "the directory "+open+" is writable by everyone") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

// The manual page lists every finding of the catalogue (from the rule
// table, so it cannot drift), the performance data and examples, and
// groff reads it without a warning.
func TestManPageFindings(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--man-page"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	page := out.String()
	for _, r := range procs.Rules {
		if !strings.Contains(page, ".TP\n\\fB"+strings.ReplaceAll(r.ID, "-", "\\-")+" ("+r.State.String()+")\\fR") {
			t.Errorf("no finding %s in the manual page", r.ID)
		}
	}
	for _, sec := range []string{".SH FINDINGS", ".SH PERFORMANCE DATA", ".SH EXAMPLES", "i<PORT>_children"} {
		if !strings.Contains(page, sec) {
			t.Errorf("no %q in the manual page", sec)
		}
	}
	testlab.Need(t, "groff")
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("groff: %v\n%s", err, msg)
	}
}

// --discover (issue 15): the five instances of the discovery lab as
// configuration, in the three formats; what cannot become a service is
// said. The engines load these in make integration.
func TestDiscover(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it moves an instance into a systemd unit's cgroup")
	}
	dir := t.TempDir()
	// Open to other users (the monitoring user's endpoint check would
	// else be refused the UNIX socket, and discovery says so).
	_ = os.Chmod(dir, 0o755)
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	lab := testlab.StartDiscoLab(t, dir)
	r := run(t, "--discover", "json", "--match", "discolab")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.out)
	}
	var got struct {
		Host      string
		Instances []struct {
			Key, Proto, Address, Path, Listen, Log, Unit, User string
			CertFile                                           string `json:"cert_file"`
			Port                                               int
			TLS                                                bool
		}
		Logs []struct {
			Key, File   string
			JournalUnit string `json:"journal_unit"`
		}
		ExpectListen []string `json:"expect_listen"`
		Notes        []string
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	byKey := map[string]int{}
	for i, in := range got.Instances {
		byKey[in.Key] = i
	}
	want := []struct {
		key, proto, address, log string
		tls                      bool
	}{
		{fmt.Sprintf("tcp-%d", lab.Relay.Port), "tcp", "127.0.0.1", "relay.log", false},
		{fmt.Sprintf("tcp-%d", lab.TLS.Port), "tcp", "127.0.0.1", "tls.log", true},
		{fmt.Sprintf("udp-%d", lab.UDP.Port), "udp", "127.0.0.1", "", false},
		{fmt.Sprintf("tcp-%d", lab.Unit.Port), "tcp", "127.0.0.1", lab.UnitName, false},
		{"unix-" + strings.ReplaceAll(strings.Trim(lab.UnixPath, "/"), "/", "-"), "unix", "", "relay.log", false},
	}
	if len(got.Instances) != len(want) {
		t.Errorf("%d listeners discovered, want %d:\n%s", len(got.Instances), len(want), r.out)
	}
	for _, w := range want {
		i, ok := byKey[w.key]
		if !ok {
			t.Errorf("no listener %s:\n%s", w.key, r.out)
			continue
		}
		in := got.Instances[i]
		if in.Proto != w.proto || in.Address != w.address || in.TLS != w.tls || !strings.HasSuffix(in.Log, w.log) || in.User != "root" {
			t.Errorf("%s: %+v, want %+v", w.key, in, w)
		}
	}
	if in := got.Instances[byKey[fmt.Sprintf("tcp-%d", lab.TLS.Port)]]; in.CertFile != lab.Cert {
		t.Errorf("TLS relay's certificate %q, want %q", in.CertFile, lab.Cert)
	}
	if lab.UnitName != "" {
		if in := got.Instances[byKey[fmt.Sprintf("tcp-%d", lab.Unit.Port)]]; in.Unit != lab.UnitName {
			t.Errorf("unit %q, want %q", in.Unit, lab.UnitName)
		}
	}
	// One log source per file: the relay and the UNIX relay share one.
	wantLogs := map[string]string{"relay.log": lab.RelayLog, "tls.log": lab.TLSLog}
	if lab.UnitName != "" {
		wantLogs[lab.UnitName] = "journal"
	}
	if len(got.Logs) != len(wantLogs) {
		t.Errorf("log sources %+v, want %v", got.Logs, wantLogs)
	}
	for _, l := range got.Logs {
		switch {
		case l.File != "" && wantLogs[filepath.Base(l.File)] == l.File:
		case l.JournalUnit != "" && wantLogs[l.JournalUnit] == "journal":
		default:
			t.Errorf("unexpected log source %+v", l)
		}
	}
	if strings.Join(got.ExpectListen, " ") == "" || len(got.ExpectListen) != 4 {
		t.Errorf("expect_listen %v, want the four TCP/UDP listeners", got.ExpectListen)
	}
	if !strings.Contains(strings.Join(got.Notes, "\n"), fmt.Sprintf("listens on UDP 127.0.0.1:%d: no endpoint service", lab.UDP.Port)) {
		t.Errorf("the UDP listener's note is missing: %v", got.Notes)
	}

	// Icinga 2: a host template; Nagios: service definitions for the
	// shipped commands. (Both are loaded by the engines in make integration.)
	r = run(t, "--discover", "icinga2", "--match", "discolab")
	host, _ := os.Hostname()
	for _, w := range []string{"template Host \"socat-" + host + "\" {", "vars.socat_discovered = true",
		fmt.Sprintf("vars.socat_instances[\"tcp-%d\"] = {", lab.TLS.Port), "tls = true", "cert_file = \"" + lab.Cert + "\"",
		"vars.socat_logs[\"" + strings.ReplaceAll(strings.Trim(lab.RelayLog, "/"), "/", "-") + "\"] = {"} {
		if r.code != 0 || !strings.Contains(r.out, w) {
			t.Errorf("--discover icinga2: exit %d, no %q:\n%s", r.code, w, r.out)
		}
	}
	r = run(t, "--discover", "nagios", "--match", "discolab")
	for _, w := range []string{"check_command           check_socat_procs!--expect-listen 127.0.0.1:",
		fmt.Sprintf("check_socat_endpoint_tls!%d!-H 127.0.0.1 --insecure", lab.TLS.Port),
		fmt.Sprintf("check_socat_tls_cert_only!%d!-H 127.0.0.1", lab.TLS.Port),
		"check_socat_endpoint_unix!" + lab.UnixPath + "!", "check_socat_logs!" + lab.RelayLog + "!"} {
		if r.code != 0 || !strings.Contains(r.out, w) {
			t.Errorf("--discover nagios: exit %d, no %q:\n%s", r.code, w, r.out)
		}
	}
	if strings.Count(r.out, "check_socat_logs!"+lab.RelayLog) != 1 {
		t.Errorf("the shared log file has more than one service:\n%s", r.out)
	}
}

// What a probe would harm or that would refuse it gets no probe, the
// TLS checks get the certificate's name, the logs the probes' address to
// ignore, and listeners sharing a port have keys of their own (from an
// independent review of the first version).
func TestDiscoverProbesAndKeys(t *testing.T) {
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	port := strconv.Itoa(freePort(t))
	ca := testlab.NewOpenSSLCA(t)
	leaf := ca.Issue(t, testlab.Leaf{CN: "relay.example.com", SAN: "DNS:relay.example.com"})
	nofork := testlab.Start(t, "-lp", "discox-nofork", "TCP-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,reuseaddr", "PIPE")
	tls := testlab.StartLogFile(t, filepath.Join(dir, "tls.log"), "-lp", "discox-tls", "OPENSSL-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,fork,reuseaddr,cert="+leaf+",cafile="+ca.Cert, "PIPE")
	ranged := testlab.Start(t, "-lp", "discox-range", "TCP-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,fork,reuseaddr,range=10.0.0.0/8", "PIPE")
	// fork on the connecting address: the listener itself serves one
	// connection (the second review).
	connFork := testlab.Start(t, "-lp", "discox-connfork", "TCP-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,reuseaddr", "TCP:127.0.0.1:9,fork")
	lowport := testlab.Start(t, "-lp", "discox-lowport", "TCP-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,fork,reuseaddr,lowport", "PIPE")
	a := testlab.Start(t, "-lp", "discox-a", "TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr", "PIPE")
	testlab.Start(t, "-lp", "discox-b", "TCP-LISTEN:"+port+",bind=127.0.0.2,fork,reuseaddr", "PIPE")
	r := run(t, "--discover", "json", "--match", "discox", "--discover-host", "relay01.example.com")
	var got struct {
		Host      string
		Instances []struct {
			Key        string
			TLS        bool
			TLSName    string `json:"tls_name"`
			ClientAuth bool   `json:"client_auth"`
			Probe      bool
			Port       int
		}
		Logs []struct {
			File       string
			IgnorePeer []string `json:"ignore_peer"`
		}
		Notes []string
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s", r.code, err, r.out)
	}
	probe := map[int]bool{}
	keys := map[string]bool{}
	for _, in := range got.Instances {
		probe[in.Port] = in.Probe
		keys[in.Key] = true
		if in.Port == tls.Port && (!in.TLS || in.TLSName != "relay.example.com" || !in.ClientAuth) {
			t.Errorf("the TLS listener: %+v", in)
		}
	}
	if got.Host != "relay01.example.com" || probe[nofork.Port] || probe[ranged.Port] || probe[connFork.Port] || probe[lowport.Port] || !probe[tls.Port] || !probe[a.Port] ||
		!keys["tcp-127.0.0.1-"+port] || !keys["tcp-127.0.0.2-"+port] || len(got.Instances) != 7 {
		t.Errorf("probes %v, keys %v:\n%s", probe, keys, r.out)
	}
	if len(got.Logs) != 1 || strings.Join(got.Logs[0].IgnorePeer, " ") != "127.0.0.1" {
		t.Errorf("logs %+v", got.Logs)
	}
	notes := strings.Join(got.Notes, "\n")
	for _, w := range []string{fmt.Sprintf("the instance on :%d does not fork", nofork.Port), fmt.Sprintf("the instance on :%d admits only some peers", ranged.Port)} {
		if !strings.Contains(notes, w) {
			t.Errorf("no note %q in\n%s", w, notes)
		}
	}
	// Nagios: no endpoint for the listener that requires client
	// certificates, the certificate's name for the TLS checks, the
	// probes' address ignored by the logs check.
	r = run(t, "--discover", "nagios", "--match", "discox", "--discover-host", "relay01.example.com")
	for _, w := range []string{fmt.Sprintf("check_socat_tls_cert_only!%d!-H 127.0.0.1 --hostname relay.example.com", tls.Port),
		"check_socat_logs!" + filepath.Join(dir, "tls.log") + "!--ignore-peer 127.0.0.1", "host_name               relay01.example.com"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("no %q in\n%s", w, r.out)
		}
	}
	if strings.Contains(r.out, fmt.Sprintf("check_socat_endpoint_tls!%d!", tls.Port)) || strings.Contains(r.out, fmt.Sprintf("!%d!", nofork.Port)) {
		t.Errorf("a probe of a listener it would fail or harm:\n%s", r.out)
	}
}

// Instances in a mount namespace of their own (PrivateTmp=, a
// container): a log path shadowed there is not the host's and gets no
// service; one that is the same file (ProtectSystem= leaves /var/log as
// it is) does.
func TestDiscoverMountNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare -m")
	}
	testlab.Need(t, "unshare", "socat")
	dir := t.TempDir()
	private := filepath.Join(dir, "private")
	if err := os.Mkdir(private, 0o755); err != nil {
		t.Fatal(err)
	}
	start := func(tag, log string) int {
		port := freePort(t)
		cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
			"mount -t tmpfs none "+private+" && exec socat -d -d -lf "+log+" -lp "+tag+" TCP-LISTEN:"+strconv.Itoa(port)+",bind=127.0.0.1,fork,reuseaddr PIPE")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return port
	}
	shadowed := start("discomnt-a", filepath.Join(private, "a.log"))
	start("discomnt-b", filepath.Join(dir, "b.log"))
	var r result
	testlab.Eventually(t, 10*time.Second, "both instances to listen", func() bool {
		r = run(t, "--discover", "json", "--match", "discomnt")
		return strings.Count(r.out, `"proto":`) == 2
	})
	if !strings.Contains(r.out, fmt.Sprintf("the instance on :%d logs to %s in a mount namespace of its own", shadowed, filepath.Join(private, "a.log"))) ||
		!strings.Contains(r.out, `"file": "`+filepath.Join(dir, "b.log")+`"`) || strings.Contains(r.out, `"file": "`+filepath.Join(private, "a.log")) {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

func TestDiscoverBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--discover", "yaml"}, `UNKNOWN: --discover "yaml": give icinga2, nagios or json`},
		{[]string{"--discover", "json", "-c", "1:"}, "UNKNOWN: --discover prints the running instances as configuration; -w/-c judge or review instead: drop them"},
		{[]string{"--discover", "nagios", "--cmdline", "socat - -"}, "--cmdline"},
		{[]string{"--discover", "icinga2", "--output", "json"}, "--output and --textfile are for results"},
		{[]string{"--discover", "json", "--discover-host", "a b"}, `--discover-host "a b" cannot name a host object`},
		{[]string{"--discover-host", "x"}, "--discover-host names the host of --discover's output: give --discover too"},
		{[]string{"--discover="}, "--discover: is empty"},
	} {
		r := run(t, c.args...)
		if r.code != 3 || !strings.Contains(r.out, c.want) || strings.Count(strings.TrimSpace(r.out), "\n") > 0 && !strings.HasPrefix(r.out, "{") {
			t.Errorf("%v: exit %d\n%s\nwant %q", c.args, r.code, r.out, c.want)
		}
	}
}

// Through sudo (the README's recipe) the flags that read or write a file
// the caller names are refused: root's view of the processes, not root's
// reading of any file.
func TestSudoRefusesFileFlags(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it runs the check as root with sudo's SUDO_UID")
	}
	for _, args := range [][]string{{"--unit-file", "/etc/shadow"}, {"--cmdline", "socat - OPEN:/etc/shadow"}, {"--textfile", "/etc/x.prom"}} {
		r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Env: []string{"SUDO_UID=102", "SUDO_USER=nagios"}}, args...)
		if r.Code != 3 || !strings.Contains(r.Out, args[0]+" is refused through sudo") {
			t.Errorf("%v through sudo: exit %d\n%s", args, r.Code, r.Out)
		}
	}
	// Root itself (SUDO_UID=0), and an administrator's root shell (sudo -i:
	// SUDO_COMMAND is the shell), are not held back.
	for _, env := range [][]string{{"SUDO_UID=0"}, {"SUDO_UID=1000", "SUDO_COMMAND=/bin/bash"}} {
		r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Env: env}, "--cmdline", "socat - -")
		if r.Code == 3 {
			t.Errorf("%v: exit 3\n%s", env, r.Out)
		}
	}
	// The caller's own socat: its command line could name any file, which
	// root would then look at for the caller; not through sudo.
	nobody := testlab.Nobody()
	own := exec.Command("socat", "-lp", "sudo-callers-own", "TCP-LISTEN:"+strconv.Itoa(freePort(t))+",bind=127.0.0.1,fork", "EXEC:/root/.not-yours/prog")
	own.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Process.Kill(); _ = own.Wait() })
	testlab.Eventually(t, 10*time.Second, "the caller's socat", func() bool {
		r := testlab.RunPlugin(t, binary, testlab.PluginOptions{}, "--match", "sudo-callers-own")
		return strings.Contains(r.Out, "1 socat instance")
	})
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Env: []string{fmt.Sprintf("SUDO_UID=%d", nobody.Uid)}}, "--match", "sudo-callers-own")
	if !strings.Contains(r.Out, "is the sudo caller's own: its files are not checked through sudo") {
		t.Errorf("the caller's own instance through sudo: exit %d\n%s", r.Code, r.Out)
	}
	r = testlab.RunPlugin(t, binary, testlab.PluginOptions{Env: []string{"SUDO_UID=102", "SUDO_COMMAND=" + binary + " --unit-file /etc/shadow"}}, "--unit-file", "/etc/shadow")
	if r.Code != 3 || !strings.Contains(r.Out, "--unit-file is refused through sudo") {
		t.Errorf("sudo with the plugin as the command: exit %d\n%s", r.Code, r.Out)
	}
}

//go:build integration

// Package integration runs the packaged plugins inside the real engines:
// the .deb from `make package` installed with dpkg, its Nagios command
// definitions in Nagios 4, its CheckCommands in Icinga 2, its NRPE
// commands in nrpe and check_nrpe, against a socat lab on loopback. It
// needs root (dpkg, the engines drop to the nagios user) and changes the
// machine: `make integration` runs it, CI runs it on a fresh machine.
package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

const plugins = "/usr/lib/nagios/plugins"

var installOnce sync.Once

// install puts the newest .deb of dist/ on the machine, once.
func install(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the integration tests install a package and run the engines: run them as root (make integration)")
	}
	var err error
	installOnce.Do(func() {
		debs, _ := filepath.Glob("../dist/check-socat_*.deb")
		if len(debs) == 0 {
			err = fmt.Errorf("no package in dist/: run make package")
			return
		}
		newest := debs[0]
		for _, d := range debs {
			a, _ := os.Stat(d)
			b, _ := os.Stat(newest)
			if a.ModTime().After(b.ModTime()) {
				newest = d
			}
		}
		if out, e := exec.Command("dpkg", "-i", newest).CombinedOutput(); e != nil {
			err = fmt.Errorf("dpkg -i %s: %v\n%s", newest, e, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The installed package and its binaries say the VERSION file's version
// (issue 15: it was 0.0.0), the binaries once, with their commit.
func TestVersion(t *testing.T) {
	install(t)
	raw, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(raw))
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "check-socat").Output()
	if err != nil || !strings.HasPrefix(string(out), want+"-") {
		t.Errorf("package version %q (%v), want %s-<release>", out, err, want)
	}
	for _, b := range []string{"check_socat_endpoint", "check_socat_tls", "check_socat_procs", "check_socat_logs"} {
		v, _ := exec.Command(plugins+"/"+b, "--version").Output()
		if !strings.HasPrefix(string(v), b+" "+want+" (") || strings.Count(string(v), want) != 1 {
			t.Errorf("%s --version: %q, want %s %s (commit, go version)", b, v, b, want)
		}
	}
}

// The .deb is clean of lintian errors (issue 15): a Debian changelog,
// the upstream one compressed, the static binaries declared as such.
func TestLintian(t *testing.T) {
	install(t)
	testlab.Need(t, "lintian")
	debs, _ := filepath.Glob("../dist/check-socat_*.deb")
	if len(debs) != 1 {
		t.Fatalf("want one package in dist/, have %v", debs)
	}
	out, err := exec.Command("lintian", "--fail-on", "error", debs[0]).CombinedOutput()
	if err != nil || strings.Contains(string(out), "\nE: ") || strings.HasPrefix(string(out), "E: ") {
		t.Errorf("lintian %s: %v\n%s", debs[0], err, out)
	}
}

// nagiosUser is the uid/gid the engines run checks as.
func nagiosUser(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("nagios")
	if err != nil {
		t.Fatalf("no nagios user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// openDir is a directory the nagios user can read (and, for owned,
// write): t.TempDir is private to root.
func openDir(t *testing.T, owned bool) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "check-socat-integration")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if owned {
		uid, gid := nagiosUser(t)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// lab is the socat lab the services check.
type lab struct {
	relay, dead, tls, risky, logged int
	ca, certOnly, log               string
}

const listen = "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr"

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func connectAndClose(t *testing.T, port int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Read(make([]byte, 1))
	c.Close()
}

// startLab starts a healthy relay, a relay whose backend is down, a TLS
// relay, a risky listener (a shell behind a socket) and a relay logging
// to logPath with two failed connections in its log.
func startLab(t *testing.T, logPath string) lab {
	t.Helper()
	dir := openDir(t, false)
	echo := testlab.Start(t, listen, "EXEC:cat")
	relay := testlab.Start(t, "-lp", "socat-integration-relay", listen, "TCP:"+echo.Addr())
	// The dead backend is a UNIX socket that never exists: a closed TCP
	// port could be taken by another process during the run (it was,
	// once, under load), and the failures the logs count would stop.
	deadBackend := "UNIX-CONNECT:" + filepath.Join(t.TempDir(), "no-backend.sock")
	dead := testlab.Start(t, "-lp", "socat-integration-dead", listen, deadBackend)
	ca := testlab.NewOpenSSLCA(t)
	leaf := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	tls := testlab.Start(t, "-lp", "socat-integration-tls", "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+leaf, "TCP:"+echo.Addr())
	risky := testlab.Start(t, "-lp", "socat-integration-risky", listen, "SYSTEM:sh -c cat")
	logged := testlab.StartLogFile(t, logPath, "-lp", "socat-integration-logged", listen, deadBackend)
	for range 2 {
		connectAndClose(t, logged.Port)
	}
	rx := regexp.MustCompile(`E connect\(`)
	testlab.Eventually(t, 10*time.Second, "two failed connects in the log", func() bool { return testlab.CountLines(logPath, rx) >= 2 })
	_ = os.Chmod(logPath, 0o644)

	l := lab{relay: relay.Port, dead: dead.Port, tls: tls.Port, risky: risky.Port, logged: logged.Port, log: logPath,
		ca: filepath.Join(dir, "ca.pem"), certOnly: filepath.Join(dir, "cert.pem")}
	copyFile(t, ca.Cert, l.ca)
	// The leaf without its key: what a monitoring user may read.
	pem, _ := os.ReadFile(leaf)
	cert := pem[:bytes.Index(pem, []byte("-----END CERTIFICATE-----"))+len("-----END CERTIFICATE-----\n")]
	if err := os.WriteFile(l.certOnly, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// expectation is one service: how each engine calls it, and what must
// come back.
type expectation struct {
	name   string
	nagios string            // check_command
	icinga string            // CheckCommand
	vars   map[string]string // Icinga 2 custom variables (values as Icinga 2 syntax)
	state  string
	perf   string // a perfdata item that must arrive, e.g. backend_failure=2
	output string // Icinga 2 only: words the output must hold
}

func expectations(l lab) []expectation {
	q := strconv.Quote
	return []expectation{
		{name: "relay-ok", nagios: fmt.Sprintf("check_socat_endpoint!%d!-s ping -e ping", l.relay),
			icinga: "socat_endpoint", vars: map[string]string{"socat_endpoint_port": strconv.Itoa(l.relay), "socat_endpoint_send": q("ping"), "socat_endpoint_expect": "[ " + q("ping") + " ]"},
			state: "OK", perf: "time="},
		// --settle 500ms: the engines start every check at once, the TLS
		// full audit among them, and on two loaded CPUs socat's fork
		// child once took longer than the default 50 ms to find its
		// backend dead and close (a false OK; noted on issue 17).
		{name: "relay-dead-backend", nagios: fmt.Sprintf("check_socat_endpoint!%d!--settle 500ms", l.dead),
			icinga: "socat_endpoint", vars: map[string]string{"socat_endpoint_port": strconv.Itoa(l.dead), "socat_endpoint_settle": q("500ms")},
			state: "CRITICAL", perf: "connect_time="},
		{name: "tls-relay", nagios: fmt.Sprintf("check_socat_endpoint_tls!%d!--ca-file %s -s hello -e hello", l.tls, l.ca),
			icinga: "socat_endpoint", vars: map[string]string{"socat_endpoint_port": strconv.Itoa(l.tls), "socat_endpoint_tls": "true", "socat_endpoint_ca_file": q(l.ca),
				"socat_endpoint_send": q("hello"), "socat_endpoint_expect": "[ " + q("hello") + " ]"},
			state: "OK", perf: "tls_time="},
		{name: "tls-cert-only", nagios: fmt.Sprintf("check_socat_tls_cert_only!%d!--ca-file %s", l.tls, l.ca),
			icinga: "socat_tls_cert", vars: map[string]string{"socat_tls_port": strconv.Itoa(l.tls), "socat_tls_ca_file": q(l.ca)},
			// Icinga 2 keeps cert_age's thresholds (plain numbers), where
			// days_left's N: ranges become none (issue 15): asserted below.
			state: "OK", perf: "cert_age="},
		{name: "tls-full-audit", nagios: fmt.Sprintf("check_socat_tls!%d!--ca-file %s", l.tls, l.ca),
			icinga: "socat_tls", vars: map[string]string{"socat_tls_port": strconv.Itoa(l.tls), "socat_tls_ca_file": q(l.ca)},
			state: "OK", perf: "protocols_weak=0"},
		{name: "tls-cert-file", nagios: fmt.Sprintf("check_socat_tls_file!%s!--ca-file %s --hostname localhost", l.certOnly, l.ca),
			// File mode needs nothing but the file: the command leaves out
			// the host's address when a file is set (issue 15).
			icinga: "socat_tls", vars: map[string]string{"socat_tls_cert_file": q(l.certOnly), "socat_tls_ca_file": q(l.ca), "socat_tls_hostname": q("localhost")},
			state: "OK", perf: "chain_length=1"},
		{name: "procs-risky", nagios: "check_socat_procs!--match socat-integration-risky",
			icinga: "socat_procs", vars: map[string]string{"socat_procs_match": q("socat-integration-risky"), "socat_verbose": "2"},
			state: "CRITICAL", perf: "findings_critical="},
		{name: "logs", nagios: fmt.Sprintf("check_socat_logs!%s!--no-state", l.log),
			icinga: "socat_logs", vars: map[string]string{"socat_logs_file": "[ " + q(l.log) + " ]", "socat_logs_no_state": "true", "socat_verbose": "true"},
			state: "WARNING", perf: "backend_failure=2"},
	}
}

// start runs a daemon in its own process group, stopped by PID (group
// and all) when the test ends, also when it fails.
func start(t *testing.T, out string, name string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		f.Close()
	})
	return cmd
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}

// TestNagios4 runs every service in Nagios 4 with the packaged command
// definitions, and reads the results from status.dat.
func TestNagios4(t *testing.T) {
	install(t)
	testlab.Need(t, "nagios4")
	logDir := openDir(t, false)
	l := startLab(t, filepath.Join(logDir, "socat.log"))
	dir := openDir(t, true)
	var objects strings.Builder
	objects.WriteString(nagiosBase("lab", "127.0.0.1"))
	exps := expectations(l)
	for _, e := range exps {
		fmt.Fprintf(&objects, `define service {
    use                     generic-service
    host_name               lab
    service_description     %s
    check_command           %s
}
`, e.name, e.nagios)
	}
	startNagios(t, dir, 1, map[string]string{"objects.cfg": objects.String()})

	var status map[string]map[string]string
	testlab.Eventually(t, 90*time.Second, "Nagios to check every service", func() bool {
		status = readStatus(filepath.Join(dir, "status.dat"))
		for _, e := range exps {
			if status[e.name]["has_been_checked"] != "1" {
				return false
			}
		}
		return true
	})
	states := map[string]string{"0": "OK", "1": "WARNING", "2": "CRITICAL", "3": "UNKNOWN"}
	for _, e := range exps {
		s := status[e.name]
		got := states[s["current_state"]]
		if got != e.state || !strings.Contains(s["performance_data"], e.perf) {
			t.Errorf("%s: %s %q | %q\n%s\nwant %s with %s", e.name, got, s["plugin_output"], s["performance_data"],
				s["long_plugin_output"], e.state, e.perf)
		}
	}
	if t.Failed() {
		t.Logf("nagios.log:\n%s", tail(filepath.Join(dir, "nagios.log")))
	}
}

// nagiosBase are the objects every Nagios test needs: a 24x7 period, a
// command that does nothing, a contact nobody notifies, the host, and the
// generic-service template services use (as Nagios' own sample has it).
func nagiosBase(host, address string) string {
	return strings.NewReplacer("HOST", host, "ADDRESS", address).Replace(`define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define command {
    command_name    nothing
    command_line    /bin/true
}
define contact {
    contact_name                    nobody
    service_notification_period     24x7
    host_notification_period        24x7
    service_notification_options    n
    host_notification_options       n
    service_notification_commands   nothing
    host_notification_commands      nothing
}
define host {
    host_name               HOST
    address                 ADDRESS
    check_command           nothing
    max_check_attempts      1
    check_period            24x7
    notification_period     24x7
    contacts                nobody
}
define service {
    name                    generic-service
    register                0
    max_check_attempts      1
    check_interval          60
    retry_interval          60
    check_period            24x7
    notification_period     24x7
    contacts                nobody
}
`)
}

// startNagios writes nagios.cfg in dir (owned by nagios) for the
// packaged commands and the object files given (name: content), checks
// it with nagios4 -v and runs Nagios until the test ends. intervalLength
// is Nagios' time unit in seconds (60 by default; 1 makes a test fast).
func startNagios(t *testing.T, dir string, intervalLength int, objects map[string]string) {
	t.Helper()
	uid, gid := nagiosUser(t)
	cfgFiles := "cfg_file=/etc/nagios-plugins/config/check_socat.cfg\n"
	names := make([]string, 0, len(objects))
	for name := range objects {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		write(t, filepath.Join(dir, name), objects[name])
		cfgFiles += "cfg_file=" + filepath.Join(dir, name) + "\n"
	}
	write(t, filepath.Join(dir, "resource.cfg"), "$USER1$="+plugins+"\n")
	if err := os.Mkdir(filepath.Join(dir, "checkresults"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "nagios.cfg")
	write(t, cfg, strings.NewReplacer("DIR", dir, "CFGFILES", cfgFiles, "INTERVAL", strconv.Itoa(intervalLength)).Replace(`log_file=DIR/nagios.log
CFGFILESresource_file=DIR/resource.cfg
object_cache_file=DIR/objects.cache
precached_object_file=DIR/objects.precache
status_file=DIR/status.dat
status_update_interval=1
temp_file=DIR/nagios.tmp
temp_path=DIR
lock_file=DIR/nagios.lock
check_result_path=DIR/checkresults
check_result_reaper_frequency=1
state_retention_file=DIR/retention.dat
retain_state_information=0
use_retained_scheduling_info=0
nagios_user=nagios
nagios_group=nagios
check_external_commands=0
enable_notifications=0
execute_service_checks=1
interval_length=INTERVAL
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
service_check_timeout=60
log_initial_states=1
`))
	testlab.MustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), dir)
	if out, err := exec.Command("nagios4", "-v", cfg).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v: %v\n%s", err, out)
	}
	start(t, filepath.Join(dir, "stdout.log"), "nagios4", cfg)
}

// readStatus parses the servicestatus blocks of Nagios' status.dat.
func readStatus(path string) map[string]map[string]string {
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur map[string]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "servicestatus {":
			cur = map[string]string{}
		case line == "}" && cur != nil:
			out[cur["service_description"]] = cur
			cur = nil
		case cur != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				cur[k] = v
			}
		}
	}
	return out
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIcinga2 validates the packaged CheckCommands with icinga2 daemon -C,
// runs every service in Icinga 2, and reads state and perfdata from its
// PerfdataWriter.
func TestIcinga2(t *testing.T) {
	install(t)
	testlab.Need(t, "icinga2")
	logDir := openDir(t, false)
	l := startLab(t, filepath.Join(logDir, "socat.log"))
	dir := openDir(t, true)
	uid, gid := nagiosUser(t)
	for _, sub := range []string{"cache", "lib", "log", "run", "spool"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(p, uid, gid)
	}
	var conf strings.Builder
	conf.WriteString(`const PluginDir = "` + plugins + `"
const PluginContribDir = "` + plugins + `"
const ManubulonPluginDir = "` + plugins + `"
const NodeName = "localhost"
const ZoneName = "localhost"
include <itl>
include <plugins>
include <plugins-contrib>

object CheckerComponent "checker" { }

object PerfdataWriter "perfdata" {
	service_perfdata_path = "DIR/spool/service-perfdata"
	service_temp_path = "DIR/spool/service-perfdata.tmp"
	host_perfdata_path = "DIR/spool/host-perfdata"
	host_temp_path = "DIR/spool/host-perfdata.tmp"
	service_format_template = "SERVICEDESC::$service.name$\tSERVICESTATE::$service.state$\tSERVICEPERFDATA::$service.perfdata$\tSERVICEOUTPUT::$service.output$"
	rotation_interval = 1s
}

object Host "lab" {
	address = "127.0.0.1"
	address6 = "::1"
	check_command = "dummy"
}
`)
	exps := expectations(l)
	// Issue 15: a dual-stack host checked over IPv6 (the switch chooses
	// the host's address6, as the ITL's tcp does), and a check whose own
	// deadline comes first says its stage instead of Icinga's "<Timeout
	// exceeded.>".
	v6 := testlab.Start(t, "TCP6-LISTEN:0,bind=[::1],fork,reuseaddr", "EXEC:cat")
	silent := testlab.Start(t, listen, "EXEC:sleep 60")
	q := strconv.Quote
	exps = append(exps,
		expectation{name: "relay-ipv6", icinga: "socat_endpoint", vars: map[string]string{"socat_endpoint_port": strconv.Itoa(v6.Port),
			"socat_endpoint_use_ipv6": "true", "socat_endpoint_send": q("six"), "socat_endpoint_expect": "[ " + q("six") + " ]"},
			state: "OK", perf: "time=", output: "tcp://[::1]:"},
		expectation{name: "relay-own-timeout", icinga: "socat_endpoint", vars: map[string]string{"socat_endpoint_port": strconv.Itoa(silent.Port),
			"socat_endpoint_send": q("ping"), "socat_endpoint_expect": "[ " + q("pong") + " ]", "socat_endpoint_timeout": q("2s")},
			state: "CRITICAL", perf: "connect_time=", output: "timed out at first byte"},
	)
	for _, e := range exps {
		// Icinga 2 spreads first checks over the interval: a short one.
		fmt.Fprintf(&conf, "\nobject Service %q {\n\thost_name = \"lab\"\n\tcheck_command = %q\n\tcheck_interval = 5s\n\tretry_interval = 5s\n\tmax_check_attempts = 1\n", e.name, e.icinga)
		for k, v := range e.vars {
			fmt.Fprintf(&conf, "\tvars.%s = %s\n", k, v)
		}
		conf.WriteString("}\n")
	}
	cfg := filepath.Join(dir, "icinga2.conf")
	write(t, cfg, strings.ReplaceAll(conf.String(), "DIR", dir))
	defines := []string{"-DConfiguration.CacheDir=" + dir + "/cache", "-DConfiguration.DataDir=" + dir + "/lib",
		"-DConfiguration.LogDir=" + dir + "/log", "-DConfiguration.InitRunDir=" + dir + "/run", "-DConfiguration.SpoolDir=" + dir + "/spool"}
	if out, err := exec.Command("icinga2", append([]string{"daemon", "-C", "-c", cfg}, defines...)...).CombinedOutput(); err != nil {
		t.Fatalf("icinga2 daemon -C: %v\n%s", err, out)
	}
	// -x notice: Icinga logs each command line it runs.
	start(t, filepath.Join(dir, "stdout.log"), "icinga2", append([]string{"daemon", "-x", "notice", "-c", cfg}, defines...)...)

	results := map[string]map[string]string{}
	testlab.Eventually(t, 90*time.Second, "Icinga 2 to check every service", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "spool", "service-perfdata.[0-9]*"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(data), "\n") {
				fields := map[string]string{}
				for _, kv := range strings.Split(line, "\t") {
					if k, v, ok := strings.Cut(kv, "::"); ok {
						fields[k] = v
					}
				}
				if d := fields["SERVICEDESC"]; d != "" {
					results[d] = fields
				}
			}
		}
		for _, e := range exps {
			if results[e.name] == nil {
				return false
			}
		}
		return true
	})
	for _, e := range exps {
		r := results[e.name]
		// Icinga 2 parses the perfdata and writes it back without the
		// quotes around labels: the same items, in its notation.
		if r["SERVICESTATE"] != e.state || !strings.Contains(r["SERVICEPERFDATA"], strings.ReplaceAll(e.perf, "'", "")) ||
			!strings.Contains(r["SERVICEOUTPUT"], e.output) {
			t.Errorf("%s: %s %q | %q\nwant %s with %s and %q", e.name, r["SERVICESTATE"], r["SERVICEOUTPUT"], r["SERVICEPERFDATA"], e.state, e.perf, e.output)
		}
	}
	if p := results["tls-cert-only"]["SERVICEPERFDATA"]; !regexp.MustCompile(`cert_age=\d+s;\d+;\d+;0;\d+`).MatchString(p) {
		t.Errorf("Icinga 2 dropped cert_age's thresholds: %q", p)
	}
	// socat_verbose is a level (issue 15): 2 gives --verbose=2, and true,
	// from configurations written when it was a switch, still works.
	icingaLog, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
	for _, want := range []string{"'--verbose=2'", "'--verbose=true'", "'--timeout' '2s'"} {
		if !strings.Contains(string(icingaLog), want) {
			t.Errorf("Icinga 2 ran no command with %s", want)
		}
	}
	if t.Failed() {
		t.Logf("icinga2:\n%s", tail(filepath.Join(dir, "stdout.log")))
	}
}

// TestNRPE runs nrpe with the packaged commands (and the documented
// variant with arguments), and compares what check_nrpe brings back with
// the plugins run directly as the nagios user.
func TestNRPE(t *testing.T) {
	install(t)
	testlab.Need(t, "nrpe", plugins+"/check_nrpe")
	// The packaged check_socat_logs reads /var/log/socat.log.
	const packagedLog = "/var/log/socat.log"
	if _, err := os.Stat(packagedLog); err == nil {
		if err := os.Rename(packagedLog, packagedLog+".integration-backup"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Rename(packagedLog+".integration-backup", packagedLog) })
	} else {
		t.Cleanup(func() { os.Remove(packagedLog) })
	}
	old, _ := filepath.Glob("/var/tmp/check_socat/*-socat.log-*.json")
	for _, f := range old {
		os.Remove(f)
	}
	l := startLab(t, packagedLog)
	dir := openDir(t, true)
	port := freePort(t)
	cfg := filepath.Join(dir, "nrpe.cfg")
	write(t, cfg, fmt.Sprintf(`pid_file=%[1]s/nrpe.pid
server_address=127.0.0.1
server_port=%[2]d
nrpe_user=nagios
nrpe_group=nagios
allowed_hosts=127.0.0.1
dont_blame_nrpe=1
command_timeout=60
connection_timeout=300
disable_syslog=1
debug=1
log_file=%[1]s/nrpe.log
include=/etc/nagios/nrpe.d/check_socat.cfg
include=/usr/share/doc/check-socat/examples/nrpe-args.cfg
# The packaged logs command, uncommented as its comment says.
command[check_socat_logs]=/usr/lib/nagios/plugins/check_socat_logs -f %[3]s
`, dir, port, packagedLog))
	// Shipped commented out: most hosts have no /var/log/socat.log.
	if b, err := os.ReadFile("/etc/nagios/nrpe.d/check_socat.cfg"); err != nil || !strings.Contains(string(b), "\n#command[check_socat_logs]=") {
		t.Errorf("the packaged NRPE logs command is not shipped commented out: %v\n%s", err, b)
	}
	start(t, filepath.Join(dir, "stdout.log"), "nrpe", "-c", cfg, "-f")
	testlab.Eventually(t, 20*time.Second, "nrpe to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	nrpe := func(args ...string) (int, string) {
		cmd := exec.Command(plugins+"/check_nrpe", append([]string{"-H", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "60"}, args...)...)
		out, err := cmd.Output()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	direct := func(argv ...string) (int, string) { return runAs(t, true, argv...) }
	summary := verdictLine
	labels := func(out string) string {
		perf := strings.SplitN(strings.SplitN(out, "\n", 2)[0], " | ", 2)
		return fmt.Sprint(regexp.MustCompile(`(?:^| )[a-z0-9_]+=`).FindAllString(perf[len(perf)-1], -1))
	}

	// The packaged procs command: the whole host's socat, with findings
	// (long output), through NRPE as run directly.
	code, out := nrpe("-c", "check_socat_procs")
	dcode, dout := direct(plugins + "/check_socat_procs")
	if code != 2 || code != dcode || summary(out) != summary(dout) || labels(out) != labels(dout) ||
		strings.Count(out, "\n") < 3 || strings.Count(out, "\n") != strings.Count(dout, "\n") {
		t.Errorf("check_socat_procs through NRPE: exit %d\n%s\ndirectly: exit %d\n%s", code, out, dcode, dout)
	}

	// The packaged logs command: the first run records the position, the
	// next counts what came since.
	code, out = nrpe("-c", "check_socat_logs")
	if code != 0 || !strings.Contains(out, "first run") {
		t.Errorf("check_socat_logs, first run: exit %d\n%s", code, out)
	}
	for range 2 {
		connectAndClose(t, l.logged)
	}
	failed := regexp.MustCompile(`E connect\(`)
	testlab.Eventually(t, 10*time.Second, "two more failed connects", func() bool { return testlab.CountLines(packagedLog, failed) >= 4 })
	code, out = nrpe("-c", "check_socat_logs")
	if code != 1 || !strings.Contains(out, "backend_failure=2;") || !strings.HasPrefix(out, "WARNING: 2 backend failures, 2 errors in ") {
		t.Errorf("check_socat_logs, second run: exit %d\n%s", code, out)
	}

	// The variant with arguments needs an nrpe built with
	// --enable-command-args; Debian's is not, and says so.
	code, out = nrpe("-c", "check_socat_procs_args", "-a", "-c 1:")
	// What the operator sees is check_nrpe's line; nrpe's log says why.
	if code != 3 || !strings.HasPrefix(out, "CHECK_NRPE: Receive header underflow") ||
		!strings.Contains(tail(filepath.Join(dir, "nrpe.log")), "Request contained command arguments") {
		t.Errorf("Debian's nrpe took arguments (test the variant then): exit %d\n%s", code, out)
	}
	if t.Failed() {
		t.Logf("nrpe:\n%s", tail(filepath.Join(dir, "nrpe.log")))
	}
}

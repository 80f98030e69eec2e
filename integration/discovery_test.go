//go:build integration

package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

// runAs runs a command as root (uid nil) or as the nagios user, and
// returns its exit code and stdout.
func runAs(t *testing.T, nagios bool, argv ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if nagios {
		uid, gid := nagiosUser(t)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/tmp"}
	}
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return code, string(out)
}

// installSudoers puts the packaged sudoers example in /etc/sudoers.d for
// the test (as the README says to), checked by visudo, removed after.
func installSudoers(t *testing.T) {
	t.Helper()
	testlab.Need(t, "sudo", "visudo")
	const dst = "/etc/sudoers.d/zz-check-socat-integration"
	testlab.MustRun(t, "install", "-m", "0440", "/usr/share/doc/check-socat/examples/sudoers", dst)
	t.Cleanup(func() { os.Remove(dst) })
	testlab.MustRun(t, "visudo", "-cf", dst)
}

// findingLines are the finding lines of a procs run (its verdicts), the
// perfdata labels, and the first line's state word.
func verdicts(out string) (string, []string, string) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var fs []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "CRITICAL ") || strings.HasPrefix(l, "WARNING ") {
			fs = append(fs, l)
		}
	}
	perf := ""
	if _, p, ok := strings.Cut(lines[0], " | "); ok {
		perf = fmt.Sprint(regexp.MustCompile(`(?:^| )([a-z0-9_]+)=`).FindAllStringSubmatch(p, -1))
	}
	return strings.SplitN(lines[0], ":", 2)[0], fs, perf
}

// Issue 15 §2: run as nagios, procs does not see what root sees; through
// the packaged sudoers recipe it does: the same state, the same findings,
// the same perfdata.
func TestSudoRecipe(t *testing.T) {
	install(t)
	installSudoers(t)
	lab := testlab.StartDiscoLab(t, openDir(t, false))
	procs := plugins + "/check_socat_procs"
	args := []string{"--match", "discolab"}
	rootCode, rootOut := runAs(t, false, append([]string{procs}, args...)...)
	plainCode, plainOut := runAs(t, true, append([]string{procs}, args...)...)
	sudoCode, sudoOut := runAs(t, true, append([]string{"/usr/bin/sudo", "-n", procs}, args...)...)
	rs, rf, rp := verdicts(rootOut)
	ss, sf, sp := verdicts(sudoOut)
	if sudoCode != rootCode || ss != rs || strings.Join(sf, "\n") != strings.Join(rf, "\n") || sp != rp {
		t.Errorf("through sudo, nagios does not get root's verdicts:\nroot: exit %d\n%s\nsudo: exit %d\n%s", rootCode, rootOut, sudoCode, sudoOut)
	}
	// Without it, what is missing is said (and is why the recipe exists).
	if !strings.Contains(plainOut, "not visible to this user") || strings.Contains(rootOut, "not visible to this user") {
		t.Errorf("as nagios without sudo: exit %d\n%s", plainCode, plainOut)
	}
	// The TLS relay's certificate with its key (0600, root's): nagios
	// cannot audit the file; given to a group it is in (mode 0640, the
	// README's recipe), it gets root's verdict.
	tls := plugins + "/check_socat_tls"
	pem := filepath.Join(openDir(t, false), "relay.pem")
	copyFile(t, lab.Cert, pem)
	if err := os.Chmod(pem, 0o600); err != nil {
		t.Fatal(err)
	}
	fileArgs := []string{tls, "--cert-file", pem, "--ca-file", lab.CA, "--hostname", "localhost"}
	rootCode, rootOut = runAs(t, false, fileArgs...)
	code, out := runAs(t, true, fileArgs...)
	if code != 3 || rootCode == 3 || !strings.Contains(out, "permission denied") {
		t.Errorf("a 0600 key file as nagios: exit %d\n%s\nas root: exit %d\n%s", code, out, rootCode, rootOut)
	}
	_, gid := nagiosUser(t)
	if err := os.Chown(pem, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pem, 0o640); err != nil {
		t.Fatal(err)
	}
	rootCode, rootOut = runAs(t, false, fileArgs...)
	code, out = runAs(t, true, fileArgs...)
	if code != rootCode || verdictLine(out) != verdictLine(rootOut) {
		t.Errorf("the key file by group: nagios exit %d\n%s\nroot exit %d\n%s", code, out, rootCode, rootOut)
	}

	// Through sudo the flags that read a file the caller names are refused.
	code, out = runAs(t, true, "/usr/bin/sudo", "-n", procs, "--unit-file", "/etc/shadow")
	if code != 3 || !strings.Contains(out, "--unit-file is refused through sudo") {
		t.Errorf("--unit-file through sudo: exit %d\n%s", code, out)
	}
}

// Issue 15 §3: the discovery of the lab's five instances, as Nagios
// service definitions, loaded by nagios4 -v and run by Nagios with the
// packaged commands: each service with its expected state.
func TestDiscoveryNagios(t *testing.T) {
	install(t)
	testlab.Need(t, "nagios4")
	installSudoers(t)
	lab := testlab.StartDiscoLab(t, openDir(t, false))
	code, discovered := runAs(t, false, plugins+"/check_socat_procs", "--discover", "nagios", "--match", "discolab")
	if code != 0 {
		t.Fatalf("--discover nagios: exit %d\n%s", code, discovered)
	}
	host, _ := os.Hostname()
	dir := openDir(t, true)
	uid, gid := nagiosUser(t)
	// The host's address is one nothing answers on: every discovered
	// check names its own address (-H), the one the instance listens on.
	objects := strings.ReplaceAll(`define timeperiod {
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
    address                 192.0.2.1
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
define service {
    use                     generic-service
    host_name               HOST
    service_description     socat procs as root
    check_command           check_socat_procs_sudo!--match discolab
}
`, "HOST", host)
	write(t, filepath.Join(dir, "objects.cfg"), objects)
	write(t, filepath.Join(dir, "discovered.cfg"), discovered)
	write(t, filepath.Join(dir, "resource.cfg"), "$USER1$="+plugins+"\n")
	if err := os.Mkdir(filepath.Join(dir, "checkresults"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(filepath.Join(dir, "checkresults"), uid, gid)
	cfg := filepath.Join(dir, "nagios.cfg")
	write(t, cfg, strings.ReplaceAll(`log_file=DIR/nagios.log
cfg_file=/etc/nagios-plugins/config/check_socat.cfg
cfg_file=DIR/objects.cfg
cfg_file=DIR/discovered.cfg
resource_file=DIR/resource.cfg
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
interval_length=60
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
service_check_timeout=60
log_initial_states=1
`, "DIR", dir))
	for _, f := range []string{"objects.cfg", "discovered.cfg", "resource.cfg", "nagios.cfg"} {
		_ = os.Chown(filepath.Join(dir, f), uid, gid)
	}
	if out, err := exec.Command("nagios4", "-v", cfg).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v: %v\n%s\ndiscovered:\n%s", err, out, discovered)
	}
	start(t, filepath.Join(dir, "stdout.log"), "nagios4", cfg)

	key := func(proto string, port int) string { return fmt.Sprintf("%s-%d", proto, port) }
	unixKey := "unix-" + strings.ReplaceAll(strings.Trim(lab.UnixPath, "/"), "/", "-")
	relayLog := strings.ReplaceAll(strings.Trim(lab.RelayLog, "/"), "/", "-")
	tlsLog := strings.ReplaceAll(strings.Trim(lab.TLSLog, "/"), "/", "-")
	type want struct {
		states string // the states allowed, e.g. "OK"
		words  string // in the output
	}
	wants := map[string]want{
		// The whole host (the lab's echo backends are EXEC listeners):
		// CRITICAL for its findings, every discovered listener present.
		"socat procs": {"CRITICAL", "socat instances"},
		// Root's view through the sudoers recipe, run by Nagios as nagios.
		"socat procs as root":                          {"CRITICAL", "5 socat instances"},
		"socat endpoint " + key("tcp", lab.Relay.Port): {"OK", "tcp://127.0.0.1:"},
		"socat endpoint " + key("tcp", lab.TLS.Port):   {"OK", "tls"},
		"socat endpoint " + key("tcp", lab.Unit.Port):  {"OK", "tcp://127.0.0.1:"},
		"socat endpoint " + unixKey:                    {"OK", lab.UnixPath},
		// The lab's CA is not in the system's roots (the operator adds
		// --ca-file): the TLS checks say so.
		"socat tls cert " + key("tcp", lab.TLS.Port): {"CRITICAL", "unknown authority"},
		"socat tls " + key("tcp", lab.TLS.Port):      {"CRITICAL", "unknown authority"},
		"socat logs " + relayLog:                     {"OK", "first run"},
		"socat logs " + tlsLog:                       {"OK", "first run"},
	}
	if lab.UnitName != "" {
		// No journald here: the unit's journal is empty, and said so.
		wants["socat logs "+lab.UnitName] = want{"WARNING", "the journal has no record of journal unit " + lab.UnitName}
	}
	var status map[string]map[string]string
	testlab.Eventually(t, 120*time.Second, "Nagios to check every discovered service", func() bool {
		status = readStatus(filepath.Join(dir, "status.dat"))
		for name := range wants {
			if status[name]["has_been_checked"] != "1" {
				return false
			}
		}
		return true
	})
	if len(status) != len(wants) {
		t.Errorf("%d services, want %d:\n%s", len(status), len(wants), discovered)
	}
	states := map[string]string{"0": "OK", "1": "WARNING", "2": "CRITICAL", "3": "UNKNOWN"}
	for name, w := range wants {
		s := status[name]
		got := states[s["current_state"]]
		if !strings.Contains(" "+w.states+" ", " "+got+" ") || !strings.Contains(s["plugin_output"]+s["long_plugin_output"], w.words) {
			t.Errorf("%s: %s %q\n%s\nwant %s with %q", name, got, s["plugin_output"], s["long_plugin_output"], w.states, w.words)
		}
	}
	if out := status["socat procs"]["plugin_output"] + status["socat procs"]["long_plugin_output"]; strings.Contains(out, "no socat instance listens on") {
		t.Errorf("a discovered listener is missing:\n%s", out)
	}
	if t.Failed() {
		t.Logf("discovered:\n%s\nnagios.log:\n%s", discovered, tail(filepath.Join(dir, "nagios.log")))
	}
}

// verdictLine is a first line without its perfdata (times differ).
func verdictLine(out string) string {
	return strings.SplitN(strings.SplitN(out, "\n", 2)[0], " | ", 2)[0]
}

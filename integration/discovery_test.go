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
	// The host's address is one nothing answers on: every discovered
	// check names its own address (-H), the one the instance listens on.
	// Intervals in minutes, as the discovery writes them.
	startNagios(t, dir, 60, map[string]string{"discovered.cfg": discovered, "objects.cfg": nagiosBase(host, "192.0.2.1") + `define service {
    use                     generic-service
    host_name               ` + host + `
    service_description     socat procs as root
    check_command           check_socat_procs_sudo!--match discolab
}
`})

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
		"socat tls cert " + key("tcp", lab.TLS.Port): {"CRITICAL", "is neither served nor a trusted root"},
		"socat tls " + key("tcp", lab.TLS.Port):      {"CRITICAL", "is neither served nor a trusted root"},
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

//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

// Icinga 2's distributed model as its documentation gives it, on one
// machine (issue 15 §3, §4): a master and an agent in two network
// namespaces joined by a veth pair (TEST-NET-1 addresses), each with its
// own configuration, PKI and data directories; the agent's certificate
// signed with a ticket (icinga2 node setup, pki save-cert); the package
// installed once, both nodes using it (the CheckCommands from
// plugins-contrib on each, none in a global zone). The agent runs, in PID,
// mount and UTS namespaces of its own, the discovery lab's five
// instances; check_socat_procs --discover icinga2 there gives the host
// template the master loads with the shipped apply rules, and every
// resulting service runs on the agent (command_endpoint = host.name): the
// master's API returns each state, output and perfdata, with check_source
// the agent. A command the agent lacks shows what the operator sees.
func TestDistributed(t *testing.T) {
	install(t)
	testlab.Need(t, "icinga2", "ip", "unshare", "nsenter", "curl", "hostname")
	installSudoers(t)
	const (
		master, agent = "master.test", "agent.test"
		ipM, ipA      = "192.0.2.1", "192.0.2.2"
		apiPass       = "check-socat-test"
	)
	id := strconv.Itoa(os.Getpid() % 100000)
	nsM, nsA := "cs-m"+id, "cs-a"+id
	w := openDir(t, true)
	uid, gid := nagiosUser(t)
	pathEnv := "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	// The network: two namespaces and a veth pair between them.
	t.Cleanup(func() {
		for _, ns := range []string{nsA, nsM} {
			out, _ := exec.Command("ip", "netns", "pids", ns).Output()
			for _, p := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(p); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	for _, args := range [][]string{
		{"netns", "add", nsM}, {"netns", "add", nsA},
		{"link", "add", nsM, "type", "veth", "peer", "name", nsA},
		{"link", "set", nsM, "netns", nsM}, {"link", "set", nsA, "netns", nsA},
		{"-n", nsM, "addr", "add", ipM + "/24", "dev", nsM}, {"-n", nsA, "addr", "add", ipA + "/24", "dev", nsA},
		{"-n", nsM, "link", "set", "lo", "up"}, {"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsM, "link", "set", nsM, "up"}, {"-n", nsA, "link", "set", nsA, "up"},
	} {
		testlab.MustRun(t, append([]string{"ip"}, args...)...)
	}

	// Each node's directories, owned by nagios (icinga2 drops to it, the
	// CLI too), and a skeleton configuration for node setup to edit.
	defines := func(node string) []string {
		d := filepath.Join(w, node)
		return []string{"-DConfiguration.ConfigDir=" + d + "/etc", "-DConfiguration.DataDir=" + d + "/lib",
			"-DConfiguration.LogDir=" + d + "/log", "-DConfiguration.CacheDir=" + d + "/cache",
			"-DConfiguration.SpoolDir=" + d + "/spool", "-DConfiguration.InitRunDir=" + d + "/run",
			// Not derived from ConfigDir: without it the daemon reads
			// /etc/icinga2/zones.d and quietly loads none of ours.
			"-DConfiguration.ZonesDir=" + d + "/etc/zones.d"}
	}
	for _, node := range []string{"master", "agent"} {
		for _, sub := range []string{"etc/conf.d", "etc/zones.d", "etc/features-available", "etc/features-enabled", "lib/certs", "log", "cache", "spool", "run"} {
			if err := os.MkdirAll(filepath.Join(w, node, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		etc := filepath.Join(w, node, "etc")
		write(t, filepath.Join(etc, "icinga2.conf"), "include \"constants.conf\"\ninclude \"zones.conf\"\ninclude <itl>\ninclude <plugins>\ninclude <plugins-contrib>\ninclude \"features-enabled/*.conf\"\ninclude_recursive \"conf.d\"\n")
		write(t, filepath.Join(etc, "constants.conf"), "const PluginDir = \""+plugins+"\"\nconst ManubulonPluginDir = \""+plugins+"\"\nconst PluginContribDir = \""+plugins+"\"\nconst ZoneName = NodeName\nconst TicketSalt = \"\"\n")
		write(t, filepath.Join(etc, "zones.conf"), "")
		write(t, filepath.Join(etc, "features-available/api.conf"), "object ApiListener \"api\" { ticket_salt = TicketSalt }\n")
		write(t, filepath.Join(etc, "features-available/checker.conf"), "object CheckerComponent \"checker\" { }\n")
		write(t, filepath.Join(etc, "features-available/mainlog.conf"), "object FileLogger \"main-log\" { severity = \"notice\"; path = LogDir + \"/icinga2.log\" }\n")
		for _, f := range []string{"checker", "mainlog"} {
			if err := os.Symlink("../features-available/"+f+".conf", filepath.Join(etc, "features-enabled", f+".conf")); err != nil {
				t.Fatal(err)
			}
		}
		testlab.MustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), filepath.Join(w, node))
	}
	// icinga runs "icinga2 SUBCOMMAND <the node's directories> ARGS...",
	// in a network namespace when ns is given.
	icinga := func(ns, node, sub string, args ...string) string {
		t.Helper()
		argv := append(append(append([]string{"icinga2"}, strings.Fields(sub)...), defines(node)...), args...)
		if ns != "" {
			argv = append([]string{"ip", "netns", "exec", ns}, argv...)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = []string{pathEnv, "LANG=C.UTF-8"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
		return string(out)
	}

	// The agent's side first: the lab in PID, mount and UTS namespaces of
	// its own (so that procs sees this lab, not the machine's), named as
	// the agent, waiting to start the agent daemon.
	lab := filepath.Join(w, "lab")
	if err := os.Mkdir(lab, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := testlab.NewOpenSSLCA(t)
	leaf := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	copyFile(t, ca.Cert, filepath.Join(lab, "ca.pem"))
	copyFile(t, leaf, filepath.Join(lab, "relay.pem"))
	_ = os.Chmod(filepath.Join(lab, "relay.pem"), 0o600)
	unit := "agent-relay-" + id + ".service"
	cgroup, err := testlab.UnitCgroup(t, unit)
	if err != nil {
		t.Logf("no systemd cgroup for the unit instance (%v): it is discovered without a unit", err)
		unit = ""
	}
	pod := filepath.Join(w, "pod.sh")
	write(t, pod, `#!/bin/sh
# The agent host: its socat lab, then (once the test says go) its Icinga 2.
set -e
hostname `+agent+`
cd `+lab+`
socat TCP-LISTEN:7000,bind=127.0.0.1,fork,reuseaddr PIPE &
socat UDP-LISTEN:7010,bind=127.0.0.1,fork PIPE &
socat -d -d -lf relay.log -lp discolab-relay TCP-LISTEN:7001,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:7000 &
socat -d -d -lf relay.log -lp discolab-unix UNIX-LISTEN:`+lab+`/relay.sock,fork,mode=666 TCP:127.0.0.1:7000 &
socat -d -d -lf tls.log -lp discolab-tls OPENSSL-LISTEN:7002,bind=127.0.0.1,fork,reuseaddr,verify=0,cert=relay.pem TCP:127.0.0.1:7000 &
socat -lp discolab-udp UDP-LISTEN:7003,bind=127.0.0.1,fork UDP:127.0.0.1:7010 &
socat -d -d -lp discolab-unit TCP-LISTEN:7004,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:7000 &
while [ ! -e `+w+`/go ]; do sleep 0.1; done
chmod 644 relay.log tls.log
exec icinga2 daemon `+strings.Join(defines("agent"), " ")+` -c `+w+`/agent/etc/icinga2.conf -x notice
`)
	_ = os.Chmod(pod, 0o755)
	podCmd := start(t, filepath.Join(w, "agent.out"), "ip", "netns", "exec", nsA, "env", "-i", pathEnv, "LANG=C.UTF-8",
		"unshare", "--pid", "--fork", "--mount-proc", "--uts", pod)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent host:\n%s", tail(filepath.Join(w, "agent.out")))
		}
	})
	// The pod's first process (the agent host's PID 1) is unshare's child.
	var podPID int
	testlab.Eventually(t, 10*time.Second, "the agent's namespaces", func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", podCmd.Process.Pid, podCmd.Process.Pid))
		f := strings.Fields(string(data))
		if len(f) > 0 {
			podPID, _ = strconv.Atoi(f[0])
		}
		return podPID > 0
	})
	inPod := func(args ...string) (int, string) {
		return runAs(t, false, append([]string{"nsenter", "-t", strconv.Itoa(podPID), "-p", "-m", "-n", "-u"}, args...)...)
	}

	// Discovery on the agent, as an operator runs it there.
	// ip netns exec gives the pod a /sys of its own, without the cgroup
	// trees: the unit's instance is moved into its cgroup from here.
	if cgroup != "" {
		var pid int
		testlab.Eventually(t, 10*time.Second, "the unit instance to start", func() bool {
			pid = podProcess(t, podPID, "discolab-unit")
			return pid > 0
		})
		if err := os.WriteFile(filepath.Join(cgroup, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var discovered, last string
	t.Cleanup(func() {
		if t.Failed() && discovered == "" {
			t.Logf("last discovery:\n%s", last)
		}
	})
	testlab.Eventually(t, 15*time.Second, "the lab's five instances to listen", func() bool {
		code, out := inPod(plugins+"/check_socat_procs", "--discover", "json", "--match", "discolab")
		last = out
		return code == 0 && strings.Count(out, `"proto":`) == 5
	})
	code, discovered := inPod(plugins+"/check_socat_procs", "--discover", "icinga2", "--match", "discolab")
	if code != 0 || !strings.Contains(discovered, `template Host "socat-`+agent+`"`) {
		t.Fatalf("--discover icinga2 on the agent: exit %d\n%s", code, discovered)
	}

	// The master: node setup, the agent's Endpoint and Zone, its Host
	// importing the discovered template, the shipped apply rules, and a
	// command only the master has.
	icinga("", "master", "node setup", "--master", "--cn", master, "--zone", "master", "--listen", ipM+",5665", "--disable-confd")
	etcM := filepath.Join(w, "master", "etc")
	write(t, filepath.Join(etcM, "conf.d", "api-users.conf"), `object ApiUser "root" { password = "`+apiPass+`"; permissions = [ "*" ] }`+"\n")
	zones, _ := os.ReadFile(filepath.Join(etcM, "zones.conf"))
	write(t, filepath.Join(etcM, "zones.conf"), string(zones)+"\nobject Endpoint \""+agent+"\" { host = \""+ipA+"\" }\nobject Zone \""+agent+"\" { endpoints = [ \""+agent+"\" ]; parent = \"master\" }\n")
	zd := filepath.Join(etcM, "zones.d", "master")
	if err := os.MkdirAll(zd, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(zd, "socat-"+agent+".conf"), discovered)
	write(t, filepath.Join(zd, "socat-services.conf"), "include \"/usr/share/check-socat/icinga2/socat-services.conf\"\n")
	write(t, filepath.Join(zd, "hosts.conf"), `template Service "generic-service" {
	max_check_attempts = 1
	check_interval = 5s
	retry_interval = 5s
}
object Host "`+agent+`" {
	import "socat-`+agent+`"
	check_command = "cluster-zone"
	address = "`+ipA+`"
	vars.socat_sudo = true                        // root's view, through the sudoers recipe
	vars.socat_tls_ca_file = "`+lab+`/ca.pem"     // host variables reach its services
}
object CheckCommand "only_on_master" {
	command = [ PluginDir + "/check_dummy", "0", "ran where it should not" ]
}
apply Service "missing command" {
	import "generic-service"
	check_command = "only_on_master"
	command_endpoint = host.name
	assign where host.name == "`+agent+`"
}
`)
	testlab.MustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), filepath.Join(w, "master"))
	out := icinga("", "master", "daemon", "-C", "-c", filepath.Join(etcM, "icinga2.conf"))
	if !strings.Contains(out, "Service") {
		t.Fatalf("icinga2 daemon -C on the master loaded no services:\n%s", out)
	}
	// A host with the discovered template but no Endpoint of its name:
	// the configuration fails, naming it, instead of the checks running
	// on the master (README).
	orphan := filepath.Join(zd, "orphan.conf")
	write(t, orphan, `object Host "orphan.test" { import "socat-`+agent+`"; check_command = "dummy" }`+"\n")
	testlab.MustRun(t, "chown", fmt.Sprintf("%d:%d", uid, gid), orphan)
	cmd := exec.Command("icinga2", append(append([]string{"daemon"}, defines("master")...), "-C", "-c", filepath.Join(etcM, "icinga2.conf"))...)
	cmd.Env = []string{pathEnv}
	if msg, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(msg), "orphan.test") || !strings.Contains(string(msg), "Endpoint") {
		t.Errorf("a host without an Endpoint of its name: %v\n%s", err, msg)
	}
	if err := os.Remove(orphan); err != nil {
		t.Fatal(err)
	}
	start(t, filepath.Join(w, "master.out"), "ip", append([]string{"netns", "exec", nsM, "env", "-i", pathEnv, "LANG=C.UTF-8",
		"icinga2", "daemon", "-c", filepath.Join(etcM, "icinga2.conf"), "-x", "notice"}, defines("master")...)...)
	api := func(method, path, body string) (int, []byte) {
		args := []string{"netns", "exec", nsM, "curl", "-s", "-k", "-u", "root:" + apiPass, "-H", "Accept: application/json",
			"-o", "-", "-w", "\n%{http_code}", "-X", method, "https://" + ipM + ":5665" + path}
		if body != "" {
			args = append(args, "-d", body)
		}
		out, _ := exec.Command("ip", args...).Output()
		s := strings.TrimSpace(string(out))
		i := strings.LastIndexByte(s, '\n')
		if i < 0 {
			return 0, nil
		}
		code, _ := strconv.Atoi(s[i+1:])
		return code, []byte(s[:i])
	}
	testlab.Eventually(t, 30*time.Second, "the master's API", func() bool { c, _ := api("GET", "/v1/status", ""); return c == 200 })

	// The agent: its certificate signed with a ticket, then node setup.
	ticket := strings.TrimSpace(icinga("", "master", "pki ticket", "--cn", agent))
	trusted := filepath.Join(w, "agent", "lib", "certs", "trusted-parent.crt")
	icinga(nsA, "agent", "pki save-cert", "--host", ipM, "--port", "5665", "--trustedcert", trusted)
	icinga(nsA, "agent", "node setup", "--ticket", ticket, "--cn", agent, "--endpoint", master+","+ipM+",5665",
		"--zone", agent, "--parent_zone", "master", "--parent_host", ipM+",5665", "--trustedcert", trusted,
		"--listen", ipA+",5665", "--accept-config", "--accept-commands", "--disable-confd")
	testlab.MustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), filepath.Join(w, "agent"))
	icinga(nsA, "agent", "daemon", "-C", "-c", filepath.Join(w, "agent", "etc", "icinga2.conf"))
	write(t, filepath.Join(w, "go"), "")

	// What the master's API says of each service. The TLS services run
	// every 5 minutes and daily, and Icinga spreads first checks over the
	// interval: the test asks for each check at once (as an operator does
	// with "Check now"), again for one whose result does not come.
	type result struct {
		Name  string
		Attrs struct {
			LastCheckResult *struct {
				State       float64  `json:"state"`
				Output      string   `json:"output"`
				CheckSource string   `json:"check_source"`
				Perfdata    []string `json:"performance_data"`
				Command     []string `json:"command"`
			} `json:"last_check_result"`
		}
	}
	results := map[string]result{}
	key := func(proto string, port int) string { return fmt.Sprintf("%s-%d", proto, port) }
	relayLog := strings.ReplaceAll(strings.Trim(filepath.Join(lab, "relay.log"), "/"), "/", "-")
	tlsLog := strings.ReplaceAll(strings.Trim(filepath.Join(lab, "tls.log"), "/"), "/", "-")
	unixKey := "unix-" + strings.ReplaceAll(strings.Trim(filepath.Join(lab, "relay.sock"), "/"), "/", "-")
	type want struct {
		state int
		words string
		perf  string
	}
	wants := map[string]want{
		// The lab's relays run as root with verify=0: findings; every
		// discovered listener is there (the run is root's, through sudo).
		"socat procs":                        {2, "7 socat instances", "i7001_fds="},
		"socat endpoint " + key("tcp", 7001): {0, "tcp://127.0.0.1:7001", "connect_time="},
		"socat endpoint " + key("tcp", 7002): {0, "tls", "tls_time="},
		"socat endpoint " + key("tcp", 7004): {0, "tcp://127.0.0.1:7004", "connect_time="},
		"socat endpoint " + unixKey:          {0, "relay.sock", "connect_time="},
		"socat tls cert " + key("tcp", 7002): {0, "certificate localhost valid", "cert_age="},
		"socat tls " + key("tcp", 7002):      {0, "none weak", "ciphers_accepted="},
		// The first run records the position; later ones (every 5 s
		// here) count, the TLS audits' refused probes ignored by peer
		// (the discovery's ignore_peer).
		"socat logs " + relayLog: {0, filepath.Join(lab, "relay.log"), "lines="},
		"socat logs " + tlsLog:   {0, filepath.Join(lab, "tls.log"), "ignored="},
		"missing command":        {3, "Check command 'only_on_master' does not exist.", ""},
	}
	if unit != "" {
		// The unit's journal: there is no journald here, and it says so
		// on every run.
		wants["socat logs "+unit] = want{1, "the journal has no record of journal unit " + unit, "lines="}
	}
	asked := map[string]time.Time{}
	testlab.Eventually(t, 150*time.Second, "every service's result from the agent", func() bool {
		code, body := api("GET", "/v1/objects/services?attrs=last_check_result&filter=host.name==%22"+agent+"%22", "")
		if code != 200 {
			return false
		}
		var list struct{ Results []result }
		if err := json.Unmarshal(body, &list); err != nil {
			t.Logf("API: %v", err)
			return false
		}
		done := true
		for _, r := range list.Results {
			svc := strings.TrimPrefix(r.Name, agent+"!")
			lr := r.Attrs.LastCheckResult
			// A command the agent has not loaded yet says "does not exist"
			// too: only the missing command's may stay so.
			final := lr != nil && lr.CheckSource == agent && (svc == "missing command" || !strings.Contains(lr.Output, "does not exist"))
			if final {
				results[svc] = r
				continue
			}
			done = false
			if time.Since(asked[svc]) > 10*time.Second {
				asked[svc] = time.Now()
				api("POST", "/v1/actions/reschedule-check", fmt.Sprintf(`{"type":"Service","filter":"host.name==\"%s\" && service.name==\"%s\"","force":true}`, agent, svc))
			}
		}
		return done && len(list.Results) > 0
	})
	if len(results) != len(wants) {
		var names []string
		for n := range results {
			names = append(names, n)
		}
		t.Errorf("the master has %d services for the agent, want %d: %q", len(results), len(wants), names)
	}
	for name, w := range wants {
		r, ok := results[name]
		if !ok {
			t.Errorf("no service %q", name)
			continue
		}
		lr := r.Attrs.LastCheckResult
		if int(lr.State) != w.state || !strings.Contains(lr.Output, w.words) || lr.CheckSource != agent ||
			!strings.Contains(strings.Join(lr.Perfdata, " "), w.perf) {
			t.Errorf("%s: state %v from %s: %q | %v (%v)\nwant state %d with %q and %s from %s", name, lr.State, lr.CheckSource, lr.Output, lr.Perfdata, lr.Command,
				w.state, w.words, w.perf, agent)
		}
	}
	if r, ok := results["socat procs"]; ok {
		if c := r.Attrs.LastCheckResult.Command; len(c) < 3 || c[0] != "/usr/bin/sudo" {
			t.Errorf("procs did not run through sudo (host.vars.socat_sudo): %v", c)
		}
		if strings.Contains(r.Attrs.LastCheckResult.Output, "no socat instance listens") {
			t.Errorf("a discovered listener is missing:\n%s", r.Attrs.LastCheckResult.Output)
		}
	}
	if t.Failed() {
		t.Logf("discovered:\n%s\nmaster:\n%s\nagent:\n%s", discovered, tail(filepath.Join(w, "master.out")), tail(filepath.Join(w, "agent.out")))
	}
}

// podProcess is the host PID of the process in the PID namespace of pod
// whose command line holds word.
func podProcess(t *testing.T, pod int, word string) int {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pod))
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if l, _ := os.Readlink(d + "/ns/pid"); l != ns {
			continue
		}
		if cmd, _ := os.ReadFile(d + "/cmdline"); strings.Contains(string(cmd), word) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

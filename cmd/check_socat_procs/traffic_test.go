package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

// trafficLab is two network namespaces joined by a veth pair: "cli"
// (192.0.2.1, the clients and the backends: another host, as the relays
// see it) and "relay" (192.0.2.2, the socat relays under audit).
type trafficLab struct {
	cli, relay string
	dir        string
	mark       string // in every relay's command line, for --match
	pem        string // a certificate and key for the TLS ends
	legacy     string // OPENSSL_CONF=... allowing TLS 1.0
}

const (
	cliAddr   = "192.0.2.1" // TEST-NET-1: documentation addresses, inside the namespaces only
	relayAddr = "192.0.2.2"
)

func newTrafficLab(t *testing.T) *trafficLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for ip netns and packet capture; CI runs as root")
	}
	testlab.Need(t, "ip", "socat", "openssl")
	id := os.Getpid() % 100000
	lab := &trafficLab{cli: fmt.Sprintf("cstc%d", id), relay: fmt.Sprintf("cstr%d", id), dir: t.TempDir(), mark: fmt.Sprintf("cstraffic%d", id)}
	for _, ns := range []string{lab.cli, lab.relay} {
		testlab.MustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		testlab.MustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	testlab.MustRun(t, "ip", "-n", lab.cli, "link", "add", "vc", "type", "veth", "peer", "name", "vr", "netns", lab.relay)
	testlab.MustRun(t, "ip", "-n", lab.cli, "addr", "add", cliAddr+"/24", "dev", "vc")
	testlab.MustRun(t, "ip", "-n", lab.relay, "addr", "add", relayAddr+"/24", "dev", "vr")
	testlab.MustRun(t, "ip", "-n", lab.cli, "link", "set", "vc", "up")
	testlab.MustRun(t, "ip", "-n", lab.relay, "link", "set", "vr", "up")
	lab.pem = testlab.SelfSignedOpenSSL(t, "relay", "DNS:relay")
	lab.legacy = testlab.LegacyOpenSSLConf(t)
	return lab
}

// script writes a bash script into the lab's directory.
func (lab *trafficLab) script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(lab.dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs a program in a namespace (stopped by PID at the end) and
// returns its PID.
func (lab *trafficLab) start(t *testing.T, ns string, args ...string) int {
	t.Helper()
	return testlab.StartInNetns(t, ns, args...)
}

// relay starts a socat relay under audit in the relay namespace.
func (lab *trafficLab) relayProc(t *testing.T, env []string, addrs ...string) int {
	t.Helper()
	args := append([]string{"env"}, env...)
	args = append(args, "socat", "-lp", lab.mark, "-T", "5")
	return lab.start(t, lab.relay, append(args, addrs...)...)
}

// The secret a client sends in its Authorization header: never in our
// output.
const trafficSecret = "c2VjcmV0OnMzY3IzdA=="

// TestSampleTraffic: real socat relays in one namespace, clients and
// backends in the other, one sample of all of them; every verdict is
// checked, and compared connection by connection with tshark's
// dissectors on a pcap tcpdump wrote over the same interval.
func TestSampleTraffic(t *testing.T) {
	lab := newTrafficLab(t)
	testlab.Need(t, "tcpdump", "tshark")
	httpd := lab.script(t, "httpd", `read -r line; printf 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'`)
	sshd := lab.script(t, "sshd", `printf 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'; head -c 700 /dev/urandom; cat >/dev/null`)

	// Backends, on the other host.
	lab.start(t, lab.cli, "socat", "TCP-LISTEN:80,bind="+cliAddr+",fork,reuseaddr", "EXEC:"+httpd)
	lab.start(t, lab.cli, "socat", "TCP-LISTEN:81,bind="+cliAddr+",fork,reuseaddr", "EXEC:"+httpd)
	lab.start(t, lab.cli, "socat", "OPENSSL-LISTEN:9443,bind="+cliAddr+",fork,reuseaddr,cert="+lab.pem+",verify=0", "EXEC:"+httpd)
	lab.start(t, lab.cli, "socat", "TCP-LISTEN:22,bind="+cliAddr+",fork,reuseaddr", "EXEC:"+sshd)
	lab.start(t, lab.cli, "socat", "UDP4-LISTEN:53,bind="+cliAddr+",fork,reuseaddr", "EXEC:cat")
	lab.start(t, lab.cli, "socat", "TCP-LISTEN:9000,bind="+cliAddr+",fork,reuseaddr", "EXEC:"+httpd)
	// A backend on the relay's own loopback.
	lab.start(t, lab.relay, "socat", "TCP-LISTEN:6380,bind=127.0.0.1,fork,reuseaddr", "EXEC:"+httpd)

	tlsListen := func(port string, extra string) string {
		return "OPENSSL-LISTEN:" + port + ",bind=" + relayAddr + ",fork,reuseaddr,cert=" + lab.pem + ",verify=0" + extra
	}
	pids := map[string]int{
		"http":     lab.relayProc(t, nil, "TCP-LISTEN:8080,bind="+relayAddr+",fork,reuseaddr", "TCP:"+cliAddr+":80"),
		"tls":      lab.relayProc(t, nil, tlsListen("8443", ""), "OPENSSL:"+cliAddr+":9443,verify=0"),
		"tlsplain": lab.relayProc(t, nil, tlsListen("8444", ""), "TCP:"+cliAddr+":81"),
		"loopback": lab.relayProc(t, nil, tlsListen("8445", ""), "TCP:127.0.0.1:6380"),
		"ssh":      lab.relayProc(t, nil, "TCP-LISTEN:2222,bind="+relayAddr+",fork,reuseaddr", "TCP:"+cliAddr+":22"),
		"udp":      lab.relayProc(t, nil, "UDP4-LISTEN:5300,bind="+relayAddr+",fork,reuseaddr", "UDP4:"+cliAddr+":53"),
		"weak":     lab.relayProc(t, []string{lab.legacy}, tlsListen("8446", ",openssl-max-proto-version=TLS1.0"), "EXEC:cat"),
		// A wildcard listener whose backend has the same port: its back
		// leg is not taken for its front leg.
		"sameport": lab.relayProc(t, nil, "TCP-LISTEN:9000,fork,reuseaddr", "TCP:"+cliAddr+":9000"),
	}

	// Clients, each in a loop for the whole test (the pause paces the
	// traffic; nothing waits on it).
	request := `printf 'GET /private HTTP/1.1\r\nHost: backend\r\nAuthorization: Basic ` + trafficSecret + `\r\n\r\n'`
	loop := func(name, body string) {
		lab.start(t, lab.cli, lab.script(t, name, "while :; do "+body+" >/dev/null 2>&1; sleep 0.2; done"))
	}
	loop("c-http", request+" | socat -T 2 - TCP:"+relayAddr+":8080")
	loop("c-tls", request+" | socat -T 2 - OPENSSL:"+relayAddr+":8443,verify=0")
	loop("c-tlsplain", request+" | socat -T 2 - OPENSSL:"+relayAddr+":8444,verify=0")
	loop("c-loopback", request+" | socat -T 2 - OPENSSL:"+relayAddr+":8445,verify=0")
	loop("c-ssh", "{ printf 'SSH-2.0-OpenSSH_9.6\\r\\n'; head -c 600 /dev/urandom; } | socat -T 2 - TCP:"+relayAddr+":2222")
	loop("c-udp", `printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01' | socat -T 1 - UDP4:`+relayAddr+":5300")
	loop("c-sameport", request+" | socat -T 2 - TCP:"+relayAddr+":9000")
	loop("c-weak", "echo hello | env "+lab.legacy+" socat -T 2 - OPENSSL:"+relayAddr+":8446,verify=0,openssl-min-proto-version=TLS1.0")

	// The oracle records the same interval.
	pcap := filepath.Join(lab.dir, "sample.pcap")
	dump := exec.Command("ip", "netns", "exec", lab.relay, "tcpdump", "-i", "any", "-n", "-U", "--immediate-mode", "-B", "8192", "-s", "0", "-w", pcap, "tcp or udp")
	dumpErr, err := dump.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	stopDump := func() { _ = dump.Process.Signal(syscall.SIGINT); _ = dump.Wait() }
	defer stopDump()
	listening := make(chan bool, 1)
	dumpDone := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(dumpErr)
		var said []string
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				listening <- true
			}
			said = append(said, sc.Text())
		}
		close(listening)
		dumpDone <- strings.Join(said, "\n")
	}()
	if !<-listening {
		t.Fatal("tcpdump did not start")
	}

	want := map[string][]string{
		"http": {
			"CRITICAL plaintext-in-transit [pid %d :8080]: the front leg from 192.0.2.1 carries HTTP in clear (",
			"CRITICAL plaintext-in-transit [pid %d :8080]: the back leg to 192.0.2.1:80 carries HTTP in clear (",
			`GET /private HTTP/1.1\r\nHost: backend\r\nAuthorization: ***`,
		},
		"tls":      {"traffic pid %d :8443: front leg from 192.0.2.1: TLS1.3 (", "traffic pid %d :8443: back leg to 192.0.2.1:9443: TLS1.3 ("},
		"tlsplain": {"traffic pid %d :8444: front leg from 192.0.2.1: TLS1.3 (", "CRITICAL plaintext-in-transit [pid %d :8444]: the back leg to 192.0.2.1:81 carries HTTP in clear ("},
		"loopback": {"traffic pid %d :8445: front leg from 192.0.2.1: TLS1.3 (", "traffic pid %d :8445: back leg to 127.0.0.1:6380: HTTP in clear (", "); on loopback, not alerted: GET /private"},
		"ssh":      {"traffic pid %d :2222: front leg from 192.0.2.1: SSH (", "traffic pid %d :2222: back leg to 192.0.2.1:22: SSH ("},
		"udp": {
			"CRITICAL plaintext-in-transit [pid %d :5300]: the front leg from 192.0.2.1 carries binary in clear (",
			"CRITICAL plaintext-in-transit [pid %d :5300]: the back leg to 192.0.2.1:53 carries binary in clear (",
		},
		"weak": {"WARNING weak-tls-in-transit [pid %d :8446]: the front leg from 192.0.2.1 negotiates TLS1.0 ("},
		"sameport": {
			"CRITICAL plaintext-in-transit [pid %d :9000]: the front leg from 192.0.2.1 carries HTTP in clear (",
			"CRITICAL plaintext-in-transit [pid %d :9000]: the back leg to 192.0.2.1:9000 carries HTTP in clear (",
		},
	}
	// No finding on a clean leg.
	clean := map[string][]string{
		"tls":      {"plaintext-in-transit [pid %d ", "weak-tls-in-transit [pid %d "},
		"loopback": {"plaintext-in-transit [pid %d ", "weak-tls-in-transit [pid %d "},
		"ssh":      {"plaintext-in-transit [pid %d "},
		"tlsplain": {"transit [pid %d :8444]: the front leg"},
		"weak":     {"plaintext-in-transit [pid %d "},
		"sameport": {"front leg from 192.0.2.2"},
	}
	var r result
	missing := func() []string {
		var out []string
		for name, lines := range want {
			for _, w := range lines {
				if strings.Contains(w, "%d") {
					w = fmt.Sprintf(w, pids[name])
				}
				if !strings.Contains(r.out, w) {
					out = append(out, w)
				}
			}
		}
		return out
	}
	// Every client has connected at least once in the sample: the first
	// runs may start before some have.
	for end := time.Now().Add(40 * time.Second); ; {
		r = run(t, "--match", lab.mark, "--sample-traffic", "2s", "-t", "6", "-vv", "--max-output", "1000000")
		if len(missing()) == 0 || time.Now().After(end) {
			break
		}
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("missing %q in:\n%s", m, r.out)
	}
	stopDump()
	for name, lines := range clean {
		for _, c := range lines {
			if s := fmt.Sprintf(c, pids[name]); strings.Contains(r.out, s) {
				t.Errorf("a clean leg alerted: %q in:\n%s", s, r.out)
			}
		}
	}
	if strings.Contains(r.out, trafficSecret) || strings.Contains(r.out, "s3cr3t") {
		t.Errorf("the secret is in the output:\n%s", r.out)
	}
	if r.code != 2 || !strings.HasPrefix(r.first(), "CRITICAL: 8 socat instances") || !strings.Contains(r.first(), " connections sampled") {
		t.Errorf("exit %d, first line %q", r.code, r.first())
	}
	for _, perf := range []string{"i8080_plaintext_conns=", "i8443_tls_conns=", "i2222_ssh_conns=", "i5300_plaintext_bytes="} {
		if !strings.Contains(r.first(), perf) {
			t.Errorf("no %s perfdata: %s", perf, r.first())
		}
	}
	if v, ok := perfValue(r.first(), "i8443_plaintext_conns"); !ok || v != "0" {
		t.Errorf("i8443_plaintext_conns=%s (%v): the TLS relay carried no plaintext", v, ok)
	}
	said := <-dumpDone
	dropped := !regexp.MustCompile(`(?m)^0 packets dropped by kernel`).MatchString(said)
	if dropped {
		t.Logf("tcpdump dropped packets:\n%s", said)
	}
	compareWithTshark(t, r.out, pcap, dropped)
}

var perfRe = regexp.MustCompile(`([a-z0-9_]+)=([0-9.]+)`)

func perfValue(line, label string) (string, bool) {
	_, perf, _ := strings.Cut(line, "|")
	for _, m := range perfRe.FindAllStringSubmatch(perf, -1) {
		if m[1] == label {
			return m[2], true
		}
	}
	return "", false
}

// connLine is one connection of the -vv output.
var connLine = regexp.MustCompile(`connection (tcp|udp) (\S+) -> (\S+) \((front|back)(, from its middle)?\): (.+), \d`)

// compareWithTshark reads every connection our sample judged and the
// pcap of the same interval through tshark's dissectors, and requires
// the same verdict for each: plaintext or not, and for TLS the version
// the server selected.
func compareWithTshark(t *testing.T, out, pcap string, tcpdumpDropped bool) {
	t.Helper()
	// Decode-as for the lab's ports tshark does not know by default; the
	// dissector still has to make sense of the bytes.
	args := []string{"-r", pcap, "-n", "-T", "fields", "-E", "separator=;",
		"-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "tls.handshake.type", "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.version"}
	for _, d := range []string{"tcp.port==8443,tls", "tcp.port==8444,tls", "tcp.port==8445,tls", "tcp.port==8446,tls", "tcp.port==9443,tls",
		"tcp.port==81,http", "tcp.port==6380,http", "tcp.port==9000,http", "tcp.port==2222,ssh", "udp.port==5300,dns"} {
		args = append(args, "-d", d)
	}
	raw, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	type verdict struct {
		protos map[string]bool
		tls    string   // the version the ServerHello selected
		lines  []string // tshark's, for the message
	}
	streams := map[string]*verdict{}
	key := func(a, b string) string {
		if a > b {
			a, b = b, a
		}
		return a + " " + b
	}
	tlsNames := map[string]string{"0x0301": "TLS1.0", "0x0302": "TLS1.1", "0x0303": "TLS1.2", "0x0304": "TLS1.3"}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, ";")
		if len(f) < 10 {
			continue
		}
		sport, dport := f[3]+f[5], f[4]+f[6]
		k := key(f[1]+":"+sport, f[2]+":"+dport)
		v := streams[k]
		if v == nil {
			v = &verdict{protos: map[string]bool{}}
			streams[k] = v
		}
		for _, p := range strings.Split(f[0], ":") {
			v.protos[p] = true
		}
		v.lines = append(v.lines, line)
		// The ServerHello (type 2): supported_versions, else its version.
		types, sv, hv := strings.Split(f[7], ","), strings.Split(f[8], ","), strings.Split(f[9], ",")
		for i, ty := range types {
			if ty != "2" {
				continue
			}
			name := ""
			if i < len(hv) {
				name = tlsNames[hv[i]]
			}
			for _, s := range sv {
				if n := tlsNames[s]; n != "" && len(sv) == 1 {
					name = n // a ServerHello carries one selected version
				}
			}
			if name != "" {
				v.tls = name
			}
		}
	}
	compared, classOnly, noClaim := 0, 0, 0
	var disagree []string
	for _, m := range connLine.FindAllStringSubmatch(out, -1) {
		ours, middle := m[6], m[5] != ""
		if ours == "no payload" {
			continue
		}
		// Ours makes no claim (too few bytes of a connection caught in its
		// end, a hand-over whose rest fell outside the sample): tshark,
		// which saw more, cannot contradict it.
		if ours == "too few bytes to judge" || strings.Contains(ours, "not seen") {
			noClaim++
			continue
		}
		v := streams[key(m[2], m[3])]
		if v == nil {
			if tcpdumpDropped {
				noClaim++ // tcpdump said it lost packets: the oracle has nothing to say
				continue
			}
			disagree = append(disagree, fmt.Sprintf("%s %s -> %s: not in the pcap", m[1], m[2], m[3]))
			continue
		}
		var theirs string
		switch {
		case v.protos["tls"]:
			theirs = v.tls
			if theirs == "" {
				theirs = "TLS (version not seen)"
			}
		case v.protos["ssh"]:
			theirs = "SSH"
		case v.protos["http"]:
			theirs = "HTTP in clear"
		case v.protos["dns"]:
			theirs = "binary in clear" // DNS: binary plaintext, as ours names it
		default:
			theirs = "unknown to tshark: " + strings.Join(keys(v.protos), ":")
		}
		compared++
		switch {
		case middle && ours == "encrypted data (not TLS)" && (theirs == "SSH" || strings.HasPrefix(theirs, "TLS")):
			// Caught in its middle, after the greeting tshark saw: the
			// verdict that matters, not plaintext, is the same.
			classOnly++
			continue
		case middle && ours == "TLS" && strings.HasPrefix(theirs, "TLS"):
			classOnly++
			continue // records without a hello or data: TLS, no version claimed
		case middle && ours == "TLS1.2+" && (theirs == "TLS1.2" || theirs == "TLS1.3"):
			classOnly++
			continue // records without a hello: 1.2 or later, as tshark saw
		case tcpdumpDropped && theirs == "TLS (version not seen)" && strings.HasPrefix(ours, "TLS"):
			// tcpdump lost the ServerHello (it said so): TLS both ways.
			classOnly++
			continue
		}
		if theirs != ours {
			disagree = append(disagree, fmt.Sprintf("%s %s -> %s: ours %q, tshark %q; tshark's frames:\n%s", m[1], m[2], m[3], ours, theirs, strings.Join(v.lines, "\n")))
		}
	}
	t.Logf("tshark agrees on %d of %d connections (%d of them on plaintext or not only: caught in their middle, or without a ServerHello on one side); %d where ours claims nothing",
		compared-len(disagree), compared, classOnly, noClaim)
	if compared < 16 || len(disagree) > 0 {
		t.Errorf("%d connections compared (want at least 16, two legs of 8 relays); disagreements:\n%s\nour output:\n%s", compared, strings.Join(disagree, "\n"), out)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// talk connects to addr every few milliseconds and says hello, until the
// test ends: traffic for a sample on this host's loopback.
func talk(t *testing.T, addr string) {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				_ = c.SetDeadline(time.Now().Add(time.Second))
				_, _ = c.Write([]byte("hello there, plain words\n"))
				_, _ = c.Read(make([]byte, 64))
				c.Close()
			}
			time.Sleep(20 * time.Millisecond) // pacing the traffic, not waiting for a condition
		}
	}()
}

// Who may sample: without CAP_NET_RAW (an unprivileged user, or root
// without the capability) the run is UNKNOWN with one line naming it,
// even when no instance is selected; without CAP_SYS_ADMIN an instance
// in another namespace cannot be entered; the README's setcap recipe
// gives an unprivileged user the sample of its own namespace.
func TestSampleTrafficPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop privileges; CI runs as root")
	}
	testlab.Need(t, "socat", "setpriv", "/usr/sbin/setcap")
	mark := fmt.Sprintf("csprivs%d", os.Getpid())
	// A port on the command line: as nobody, the listener of root's
	// process is known from it (its open files are not visible).
	s := testlab.Start(t, "-lp", mark, fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr", freePort(t)), "EXEC:cat")
	talk(t, s.Addr())
	one := func(r result, want string) {
		t.Helper()
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if r.code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], "UNKNOWN: --sample-traffic needs "+want) {
			t.Errorf("exit %d:\n%s\nwant exit 3 and one line naming %s", r.code, r.out, want)
		}
	}
	one(runAs(t, testlab.Nobody(), "--match", mark, "--sample-traffic", "1s"), "CAP_NET_RAW")
	one(runAs(t, testlab.Nobody(), "--match", "no-such-instance-"+mark, "--sample-traffic", "1s"), "CAP_NET_RAW")
	// Root without the capability: the kernel refuses the packet socket.
	noRaw := testlab.RunPlugin(t, "setpriv", testlab.PluginOptions{}, "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", binary, "--match", mark, "--sample-traffic", "1s")
	one(result{code: noRaw.Code, out: noRaw.Out}, "CAP_NET_RAW")

	// The recipe: file capabilities on a copy of the binary.
	capped := testlab.ReadableCopy(t, binary)
	if err := os.Chmod(capped, 0o755); err != nil {
		t.Fatal(err)
	}
	testlab.MustRun(t, "/usr/sbin/setcap", "cap_net_raw+ep", capped)
	r := testlab.RunPlugin(t, capped, testlab.PluginOptions{Credential: testlab.Nobody()}, "--match", mark, "--sample-traffic", "1s", "-v")
	want := fmt.Sprintf("traffic pid %d :%d: front leg from 127.0.0.1: text in clear (", s.PID, s.Port)
	if r.Code == 3 || !strings.Contains(r.Out, want) || !strings.Contains(r.Out, "on loopback, not alerted: hello there, plain words") {
		t.Errorf("with cap_net_raw, as nobody: exit %d, no %q in:\n%s", r.Code, want, r.Out)
	}
}

// An instance in another network namespace needs CAP_SYS_ADMIN to be
// entered: root without it is told so.
func TestSampleTrafficNeedsSysAdminForNetns(t *testing.T) {
	lab := newTrafficLab(t)
	testlab.Need(t, "setpriv")
	lab.relayProc(t, nil, "TCP-LISTEN:8080,bind="+relayAddr+",fork,reuseaddr", "TCP:"+cliAddr+":80")
	var r testlab.PluginRun
	testlab.Eventually(t, 10*time.Second, "the relay to listen", func() bool {
		r = testlab.RunPlugin(t, binary, testlab.PluginOptions{}, "--match", lab.mark)
		return strings.Contains(r.Out, "listens "+relayAddr+":8080")
	})
	r = testlab.RunPlugin(t, "setpriv", testlab.PluginOptions{}, "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", binary, "--match", lab.mark, "--sample-traffic", "1s")
	if r.Code != 3 || !strings.HasPrefix(r.Out, "UNKNOWN: --sample-traffic needs CAP_SYS_ADMIN to enter an instance's network namespace") || strings.Count(r.Out, "\n") != 1 {
		t.Errorf("exit %d:\n%s", r.Code, r.Out)
	}
}

// No traffic during the sample: said, and OK.
func TestSampleTrafficQuiet(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_NET_RAW; CI runs as root")
	}
	mark := fmt.Sprintf("csquiet%d", os.Getpid())
	s := testlab.Start(t, "-lp", mark, "-d", "-d", "-T", "60", "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,max-children=10", "TCP:127.0.0.1:9,retry=3")
	r := run(t, "--match", mark, "--sample-traffic", "1s", "--ignore", "runs-as-root", "-v")
	want := fmt.Sprintf("OK: 1 socat instance (:%d), no findings (1 ignored), no traffic in the 1s sample |", s.Port)
	if r.code != 0 || !strings.HasPrefix(r.first(), want) || !strings.Contains(r.out, fmt.Sprintf("traffic pid %d :%d: no connection in the 1s sample", s.PID, s.Port)) {
		t.Errorf("exit %d, want %q:\n%s", r.code, want, r.out)
	}
	if v, ok := perfValue(r.first(), fmt.Sprintf("i%d_plaintext_conns", s.Port)); !ok || v != "0" {
		t.Errorf("plaintext_conns %q %v: %s", v, ok, r.first())
	}
}

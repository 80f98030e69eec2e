package procs

import (
	"context"
	"fmt"
	"github.com/check-socat/check-socat/internal/golden"
	"github.com/check-socat/check-socat/internal/output"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
	"github.com/check-socat/check-socat/internal/threshold"
)

// Live audits of real socat processes on loopback. Each test marks its
// processes with a unique -lp name and audits only those (--match), so
// that socat started by other tests running in parallel does not count.

func marker(t *testing.T) string {
	return fmt.Sprintf("cspt%d%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))
}

func audit(t *testing.T, mark string, mutate ...func(*Config)) checks.Result {
	t.Helper()
	cfg := Config{Match: regexp.MustCompile(regexp.QuoteMeta(mark) + `\b`)}
	for _, m := range mutate {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, checks.Env{Stage: &checks.Stage{}, TimeoutState: state.Unknown}, cfg)
	golden.Result(t, r, "procs")
	sameInstances(t, r)
	return r
}

// sameInstances checks that a live audit's findings name their instance
// with the socat_instance value its metrics carry, so that the two join
// in Prometheus.
func sameInstances(t *testing.T, r checks.Result) {
	t.Helper()
	metrics := map[string]bool{}
	for _, m := range r.Metrics {
		for _, l := range m.Labels {
			if l.Name == instanceLabel {
				metrics[l.Value] = true
			}
		}
	}
	for _, f := range r.Findings {
		for _, l := range f.Labels {
			if l.Name == instanceLabel && !metrics[l.Value] {
				t.Errorf("finding %s names socat_instance %q, which no metric carries (%v)", f.ID, l.Value, metrics)
			}
		}
	}
}

func perfValue(r checks.Result, label string) (float64, bool) {
	for _, m := range r.Perf() {
		if m.Label == label {
			return m.Value, true
		}
	}
	return 0, false
}

func hasDetail(r checks.Result, sub string) bool {
	for _, d := range output.LongOutput(r) {
		if strings.Contains(d, sub) {
			return true
		}
	}
	return false
}

func dump(r checks.Result) string {
	return fmt.Sprintf("%s: %s | %s\n%s", r.State, r.Summary, perfdata.Join(r.Perf()), strings.Join(output.LongOutput(r), "\n"))
}

// The instance, its children while connections are held open, its
// listener and its peers.
func TestLiveInstanceChildrenAndPeers(t *testing.T) {
	mark := marker(t)
	echo := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	relay := testlab.Start(t, "-lp", mark, "-T", "60", "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,max-children=10,su=nobody", "TCP:"+echo.Addr()+",retry=3")
	label := fmt.Sprintf("i%d", relay.Port)

	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", relay.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A round trip proves the relay forked a child for it.
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	var r checks.Result
	testlab.Eventually(t, 5*time.Second, "3 children", func() bool {
		r = audit(t, mark)
		n, _ := perfValue(r, label+"_children")
		return n == 3
	})
	if n, _ := perfValue(r, "instances"); n != 1 {
		t.Errorf("instances = %v\n%s", n, dump(r))
	}
	if n, _ := perfValue(r, "children"); n != 3 {
		t.Errorf("children = %v", n)
	}
	if fds, ok := perfValue(r, label+"_fds"); !ok || fds < 3 {
		t.Errorf("fds = %v", fds)
	}
	if rss, _ := perfValue(r, label+"_rss"); rss < 100000 {
		t.Errorf("rss = %v", rss)
	}
	want := fmt.Sprintf("listens 127.0.0.1:%d", relay.Port)
	if !hasDetail(r, want) {
		t.Errorf("no %q:\n%s", want, dump(r))
	}
	for _, c := range conns {
		if !hasDetail(r, c.LocalAddr().String()) {
			t.Errorf("peer %s not listed:\n%s", c.LocalAddr(), dump(r))
		}
	}
	if r.State != state.OK {
		t.Errorf("a loopback relay with -d -d, -T, max-children, retry and su= has no findings:\n%s", dump(r))
	}

	// Children ranges, per instance.
	r = audit(t, mark, func(c *Config) { c.WarnChildren, c.CritChildren = threshold.MustParse("2"), threshold.MustParse("10") })
	if r.State != state.Warning || !hasDetail(r, "has 3 children (--warning-children 2)") {
		t.Errorf("children range:\n%s", dump(r))
	}
}

func TestLiveListenPortsAndPeerRules(t *testing.T) {
	mark := marker(t)
	relay := testlab.Start(t, "-lp", mark, "-d", "-d", "-T", "9", "TCP-LISTEN:0,bind=127.0.0.1,fork,max-children=4", "EXEC:cat")
	c, err := net.Dial("tcp", relay.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	port := relay.Port
	ignoreExec := func(cfg *Config) {
		cfg.Ignore = []IgnoreRule{{ID: IDRemoteExec}, {ID: IDRunsAsRoot}, {ID: IDFileMissing}}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		st     state.State
		detail string
	}{
		{"expect-listen port", func(c *Config) { c.ExpectListen = []ListenSpec{mustSpec(t, fmt.Sprint(port))} }, state.OK, ""},
		{"expect-listen addr:port", func(c *Config) { c.ExpectListen = []ListenSpec{mustSpec(t, fmt.Sprintf("127.0.0.1:%d", port))} }, state.OK, ""},
		{"expect-listen elsewhere", func(c *Config) { c.ExpectListen = []ListenSpec{mustSpec(t, "127.0.0.2:1")} }, state.Critical, "no socat instance listens on 127.0.0.2:1 (--expect-listen)"},
		{"allowed ports", func(c *Config) { c.AllowedPorts, _ = ParsePortSet(fmt.Sprintf("1-%d", port)) }, state.OK, ""},
		{"port not allowed", func(c *Config) { c.AllowedPorts, _ = ParsePortSet("443,8443") }, state.Critical, fmt.Sprintf("listens on 127.0.0.1:%d, not in --allowed-ports 443,8443", port)},
		{"peer allowed", func(c *Config) { c.AllowPeers = mustPrefixes(t, "127.0.0.0/8") }, state.OK, ""},
		{"peer not allowed", func(c *Config) { c.AllowPeers = mustPrefixes(t, "10.0.0.0/8") }, state.Critical, "has a connection from 127.0.0.1, outside every --allow-peer"},
		{"min uptime", func(c *Config) { c.MinUptime = time.Hour }, state.Warning, "less than --min-uptime 1h0m0s"},
		{"instances -c 2:", func(c *Config) { c.Crit = threshold.MustParse("2:") }, state.Critical, "1 socat instances (--critical 2:)"},
	}
	for _, tt := range tests {
		r := audit(t, mark, ignoreExec, tt.mutate)
		if r.State != tt.st || (tt.detail != "" && !hasDetail(r, tt.detail)) {
			t.Errorf("%s: want %s with %q, got:\n%s", tt.name, tt.st, tt.detail, dump(r))
		}
	}
	// Without the ignores, the EXEC behind the listener is remote-exec
	// (WARNING: cat is no shell and only local users reach it), and
	// --ignore ID@PORT silences it for this instance only.
	r := audit(t, mark)
	if r.State != state.Critical || !hasDetail(r, "WARNING remote-exec [pid ") || !hasDetail(r, "CRITICAL runs-as-root [pid ") {
		t.Errorf("remote-exec not found:\n%s", dump(r))
	}
	r = audit(t, mark, func(c *Config) {
		c.Ignore = []IgnoreRule{{ID: IDRemoteExec, Any: port}, {ID: IDRunsAsRoot, Any: relay.PID}, {ID: IDFileMissing}}
	})
	if r.State != state.OK || !strings.Contains(r.Summary, "ignored") {
		t.Errorf("--ignore by port and pid:\n%s", dump(r))
	}
}

func mustSpec(t *testing.T, s string) ListenSpec {
	spec, err := ParseListenSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func mustPrefixes(t *testing.T, ss ...string) []netipPrefix {
	var out []netipPrefix
	for _, s := range ss {
		p, err := parsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// A UNIX listener with mode=777, and a key file with mode 0644 in use.
func TestLiveFilesAndSockets(t *testing.T) {
	mark := marker(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "open.sock")
	testlab.Start(t, "-lp", mark, "-d", "-d", "UNIX-LISTEN:"+sock+",mode=777", "STDIO")
	r := audit(t, mark)
	if !hasDetail(r, "CRITICAL world-writable-socket") || !hasDetail(r, "has mode 0777: every local user can connect") {
		t.Errorf("world-writable socket:\n%s", dump(r))
	}

	pki := testlab.NewPKI(t)
	if err := os.Chmod(pki.ServerCert, 0o644); err != nil {
		t.Fatal(err)
	}
	mark2 := mark + "tls"
	testlab.Start(t, "-lp", mark2, "-d", "-d", "OPENSSL-LISTEN:0,bind=127.0.0.1,verify=0,cert="+pki.ServerCert, "STDIO")
	r = audit(t, mark2)
	want := fmt.Sprintf("cert %s holds a private key and is readable by group and others (mode 0644)", pki.ServerCert)
	if !hasDetail(r, "CRITICAL key-file-exposed") || !hasDetail(r, want) {
		t.Errorf("exposed key:\n%s", dump(r))
	}
	// A missing cafile of a running instance.
	mark3 := mark + "ca"
	testlab.Start(t, "-lp", mark3, "-d", "-d", "OPENSSL-LISTEN:0,bind=127.0.0.1,cert="+pki.ServerCert+",cafile="+pki.CA, "STDIO")
	if err := os.Remove(pki.CA); err != nil {
		t.Fatal(err)
	}
	r = audit(t, mark3)
	if !hasDetail(r, "CRITICAL file-missing") || !hasDetail(r, "cafile "+pki.CA+" of OPENSSL-LISTEN does not exist") {
		t.Errorf("missing cafile:\n%s", dump(r))
	}
}

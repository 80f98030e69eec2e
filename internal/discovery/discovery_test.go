package discovery

import (
	"encoding/json"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestProbeAndKey(t *testing.T) {
	for _, c := range []struct{ listen, want string }{
		{"0.0.0.0:80", "127.0.0.1"}, {"[::]:80", "::1"}, {"192.0.2.7:80", "192.0.2.7"}, {"[::ffff:192.0.2.7]:80", "192.0.2.7"}, {"[::1]:53", "::1"},
	} {
		if got := Probe(netip.MustParseAddrPort(c.listen)); got != c.want {
			t.Errorf("Probe(%s) = %s, want %s", c.listen, got, c.want)
		}
	}
	if k := Key("unix", 0, "/run/my relay/$x.sock"); k != "unix-run-my-relay--x.sock" {
		t.Errorf("unix key %q", k)
	}
	if k := LogKey("/var/log/socat.log", ""); k != "var-log-socat.log" {
		t.Errorf("log key %q", k)
	}
}

func TestSortAndExpectListen(t *testing.T) {
	h := Host{Instances: []Instance{
		{Key: "tcp-8443", Proto: "tcp", Port: 8443, Listen: "0.0.0.0:8443"},
		{Key: "unix-run-x.sock", Proto: "unix", Path: "/run/x.sock", Listen: "/run/x.sock"},
		{Key: "tcp-80", Proto: "tcp", Port: 80, Listen: "127.0.0.1:80"},
		{Key: "udp-53", Proto: "udp", Port: 53, Listen: "[::1]:53"},
	}}
	h.Sort()
	var keys []string
	for _, in := range h.Instances {
		keys = append(keys, in.Key)
	}
	if got := strings.Join(keys, " "); got != "tcp-80 tcp-8443 udp-53 unix-run-x.sock" {
		t.Errorf("order %s", got)
	}
	if got := strings.Join(h.ExpectListen(), " "); got != "127.0.0.1:80 8443 [::1]:53" {
		t.Errorf("expect-listen %s", got)
	}
}

// Values from the host (paths, units, users) are quoted for Icinga 2
// and left out of Nagios command lines they would break.
func TestHostileValues(t *testing.T) {
	h := Host{Name: "relay01", Generator: "check_socat_procs test", Notes: []string{"a note that ends a comment */ early"},
		Instances: []Instance{{Key: "unix-a", Proto: "unix", Path: `/run/a "quoted" \ dir;x!y.sock`, Listen: "/run/a", Log: "k", Probe: true}},
		Logs:      []LogSource{{Key: "k", File: "/var/log/a;b.log"}}}
	ic := string(Icinga2(h))
	if !strings.Contains(ic, `path = "/run/a \"quoted\" \\ dir;x!y.sock"`) || strings.Count(ic, "*/") != 1 {
		t.Errorf("Icinga 2:\n%s", ic)
	}
	ng := string(Nagios(h))
	for _, line := range strings.Split(ng, "\n") {
		if !strings.HasPrefix(line, "#") && (strings.Contains(line, ";") || strings.Contains(line, `"`) || strings.Contains(line, `\`)) {
			t.Errorf("a Nagios line carries a value it cannot: %q", line)
		}
	}
	if !strings.Contains(ng, "# Left out: logs k (") || !strings.Contains(ng, "# Left out: unix-a (its path holds characters") {
		t.Errorf("Nagios:\n%s", ng)
	}
	for _, s := range []string{"a$b", "a\nb", "\xff"} {
		if Carried(s) {
			t.Errorf("Carried(%q)", s)
		}
	}
	b, err := JSON(h)
	var v map[string]any
	if err != nil || json.Unmarshal(b, &v) != nil {
		t.Errorf("JSON: %v\n%s", err, b)
	}
}

// An empty host is still a template (socat_discovered: the procs service
// exists and says that nothing runs) and a procs service.
func TestEmpty(t *testing.T) {
	h := Host{Name: "h", Generator: "g"}
	if ic := string(Icinga2(h)); !strings.Contains(ic, "vars.socat_expect_listen = [ ]") || !strings.Contains(ic, "vars.socat_discovered = true") {
		t.Errorf("Icinga 2:\n%s", ic)
	}
	if ng := string(Nagios(h)); !strings.Contains(ng, "check_socat_procs!\n") {
		t.Errorf("Nagios:\n%s", ng)
	}
	b, _ := JSON(h)
	if !strings.Contains(string(b), `"instances": []`) {
		t.Errorf("JSON:\n%s", b)
	}
}

// Keys collide (one port on two addresses; paths whose words are alike;
// reuseport): each listener keeps a key of its own, whatever the order.
func TestUnique(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		ins := []Instance{
			{Key: "tcp-80", Proto: "tcp", Port: 80, Listen: "192.0.2.2:80", PID: 2},
			{Key: "tcp-80", Proto: "tcp", Port: 80, Listen: "127.0.0.1:80", PID: 1},
			{Key: "tcp-80", Proto: "tcp", Port: 80, Listen: "127.0.0.1:80", PID: 3},
			{Key: Key("unix", 0, "/a-b/c"), Proto: "unix", Path: "/a-b/c", Listen: "/a-b/c"},
			{Key: Key("unix", 0, "/a/b-c"), Proto: "unix", Path: "/a/b-c", Listen: "/a/b-c"},
			{Key: "tcp-443", Proto: "tcp", Port: 443, Listen: "[::]:443"},
		}
		if reverse {
			slices.Reverse(ins)
		}
		h := Host{Instances: ins}
		h.Unique()
		var keys []string
		for _, in := range h.Instances {
			keys = append(keys, in.Key)
		}
		sort.Strings(keys)
		want := []string{"tcp-127.0.0.1-80", "tcp-192.0.2.2-80", "tcp-443", "unix-a-b-c-" + shortHash("/a-b/c"), "unix-a-b-c-" + shortHash("/a/b-c")}
		sort.Strings(want)
		if !slices.Equal(keys, want) {
			t.Errorf("keys %v, want %v", keys, want)
		}
		if len(h.Notes) != 1 || !strings.Contains(h.Notes[0], "two instances listen on 127.0.0.1:80") {
			t.Errorf("notes %v", h.Notes)
		}
	}
	logs := []LogSource{{File: "/var/log/a b.log"}, {File: "/var/log/a-b.log"}, {JournalUnit: "x.service"}}
	LogKeys(logs)
	if logs[0].Key == logs[1].Key || logs[2].Key != "x.service" {
		t.Errorf("log keys %+v", logs)
	}
}

// A hashed key that equals another path's literal key (crafted paths)
// still gives every listener a key of its own.
func TestUniqueCrafted(t *testing.T) {
	h := Host{Instances: []Instance{
		{Key: Key("unix", 0, "/a-b/c"), Proto: "unix", Path: "/a-b/c", Listen: "/a-b/c"},
		{Key: Key("unix", 0, "/a/b-c"), Proto: "unix", Path: "/a/b-c", Listen: "/a/b-c"},
	}}
	crafted := "/a/b/c-" + shortHash("/a-b/c")
	h.Instances = append(h.Instances, Instance{Key: Key("unix", 0, crafted), Proto: "unix", Path: crafted, Listen: crafted})
	h.Unique()
	seen := map[string]bool{}
	for _, in := range h.Instances {
		if seen[in.Key] {
			t.Errorf("key %s twice: %+v", in.Key, h.Instances)
		}
		seen[in.Key] = true
	}
	if len(h.Instances) != 3 {
		t.Errorf("%d listeners kept", len(h.Instances))
	}
}

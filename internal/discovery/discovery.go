// Package discovery turns the socat instances of a host into monitoring
// configuration: Icinga 2 host variables (which the shipped apply rules,
// packaging/icinga2/socat-services.conf, turn into services), Nagios
// service definitions, or JSON for other tools. It is pure: the procs
// check fills a Host, these functions print it.
//
// What becomes a service, and why:
//   - the host's procs check, with --expect-listen for every discovered
//     listener: an instance that stops (or stops listening) is CRITICAL;
//   - an endpoint check per TCP listener and UNIX socket, run where the
//     instance runs (the agent), at the address it listens on (a wildcard
//     one at loopback), with --tls --insecure for OPENSSL-LISTEN: whether
//     the service answers; certificate trust is the TLS checks' job;
//   - per OPENSSL-LISTEN: the certificate-only check every 5 minutes and
//     the full audit (dozens of connections) once a day;
//   - per log source (-lf FILE, else the journal of the instance's systemd
//     unit): one logs check. Instances that share a file share the check:
//     two checks reading one file with one state would split its lines.
//
// UDP listeners get no endpoint check (a UDP service is only seen through
// an answer to what it understands: give --send by hand); instances in
// another network namespace (containers) none either (their addresses are
// not this host's). Both are said as notes, and procs covers them.
package discovery

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Host is what discovery found on one host.
type Host struct {
	Name      string // host name, as the monitoring knows it
	Generator string // "check_socat_procs 0.14.0": who wrote the configuration
	Instances []Instance
	Logs      []LogSource
	Notes     []string
}

// Instance is one listener of a socat instance: one service target.
type Instance struct {
	// Key names the instance stably across restarts and re-discovery:
	// tcp-8443, udp-53, unix-run-relay.sock.
	Key     string
	Proto   string // tcp, udp, unix
	Address string // where to probe it: the bound address, or loopback for a wildcard
	Port    int
	Path    string // the UNIX socket
	Listen  string // as the socket table shows it: 0.0.0.0:8443, [::1]:53, /run/relay.sock
	TLS     bool
	// CertFile is the certificate (cert=) of an OPENSSL-LISTEN, as the
	// process names it; TLSName the name that certificate is for (its
	// first DNS name, else its common name), which the TLS checks verify.
	CertFile string
	TLSName  string
	// ClientAuth: the OPENSSL-LISTEN requires client certificates (socat's
	// default verify=1): an endpoint probe without one is refused.
	ClientAuth bool
	// Probe: checks may connect to it. Not for a listener without fork
	// (a probe would be its one connection: socat exits after it), nor
	// for one that admits only some peers (range=, tcpwrap), which the
	// probe's address may not be among.
	Probe bool
	// Log is the key of the instance's log source in Host.Logs ("" for
	// none).
	Log  string
	Unit string // the systemd unit the instance runs in ("" outside one)
	User string
	PID  int // when discovered (informational: it changes on restart)
}

// LogSource is where one or more instances log.
type LogSource struct {
	Key         string // var-log-socat.log, socat-relay.service
	File        string // -lf FILE
	JournalUnit string // the unit's journal, when there is no -lf
	// IgnorePeer are the addresses the TLS checks probe the instances
	// logging here from: their refused handshakes are not the relay's
	// failures (check_socat_logs --ignore-peer).
	IgnorePeer []string
}

// ExpectListen is the --expect-listen of each TCP/UDP listener: PORT for
// a wildcard, ADDR:PORT for a bound one.
func (h Host) ExpectListen() []string {
	var out []string
	seen := map[string]bool{}
	for _, in := range h.Instances {
		if in.Port == 0 {
			continue
		}
		spec := strconv.Itoa(in.Port)
		if ap, err := netip.ParseAddrPort(in.Listen); err == nil && !ap.Addr().IsUnspecified() {
			spec = ap.String()
		}
		if !seen[spec] {
			seen[spec] = true
			out = append(out, spec)
		}
	}
	return out
}

// Probe is the address a check reaches a listener at: the one it binds,
// loopback of its family for a wildcard.
func Probe(listen netip.AddrPort) string {
	a := listen.Addr()
	if !a.IsUnspecified() {
		return a.Unmap().String()
	}
	if a.Is4() || a.Is4In6() {
		return "127.0.0.1"
	}
	return "::1"
}

// Key is the stable name of a listener.
func Key(proto string, port int, path string) string {
	if proto == "unix" {
		return "unix-" + keyWord(path)
	}
	return proto + "-" + strconv.Itoa(port)
}

// LogKey is the stable name of a log file or unit.
func LogKey(file, unit string) string {
	if file != "" {
		return keyWord(file)
	}
	return keyWord(unit)
}

// keyWord turns a path into a name word: separators become dashes, and
// anything but letters, digits, dot, dash and underscore too.
func keyWord(s string) string {
	s = strings.Trim(s, "/")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() > 100 {
		return b.String()[:100]
	}
	return b.String()
}

// Sort orders instances and log sources by key (stable output: a
// re-discovery of an unchanged host prints the same bytes).
func (h *Host) Sort() {
	sort.Slice(h.Instances, func(i, j int) bool { return lessKey(h.Instances[i].Key, h.Instances[j].Key) })
	sort.Slice(h.Logs, func(i, j int) bool { return h.Logs[i].Key < h.Logs[j].Key })
}

// lessKey orders tcp-80 before tcp-443 (numbers as numbers).
func lessKey(a, b string) bool {
	pa, na := splitNum(a)
	pb, nb := splitNum(b)
	if pa != pb {
		return pa < pb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func splitNum(k string) (string, int) {
	i := strings.LastIndexByte(k, '-')
	if i < 0 {
		return k, 0
	}
	n, err := strconv.Atoi(k[i+1:])
	if err != nil {
		return k, 0
	}
	return k[:i], n
}

// JSON is the discovery as one JSON object.
func JSON(h Host) ([]byte, error) {
	type inst struct {
		Key        string `json:"key"`
		Proto      string `json:"proto"`
		Address    string `json:"address,omitempty"`
		Port       int    `json:"port,omitempty"`
		Path       string `json:"path,omitempty"`
		Listen     string `json:"listen"`
		TLS        bool   `json:"tls"`
		CertFile   string `json:"cert_file,omitempty"`
		TLSName    string `json:"tls_name,omitempty"`
		ClientAuth bool   `json:"client_auth"`
		Probe      bool   `json:"probe"`
		Log        string `json:"log,omitempty"`
		Unit       string `json:"unit,omitempty"`
		User       string `json:"user,omitempty"`
		PID        int    `json:"pid"`
	}
	type logSource struct {
		Key         string   `json:"key"`
		File        string   `json:"file,omitempty"`
		JournalUnit string   `json:"journal_unit,omitempty"`
		IgnorePeer  []string `json:"ignore_peer,omitempty"`
	}
	out := struct {
		Host         string      `json:"host"`
		Generator    string      `json:"generator"`
		Instances    []inst      `json:"instances"`
		Logs         []logSource `json:"logs"`
		ExpectListen []string    `json:"expect_listen"`
		Notes        []string    `json:"notes"`
	}{Host: h.Name, Generator: h.Generator, Instances: []inst{}, Logs: []logSource{}, ExpectListen: h.ExpectListen(), Notes: h.Notes}
	if out.ExpectListen == nil {
		out.ExpectListen = []string{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, in := range h.Instances {
		out.Instances = append(out.Instances, inst(in))
	}
	for _, l := range h.Logs {
		out.Logs = append(out.Logs, logSource(l))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("discovery as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// Unique makes every key unique, deterministically (whatever the order
// the instances were found in): listeners of one protocol and port on
// different addresses get the address in their key (tcp-127.0.0.1-8080,
// tcp-192.0.2.2-8080); paths whose words collide (/a-b/c and /a/b-c) a
// hash of the path. Two listeners on the very same address (reuseport)
// are one set of services: the second is dropped, and said. (Log keys
// are made unique by LogKeys, before instances name them.)
func (h *Host) Unique() {
	h.Sort()
	// The very same address twice (reuseport): one set of services.
	sort.SliceStable(h.Instances, func(i, j int) bool {
		x, y := h.Instances[i], h.Instances[j]
		if x.Proto+x.Listen != y.Proto+y.Listen {
			return x.Proto+x.Listen < y.Proto+y.Listen
		}
		return x.PID < y.PID
	})
	var kept []Instance
	for i, in := range h.Instances {
		if i > 0 && in.Proto == h.Instances[i-1].Proto && in.Listen == h.Instances[i-1].Listen {
			h.Notes = append(h.Notes, fmt.Sprintf("two instances listen on %s (reuseport?): one set of services for both", in.Listen))
			continue
		}
		kept = append(kept, in)
	}
	h.Instances = kept
	// One key for listeners on different addresses or paths: the address
	// (or a hash of the path) in each key.
	byKey := map[string][]int{}
	for i, in := range h.Instances {
		byKey[in.Key] = append(byKey[in.Key], i)
	}
	for _, idx := range byKey {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			in := &h.Instances[i]
			if in.Proto == "unix" {
				in.Key += "-" + shortHash(in.Path)
			} else if ap, err := netip.ParseAddrPort(in.Listen); err == nil {
				in.Key = in.Proto + "-" + keyWord(strings.ReplaceAll(ap.Addr().String(), ":", "-")) + "-" + strconv.Itoa(in.Port)
			}
		}
	}
	// A renamed key may equal another's (crafted paths): numbered, in the
	// order of what they listen on.
	sort.SliceStable(h.Instances, func(i, j int) bool { return h.Instances[i].Listen < h.Instances[j].Listen })
	used := map[string]bool{}
	for i := range h.Instances {
		in := &h.Instances[i]
		base := in.Key
		for n := 2; used[in.Key]; n++ {
			in.Key = base + "-" + strconv.Itoa(n)
		}
		used[in.Key] = true
	}
	sort.Strings(h.Notes)
	h.Notes = slices.Compact(h.Notes)
	h.Sort()
}

// shortHash is 8 hex digits of FNV-1a: enough to tell colliding paths apart.
func shortHash(s string) string {
	f := fnv.New32a()
	f.Write([]byte(s))
	return fmt.Sprintf("%08x", f.Sum32())
}

// LogKeys gives each log source (a file, or a unit's journal) its key:
// LogKey, with a hash of the source where two collide (/var/log/a b.log
// and /var/log/a-b.log).
func LogKeys(sources []LogSource) {
	count := map[string]int{}
	for _, l := range sources {
		count[LogKey(l.File, l.JournalUnit)]++
	}
	for i := range sources {
		l := &sources[i]
		l.Key = LogKey(l.File, l.JournalUnit)
		if count[l.Key] > 1 {
			l.Key += "-" + shortHash(l.File+"\x00"+l.JournalUnit)
		}
	}
}

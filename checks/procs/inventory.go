package procs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/discovery"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/version"
)

// discoverConfig is --discover: the selected instances as monitoring
// configuration. The result is OK with the configuration as its
// document, or UNKNOWN when the host cannot be named.
func discoverConfig(env checks.Env, cfg Config, snap *Snapshot, insts []*live, orphanNotes []string) checks.Result {
	name, err := os.Hostname()
	if err != nil || !hostName(name) {
		return checks.Unknownf("--discover: this host's name (%q, %v) cannot name a host object: set a host name of letters, digits, dots and dashes",
			sanitize.Text(name, 64), err)
	}
	ownNS, _ := os.Readlink("/proc/self/ns/net")
	h := inventory(insts, snap, ownNS)
	h.Name = name
	h.Generator = "check_socat_procs " + version.Version
	if snap.HiddenPIDs {
		h.Notes = append(h.Notes, "/proc hides other users' processes (hidepid): only this user's instances are seen; discover as root")
	}
	h.Notes = append(h.Notes, orphanNotes...)
	var doc []byte
	switch cfg.Discover {
	case "icinga2":
		doc = discovery.Icinga2(h)
	case "nagios":
		doc = discovery.Nagios(h)
	default:
		if doc, err = discovery.JSON(h); err != nil {
			return checks.Unknownf("%v", err)
		}
	}
	env.Debugf("discovered %d listeners and %d log sources in %d instances", len(h.Instances), len(h.Logs), len(insts))
	return checks.Result{State: state.OK, Summary: fmt.Sprintf("%d socat instance%s discovered", len(insts), plural(len(insts))), Document: doc}
}

// hostName reports whether s can name a host object in Icinga 2 and
// Nagios and a template after it.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// inventory is what monitoring needs of each instance: its listeners
// (key, protocol, where to probe, TLS and certificate), where it logs and
// its unit. What cannot become a service is said as a note.
func inventory(insts []*live, snap *Snapshot, ownNS string) discovery.Host {
	var h discovery.Host
	seen := map[string]int{} // listener key -> PID that has it
	logs := map[string]bool{}
	for _, l := range insts {
		if l.NetNS != "" && ownNS != "" && netnsOf(l.NetNS, snap.Tables, ownNS) != ownNS {
			h.Notes = append(h.Notes, fmt.Sprintf("%s runs in another network namespace (a container?): its addresses are not this host's, so it has no endpoint or TLS service; the procs service covers it", l.where))
			continue
		}
		unit := unitOf(l.PID)
		logKey := ""
		if l.cmd != nil {
			file := l.cmd.Globals.LogFile
			if file != "" && !filepath.IsAbs(file) {
				if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", l.PID)); err == nil {
					file = filepath.Join(cwd, file)
				}
			}
			switch {
			case file != "" && (!filepath.IsAbs(file) || !discovery.Carried(file)):
				h.Notes = append(h.Notes, fmt.Sprintf("%s logs to %s, a path that cannot be written into the configuration (relative, or with control characters or $): no logs service", l.where, sanitize.Text(file, 80)))
			case file != "":
				logKey = discovery.LogKey(file, "")
				if !logs[logKey] {
					logs[logKey] = true
					h.Logs = append(h.Logs, discovery.LogSource{Key: logKey, File: file})
				}
			case unit != "" && discovery.Carried(unit):
				// stderr (socat's default) and syslog both reach the
				// journal as the unit's.
				logKey = discovery.LogKey("", unit)
				if !logs[logKey] {
					logs[logKey] = true
					h.Logs = append(h.Logs, discovery.LogSource{Key: logKey, JournalUnit: unit})
				}
			default:
				h.Notes = append(h.Notes, fmt.Sprintf("%s logs to stderr outside a systemd unit (no -lf FILE): no logs service; give it -lf FILE", l.where))
			}
		} else {
			h.Notes = append(h.Notes, fmt.Sprintf("%s: its command line cannot be read (%v): its listeners are discovered without TLS or log file", l.where, l.parseErr))
		}
		if !discovery.Carried(unit) {
			unit = ""
		}
		user := l.User
		if !discovery.Carried(user) {
			user = ""
		}
		tlsAt := tlsOf(l)
		add := func(in discovery.Instance) {
			if pid, dup := seen[in.Key]; dup {
				if pid != l.PID {
					h.Notes = append(h.Notes, fmt.Sprintf("%s shares %s with pid %d (reuseport?): one set of services for both", l.where, in.Key, pid))
				}
				return
			}
			seen[in.Key] = l.PID
			in.Log, in.Unit, in.User, in.PID = logKey, unit, user, l.PID
			h.Instances = append(h.Instances, in)
		}
		for _, a := range l.listens {
			proto := "tcp"
			if l.udpAddrs[a] {
				proto = "udp"
			}
			port := int(a.Port())
			in := discovery.Instance{Key: discovery.Key(proto, port, ""), Proto: proto, Address: discovery.Probe(a), Port: port, Listen: a.String()}
			if tls, cert := tlsAt(port); proto == "tcp" && tls {
				in.TLS = true
				if discovery.Carried(cert) {
					in.CertFile = cert
				}
			}
			add(in)
		}
		for _, p := range l.unixes {
			if !discovery.Carried(p) || !strings.HasPrefix(p, "/") {
				h.Notes = append(h.Notes, fmt.Sprintf("%s listens on the UNIX socket %s, which cannot be written into the configuration (abstract, or control characters or $): no endpoint service", l.where, sanitize.Text(p, 80)))
				continue
			}
			add(discovery.Instance{Key: discovery.Key("unix", 0, p), Proto: "unix", Path: p, Listen: p})
		}
		if len(l.listens) == 0 && len(l.unixes) == 0 {
			h.Notes = append(h.Notes, fmt.Sprintf("%s listens on nothing (a connector, or a listener that accepted its one connection): the procs service covers it", l.where))
		}
		for _, a := range l.listens {
			if l.udpAddrs[a] {
				h.Notes = append(h.Notes, fmt.Sprintf("%s listens on UDP %s: no endpoint service (a UDP service answers only what it understands: add one with --udp --send by hand)", l.where, a))
			}
		}
	}
	h.Sort()
	return h
}

// tlsOf tells of a TCP listen port of the instance whether it is an
// OPENSSL-LISTEN's, and the certificate it names (cert=). A listener
// whose port the command line does not give as a number (0: the kernel
// chose; a service name) is matched by elimination: a port no plain
// listener names.
func tlsOf(l *live) func(port int) (bool, string) {
	type tlsListener struct{ cert string }
	byPort := map[int]tlsListener{}
	plain := map[int]bool{}
	var unnumbered *tlsListener
	if l.cmd != nil {
		for _, s := range l.cmd.Listeners() {
			f := s.Facts(l.cmd.Globals.PreferFamily)
			port := f.ListenPort()
			if !f.TLS {
				plain[port] = true
				continue
			}
			var tl tlsListener
			if o, ok := s.Option("openssl-certificate"); ok && o.Value != "" {
				tl.cert = o.Value
				if !filepath.IsAbs(tl.cert) {
					if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", l.PID)); err == nil {
						tl.cert = filepath.Join(cwd, tl.cert)
					}
				}
			}
			if port == 0 {
				unnumbered = &tl
			} else {
				byPort[port] = tl
			}
		}
	}
	return func(port int) (bool, string) {
		if tl, ok := byPort[port]; ok {
			return true, tl.cert
		}
		if unnumbered != nil && !plain[port] {
			return true, unnumbered.cert
		}
		return false, ""
	}
}

// unitOf is the systemd unit a process runs in, from its cgroup ("" when
// none: started by hand, cron, a container).
func unitOf(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	return UnitFromCgroup(data)
}

// UnitFromCgroup reads the unit from /proc/PID/cgroup: the innermost
// .service of the systemd hierarchy (cgroup v2's "0::", or v1's
// "name=systemd"). A user's units (below user@1000.service) and scopes (a
// login session, a container) give none.
func UnitFromCgroup(data []byte) string {
	var v1, v2 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case parts[1] == "name=systemd":
			v1 = parts[2]
		}
	}
	p := v2
	if p == "" || p == "/" {
		p = v1
	}
	unit := ""
	for _, c := range strings.Split(path.Clean(p), "/") {
		if strings.HasPrefix(c, "user@") {
			return "" // a user's unit: its journal is not the system's -u
		}
		if strings.HasSuffix(c, ".service") {
			unit = c
		}
	}
	return unit
}

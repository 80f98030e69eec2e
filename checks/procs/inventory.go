package procs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/certname"
	"github.com/check-socat/check-socat/internal/discovery"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/version"
)

// discoverConfig is --discover: the selected instances as monitoring
// configuration. The result is OK with the configuration as its
// document, or UNKNOWN when the host cannot be named.
func discoverConfig(env checks.Env, cfg Config, snap *Snapshot, insts []*live, orphanNotes []string) checks.Result {
	name := cfg.DiscoverHost
	if name != "" && !hostName(name) {
		return checks.Unknownf("--discover-host %q cannot name a host object: give letters, digits, dots, dashes and underscores", sanitize.Text(name, 64))
	}
	if name == "" {
		var err error
		if name, err = os.Hostname(); err != nil || !hostName(name) {
			return checks.Unknownf("--discover: this host's name (%q, %v) cannot name a host object: give --discover-host NAME", sanitize.Text(name, 64), err)
		}
	}
	ownNS, _ := os.Readlink("/proc/self/ns/net")
	h := inventory(insts, snap, ownNS, cfg)
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
		var err error
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
// (key, protocol, where to probe, whether a probe is safe, TLS and its
// certificate), where it logs and its unit. What cannot become a service
// is said as a note. Notes name instances by what they listen on, not by
// PID, so that an unchanged host gives the same output after a restart.
func inventory(insts []*live, snap *Snapshot, ownNS string, cfg Config) discovery.Host {
	var h discovery.Host
	ownMnt, _ := os.Readlink("/proc/self/ns/mnt")
	type source struct{ file, unit string }
	var sources []source
	sourceOf := map[source]int{}
	ignore := map[source]map[string]bool{}
	logOf := map[int]source{} // index in h.Instances -> its log source
	note := func(format string, args ...any) { h.Notes = append(h.Notes, fmt.Sprintf(format, args...)) }
	for _, l := range insts {
		where := stableWhere(l)
		if l.NetNS != "" && ownNS != "" && netnsOf(l.NetNS, snap.Tables, ownNS) != ownNS {
			note("%s runs in another network namespace (a container?): its addresses are not this host's, so it has no endpoint or TLS service; the procs service covers it", where)
			continue
		}
		mnt, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", l.PID))
		sameMounts := mnt == "" || ownMnt == "" || mnt == ownMnt
		// Whether a path the process names is the same file here: always
		// in our mount namespace; in another (PrivateTmp=, ProtectSystem=,
		// a container) when the file it sees is the one we see.
		ownPath := func(p string) bool { return sameMounts || sameFile(l.PID, p) }
		unit := unitOf(l.PID)
		if !discovery.Carried(unit) {
			unit = ""
		}
		var src source
		hasSource := false
		if l.cmd != nil {
			file := l.cmd.Globals.LogFile
			if file != "" && !filepath.IsAbs(file) {
				if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", l.PID)); err == nil {
					file = filepath.Join(cwd, file)
				}
			}
			if stderrLike(file) {
				file = "" // -lf /dev/stderr: as without -lf
			}
			switch {
			case file != "" && !ownPath(file):
				note("%s logs to %s in a mount namespace of its own (PrivateTmp=, a container): that path is not this host's, no logs service", where, sanitize.Text(file, 80))
			case file != "" && (!filepath.IsAbs(file) || !discovery.Carried(file)):
				note("%s logs to %s, a path that cannot be written into the configuration (relative, or with control characters or $): no logs service", where, sanitize.Text(file, 80))
			case file != "":
				src, hasSource = source{file: file}, true
			case unit != "":
				// stderr (socat's default) and syslog both reach the
				// journal as the unit's.
				src, hasSource = source{unit: unit}, true
			default:
				note("%s logs to stderr outside a systemd unit (no -lf FILE): no logs service; give it -lf FILE", where)
			}
		} else {
			note("%s: its command line cannot be read (%v): its listeners are discovered without TLS, probes or log file", where, l.parseErr)
		}
		if hasSource {
			if _, ok := sourceOf[src]; !ok {
				sourceOf[src] = len(sources)
				sources = append(sources, src)
			}
		}
		user := l.User
		if !discovery.Carried(user) {
			user = ""
		}
		// Whether a check may connect: a listener without fork serves one
		// connection and exits (a probe would be it).
		noProbe := ""
		if l.cmd == nil {
			noProbe = "cannot be read: no endpoint or TLS service (a probe could be its one connection)"
		}
		listenerAt := listenerOf(l)
		// The caller's own instance through sudo: its cert= could name any
		// file, which root would open for them.
		callers := cfg.Sudo && l.UID == cfg.SudoUID
		add := func(in discovery.Instance) {
			in.Unit, in.User, in.PID = unit, user, l.PID
			if hasSource {
				logOf[len(h.Instances)] = src
			}
			h.Instances = append(h.Instances, in)
		}
		for _, a := range l.listens {
			proto := "tcp"
			if l.udpAddrs[a] {
				proto = "udp"
			}
			port := int(a.Port())
			in := discovery.Instance{Key: discovery.Key(proto, port, ""), Proto: proto, Address: discovery.Probe(a), Port: port, Listen: a.String(), Probe: noProbe == ""}
			single := listenerAt(port)
			switch {
			case noProbe != "":
				note("%s %s", where, noProbe)
			case single != nil && !enabled(single, "fork"):
				// fork on the listening address: elsewhere (the connector)
				// it forks per retry, not per connection.
				in.Probe = false
				note("%s does not fork: a probe would be its one connection (socat exits after it), so no endpoint or TLS service", where)
			case single != nil && (limitsPeers(single) && !(rangeLoopbackOnly(single) && netip.MustParseAddr(in.Address).IsLoopback()) ||
				hasAny(single, "lowport", "sourceport")):
				in.Probe = false
				note("%s admits only some peers (range=, tcpwrap=, lowport, sourceport=), which the probe may not be among: no endpoint or TLS service (add them by hand with --source)", where)
			}
			if single != nil && proto == "tcp" && single.Facts(l.cmd.Globals.PreferFamily).TLS {
				in.TLS = true
				o, ok := single.Option("openssl-verify")
				in.ClientAuth = !ok || truthy(o) // socat's default is verify=1
				if cert := certPath(l, single); cert != "" {
					if discovery.Carried(cert) {
						in.CertFile = cert
					}
					// Read through the process's root: right in a mount
					// namespace of its own too.
					if !callers {
						if data, err := readSmall(ProcFiles{PID: l.PID}.Resolve(cert)); err == nil {
							name, err := certname.FromPEM(data)
							switch {
							case err != nil || name == "":
								note("%s: its certificate names no DNS name: its TLS checks verify the probe's address %s (set socat_tls_hostname for another name)", where, in.Address)
							case strings.Contains(name, "*") || !discovery.Carried(name) || strings.ContainsAny(name, " \t\""):
								note("%s: its certificate is for %s: set socat_tls_hostname to a name it covers, or the TLS checks verify the probe's address", where, sanitize.Text(name, 80))
							default:
								in.TLSName = name
							}
						}
					}
				}
				if hasSource && in.Probe && (l.cmd == nil || l.cmd.Globals.Debug < 2) {
					note("%s logs without -d -d: its log does not say who connected, so the TLS checks' refused probes count as its failures; run it with -d -d", where)
				} else if hasSource && in.Probe {
					if ignore[src] == nil {
						ignore[src] = map[string]bool{}
					}
					ignore[src][in.Address] = true
				}
			}
			if proto == "udp" {
				note("%s listens on UDP %s: no endpoint service (a UDP service answers only what it understands: add one with --udp --send by hand)", where, a)
			}
			add(in)
		}
		for _, p := range l.unixes {
			single := listenerAt(0) // UNIX-LISTEN has no port
			in := discovery.Instance{Key: discovery.Key("unix", 0, p), Proto: "unix", Path: p, Listen: p, Probe: noProbe == ""}
			switch {
			case !discovery.Carried(p) || !strings.HasPrefix(p, "/"):
				note("%s listens on the UNIX socket %s, which cannot be written into the configuration (abstract, or control characters or $): no endpoint service", where, sanitize.Text(p, 80))
				continue
			case !ownPath(p):
				note("%s listens on %s in a mount namespace of its own: that path is not this host's, no endpoint service", where, sanitize.Text(p, 80))
				in.Probe = false
			case noProbe != "":
				note("%s %s", where, noProbe)
			case single != nil && !enabled(single, "fork"):
				in.Probe = false
				note("%s does not fork: a probe would be its one connection (socat exits after it), so no endpoint service", where)
			default:
				if why := notOpenToOthers(p); why != "" {
					in.Probe = false
					note("%s: %s: the endpoint check, run as the monitoring user, would be refused; no endpoint service", where, why)
				}
			}
			add(in)
		}
		if len(l.listens) == 0 && len(l.unixes) == 0 {
			note("%s listens on nothing (a connector, or a listener that accepted its one connection): the procs service covers it", where)
		}
	}
	// Log sources: keys, and the addresses to ignore (the TLS checks'
	// refused probes are not the relay's failures).
	for _, s := range sources {
		ls := discovery.LogSource{File: s.file, JournalUnit: s.unit}
		for a := range ignore[s] {
			ls.IgnorePeer = append(ls.IgnorePeer, a)
		}
		sort.Strings(ls.IgnorePeer)
		h.Logs = append(h.Logs, ls)
	}
	discovery.LogKeys(h.Logs)
	for i := range h.Instances {
		if s, ok := logOf[i]; ok {
			h.Instances[i].Log = h.Logs[sourceOf[s]].Key
		}
	}
	h.Unique()
	return h
}

// stableWhere names an instance by what it listens on (":8443",
// "/run/relay.sock"), by PID only when it listens on nothing.
func stableWhere(l *live) string {
	switch {
	case l.port != 0:
		return fmt.Sprintf("the instance on :%d", l.port)
	case len(l.unixes) > 0:
		return "the instance on " + sanitize.Text(l.unixes[0], 80)
	}
	return l.where
}

// sameFile reports whether path, as process pid sees it (through its
// root), is the file this process sees at path.
func sameFile(pid int, path string) bool {
	theirs, err := os.Stat(ProcFiles{PID: pid}.Resolve(path))
	if err != nil {
		return false
	}
	ours, err := os.Stat(path)
	return err == nil && os.SameFile(theirs, ours)
}

// readSmall reads a certificate file, at most 1 MiB, and only a regular
// file: a FIFO or a device a command line names is not opened.
func readSmall(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// stderrLike reports a -lf path that is not a log file: socat's own
// stderr or stdout, a descriptor, a terminal.
func stderrLike(p string) bool {
	switch {
	case p == "/dev/stderr", p == "/dev/stdout", p == "/dev/console", p == "/dev/null",
		strings.HasPrefix(p, "/dev/fd/"), strings.HasPrefix(p, "/dev/tty"), strings.HasPrefix(p, "/dev/pts/"),
		strings.HasPrefix(p, "/proc/"):
		return true
	}
	return false
}

// notOpenToOthers says why a user who is neither the socket's owner nor in
// its group cannot connect to a UNIX socket ("" when they can): its mode,
// or a directory on its path they may not search.
func notOpenToOthers(p string) string {
	info, err := os.Stat(p)
	if err != nil {
		return ""
	}
	if info.Mode().Perm()&0o002 == 0 {
		return fmt.Sprintf("its socket %s is not open to other users (mode %04o)", sanitize.Text(p, 80), info.Mode().Perm())
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		if d, err := os.Stat(dir); err == nil && d.Mode().Perm()&0o001 == 0 {
			return fmt.Sprintf("its directory %s is closed to other users (mode %04o)", sanitize.Text(dir, 80), d.Mode().Perm())
		}
		if dir == "/" || dir == "." {
			return ""
		}
	}
}

// listenerOf finds the listening address of the command line that a
// listen port belongs to. A listener whose port the command line does not
// give as a number (0: the kernel chose; a service name) is matched by
// elimination: a port no other listener names.
func listenerOf(l *live) func(port int) *socatcmd.Single {
	byPort := map[int]*socatcmd.Single{}
	var unnumbered *socatcmd.Single
	if l.cmd != nil {
		for _, s := range l.cmd.Listeners() {
			if port := s.Facts(l.cmd.Globals.PreferFamily).ListenPort(); port != 0 {
				byPort[port] = s
			} else if unnumbered == nil {
				unnumbered = s
			}
		}
	}
	return func(port int) *socatcmd.Single {
		if s, ok := byPort[port]; ok {
			return s
		}
		return unnumbered
	}
}

// certPath is the certificate an OPENSSL-LISTEN names (cert=), absolute
// as the process sees it; "" when it names none.
func certPath(l *live, s *socatcmd.Single) string {
	o, ok := s.Option("openssl-certificate")
	if !ok || o.Value == "" {
		return ""
	}
	c := o.Value
	if !filepath.IsAbs(c) {
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", l.PID)); err == nil {
			c = filepath.Join(cwd, c)
		}
	}
	return c
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

// Package procs audits socat: the running instances (which run, as whom,
// what they listen on, who is connected, their children) and the command
// lines they run, against a catalogue of risky settings. It also audits a
// command line or a systemd unit before deployment.
package procs

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/state"
)

// The finding IDs are a contract: configurations silence them by name.
const (
	IDPlaintextListener   = "plaintext-listener"
	IDNoAccessControl     = "no-access-control"
	IDRemoteExec          = "remote-exec"
	IDDockerSocket        = "docker-socket"
	IDTLSVerifyOff        = "tls-verify-off"
	IDTLSNoCA             = "tls-no-ca"
	IDTLSWeakProtocol     = "tls-weak-protocol"
	IDTLSWeakCipher       = "tls-weak-cipher"
	IDTLSNameCheckOff     = "tls-name-check-off"
	IDKeyFileExposed      = "key-file-exposed"
	IDFileMissing         = "file-missing"
	IDWorldWritableSocket = "world-writable-socket"
	IDUnlimitedChildren   = "unlimited-children"
	IDRunsAsRoot          = "runs-as-root"
	IDNoLogging           = "no-logging"
	IDNoIdleTimeout       = "no-idle-timeout"
	IDNoRetry             = "no-retry"
	IDPlaintextForward    = "plaintext-forward"
	IDReuseport           = "reuseport"
	IDUnparsable          = "unparsable"
	IDSensitiveSocket     = "sensitive-socket"
	IDNoRestart           = "no-restart"
	IDPrivilegedBinary    = "privileged-binary"
	IDFileWritable        = "file-writable"
	IDSudoSocat           = "sudo-socat"
	IDPlaintextInTransit  = "plaintext-in-transit"
	IDWeakTLSInTransit    = "weak-tls-in-transit"
)

// Rule is one row of the finding catalogue.
type Rule struct {
	ID    string
	State state.State // the default state of its findings
	About string      // what it flags, in a few words
}

// Rules is the catalogue, in rank order: among findings of one state,
// what gives an attacker most comes first. Every ID has exactly one row
// (TestRulesCoverEveryID).
var Rules = []Rule{
	{IDPlaintextInTransit, state.Critical, "plaintext seen crossing the network to or from an instance (--sample-traffic)"},
	{IDRemoteExec, state.Critical, "a listener hands connections to a program (EXEC, SYSTEM)"},
	{IDDockerSocket, state.Critical, "the Docker API socket is exposed over the network"},
	{IDPrivilegedBinary, state.Critical, "a set-uid, set-gid or capable socat executable: a root shell for any local user"},
	{IDSensitiveSocket, state.Critical, "a credentials-bearing socket (ssh-agent, X server, systemd, D-Bus) relayed to the network"},
	{IDFileWritable, state.Critical, "a file socat uses, or a directory above it, is writable by another user"},
	{IDSudoSocat, state.Critical, "sudo lets a user run socat with arguments of their choice (WARNING when fixed)"},
	{IDTLSVerifyOff, state.Critical, "a TLS listener accepts any client (verify=0)"},
	{IDPlaintextListener, state.Critical, "a plaintext listener on a non-loopback address relays to a sensitive or TLS service"},
	{IDWorldWritableSocket, state.Critical, "a UNIX socket anyone may connect to"},
	{IDKeyFileExposed, state.Critical, "a private key readable by others"},
	{IDTLSWeakProtocol, state.Critical, "TLS below 1.2 allowed"},
	{IDTLSWeakCipher, state.Critical, "weak cipher suites enabled"},
	{IDTLSNameCheckOff, state.Critical, "a TLS client that does not check the server's name"},
	{IDFileMissing, state.Critical, "a certificate, key or CA file that does not exist"},
	{IDWeakTLSInTransit, state.Warning, "TLS 1.0 or 1.1 negotiated on a leg that crosses the network (--sample-traffic)"},
	{IDRunsAsRoot, state.Warning, "runs as root without dropping privileges"},
	{IDNoAccessControl, state.Warning, "a listener without range=, tcpwrap= or client certificates"},
	{IDTLSNoCA, state.Warning, "a TLS client or listener without cafile="},
	{IDPlaintextForward, state.Warning, "forwards in plaintext to a remote host"},
	{IDReuseport, state.Warning, "reuseport lets another process share the port"},
	{IDUnlimitedChildren, state.Warning, "a forking listener without max-children"},
	{IDNoIdleTimeout, state.Warning, "a forking listener without -T"},
	{IDNoRetry, state.Warning, "a connector without retry="},
	{IDNoRestart, state.Warning, "a unit running a long-lived socat without Restart="},
	{IDNoLogging, state.Warning, "connections are not logged (no -d -d)"},
	{IDUnparsable, state.Warning, "a command line that cannot be read"},
}

// rule is the catalogue row of id and its rank; ok is false for an ID
// that is not in the catalogue.
func rule(id string) (r Rule, rank int, ok bool) {
	for i, r := range Rules {
		if r.ID == id {
			return r, i, true
		}
	}
	return Rule{ID: id, State: state.Unknown}, len(Rules), false
}

// DefaultState is the catalogue's state for id.
func DefaultState(id string) state.State {
	r, _, _ := rule(id)
	return r.State
}

// rank orders findings of one state (see Rules).
func rank(id string) int {
	_, i, _ := rule(id)
	return i
}

// Finding is one risky setting of one instance.
type Finding struct {
	ID     string
	State  state.State
	Where  string // the instance, as the output names it
	PID    int    // 0 for command lines and units
	Port   int    // the instance's listen port, 0 if none
	Reason string
	Remedy string
}

// Line is the finding as one line of long output.
func (f Finding) Line() string {
	return fmt.Sprintf("%s %s [%s]: %s; fix: %s", f.State, f.ID, f.Where, f.Reason, f.Remedy)
}

// Subject is what is audited: a command line and what is known about how
// it runs.
type Subject struct {
	Cmd    *socatcmd.Command
	Where  string
	PID    int
	Port   int
	UID    int    // -1 when unknown (a --cmdline audit)
	User   string // name, for the output
	Socket *socatcmd.SocketUnit
	// Files checks the files the command names, through Files.
	Files FileChecker
	// Static is a command line that does not run (yet): an option socat
	// does not know is a finding, as socat would refuse to start.
	Static bool
	// Unseen collects the files this user may not look at (their checks
	// did not run), for a note; nil: not collected.
	Unseen *[]string
}

// f records a finding with the catalogue's default state.
func (s *Subject) f(out *[]Finding, id, reason, remedy string) {
	*out = append(*out, Finding{ID: id, State: DefaultState(id), Where: s.Where, PID: s.PID, Port: s.Port, Reason: reason, Remedy: remedy})
}

// rootSockets are UNIX sockets whose peer has root's powers: a network
// address relayed to one of them is root for anyone who connects.
var rootSockets = []string{
	"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "libvirt-sock", "libvirt-admin-sock",
	"dockershim.sock", "buildkitd.sock", "snapd.socket",
	"kubelet.sock", "cri-dockerd.sock", "lxd/unix.socket", "incus/unix.socket",
}

// socketPowers says whose powers a runtime socket gives: root's, or for
// a rootless runtime under /run/user/UID (podman, docker) that user's.
func socketPowers(p string) string {
	if rest, ok := strings.CutPrefix(p, "/run/user/"); ok {
		if uid, _, ok := strings.Cut(rest, "/"); ok && uid != "" && strings.Trim(uid, "0123456789") == "" && uid != "0" {
			return "user " + uid + "'s powers and containers (a rootless runtime)"
		}
	}
	return "root on this host"
}

// sensitiveSocket says what a credentials-bearing UNIX socket gives
// whoever reaches it (container runtimes are docker-socket's), or "".
func sensitiveSocket(p string) string {
	base := path.Base(p)
	switch {
	case p == "/run/systemd/private" || p == "/var/run/systemd/private":
		return "systemd's private manager socket: control of every service, as root"
	case strings.HasSuffix(p, "system_bus_socket"):
		return "the D-Bus system bus: every system service's interface, as a local user"
	case strings.HasPrefix(p, "/run/user/") && base == "bus":
		return "a user's D-Bus session bus: that user's desktop and secrets services"
	case strings.Contains(p, "/ssh-") && strings.HasPrefix(base, "agent."),
		base == "ssh-agent.socket", base == "ssh-agent.sock", strings.HasSuffix(p, "/keyring/ssh"),
		strings.Contains(p, "/.ssh/agent"), strings.HasSuffix(p, "1password/agent.sock"):
		return "an ssh-agent: signing with the user's SSH keys, on any server they open"
	case strings.HasPrefix(base, "S.gpg-agent"):
		return "a gpg-agent: the user's private keys"
	case strings.Contains(p, "/.X11-unix/X"):
		return "an X server: the display, its keystrokes and its windows"
	case strings.HasPrefix(p, "/run/user/") && strings.HasPrefix(base, "wayland-"):
		return "a Wayland compositor: the user's screen and input"
	case strings.Contains(base, "kcm-socket") || strings.HasSuffix(p, "/sssd/kcm.socket"):
		return "the Kerberos credential cache (KCM): the users' tickets"
	}
	return ""
}

func isRootSocket(p string) bool {
	for _, s := range rootSockets {
		if strings.HasSuffix(p, s) || (strings.HasPrefix(s, "/") && p == s) {
			return true
		}
	}
	return false
}

func desc(s *socatcmd.Single) string {
	if len(s.Params) > 0 && s.Type != "EXEC" && s.Type != "SYSTEM" && s.Type != "SHELL" {
		return sanitize.Text(s.Type+":"+strings.Join(s.Params, ":"), 80)
	}
	return s.Type
}

func truthy(o socatcmd.Option) bool {
	if !o.HasValue {
		return true
	}
	v := strings.TrimSpace(o.Value)
	n, err := strconv.ParseInt(v, 0, 64)
	return err != nil || n != 0
}

func enabled(s *socatcmd.Single, canon string) bool {
	o, ok := s.Option(canon)
	return ok && truthy(o)
}

func hasAny(s *socatcmd.Single, canons ...string) bool {
	for _, c := range canons {
		if s.Has(c) {
			return true
		}
	}
	return false
}

// Audit returns the findings of one subject, in catalogue order.
func Audit(sub Subject) []Finding {
	var out []Finding
	c := sub.Cmd
	prefer := c.Globals.PreferFamily
	singles := c.Singles()

	forkListener := false
	var programs []*socatcmd.Single
	for _, s := range singles {
		if s.Facts(prefer).Role == socatcmd.RoleProgram {
			programs = append(programs, s)
		}
	}

	// Listeners: socat's own, or the systemd socket that hands it
	// connections (ACCEPT-FD, FD or STDIO with a .socket unit).
	type listener struct {
		single   *socatcmd.Single
		facts    socatcmd.Facts
		name     string
		fromUnit bool
	}
	var listeners []listener
	for _, s := range singles {
		f := s.Facts(prefer)
		if f.Role != socatcmd.RoleListen {
			continue
		}
		listeners = append(listeners, listener{single: s, facts: f, name: desc(s)})
		if enabled(s, "fork") {
			forkListener = true
		}
	}
	if sub.Socket != nil {
		for _, s := range singles {
			if s.Type != "ACCEPT-FD" && s.Type != "FD" && s.Type != "STDIO" && s.Type != "STDIN" {
				continue
			}
			for _, l := range sub.Socket.Listen {
				f := socketFacts(l)
				listeners = append(listeners, listener{single: s, facts: f, name: "socket unit " + l.Kind + " " + sanitize.Text(l.Addr, 60), fromUnit: true})
			}
			if sub.Socket.Accept || enabled(s, "fork") {
				forkListener = true
			}
			break
		}
	}

	for _, l := range listeners {
		f, s := l.facts, l.single
		where := "all addresses"
		if f.Host != "" {
			where = sanitize.Text(f.Host, 60)
		}
		// range= that admits loopback peers only is as good as binding
		// to loopback: nobody else gets past the accept.
		exposed := f.Network() && !socatcmd.IsLoopback(f.Host) && !(!l.fromUnit && rangeLoopbackOnly(s))
		if exposed && !f.TLS {
			sub.f(&out, IDPlaintextListener,
				fmt.Sprintf("%s listens on %s without TLS", l.name, where),
				"bind it to loopback (bind=127.0.0.1) or use OPENSSL-LISTEN with cert= and cafile=")
		}
		if exposed && !l.fromUnit && !restricted(s, f) {
			// Verified client certificates (verify=1 with a CA) are
			// access control as much as range= is.
			sub.f(&out, IDNoAccessControl,
				fmt.Sprintf("%s accepts every peer: neither range=, tcpwrap nor verified client certificates", l.name),
				"add range=10.0.0.0/8 (your clients' network) or tcpwrap=NAME")
		}
		if exposed && l.fromUnit {
			sub.f(&out, IDNoAccessControl,
				fmt.Sprintf("%s accepts every peer", l.name),
				"bind the socket unit to the clients' network or add IPAddressAllow=/IPAddressDeny= to it")
		}
		// VSOCK (the host and every guest), a generic socket of another
		// domain, an inherited listening fd: every peer that reaches it
		// is accepted, and socat's range= and tcpwrap do not apply.
		if !l.fromUnit && !f.Network() && !(s.Type == "ACCEPT-FD" && sub.Socket != nil) &&
			(f.Proto == "vsock" || f.Proto == "socket" && f.MayReachOut() || s.Type == "ACCEPT-FD") && !restricted(s, f) {
			sub.f(&out, IDNoAccessControl,
				fmt.Sprintf("%s accepts every peer that reaches it (range= and tcpwrap do not apply to it)", l.name),
				"limit who reaches it (the hypervisor's vsock policy, the inheriting socket's bind and firewall) or put TLS with client certificates in front")
		}
		if !l.fromUnit && enabled(s, "so-reuseport") {
			sub.f(&out, IDReuseport,
				fmt.Sprintf("%s sets reuseport: another process of the same user can bind the port and take connections", l.name),
				"remove reuseport")
		}
		if !l.fromUnit && enabled(s, "fork") && !limitsChildren(s) {
			sub.f(&out, IDUnlimitedChildren,
				fmt.Sprintf("%s forks a child per connection without max-children", l.name),
				"add max-children=N (the concurrency you expect)")
		}
		if !l.fromUnit && (strings.HasPrefix(s.Type, "UNIX-") || strings.HasPrefix(s.Type, "ABSTRACT-")) {
			if reason := worldWritable(s, sub); reason != "" {
				sub.f(&out, IDWorldWritableSocket, reason, "give mode=660 (or 600) with user=/group=, and no umask=000")
			}
		}
		if l.fromUnit && s.Type == "ACCEPT-FD" {
			continue // socat's ACCEPT-FD address itself is checked below
		}
		// An inherited socket (ACCEPT-FD, or stdio under a socket unit),
		// VSOCK and generic sockets may carry the network too.
		network := f.Network() || f.Proto == "vsock" || f.Proto == "socket" || s.Type == "ACCEPT-FD" || l.fromUnit
		for _, other := range c.Other(s) {
			of := other.Facts(prefer)
			if of.Role == socatcmd.RoleProgram {
				// Every connection runs the program, whichever way -u/-U
				// lets the data flow.
				// An inherited fd, VSOCK or a generic socket of unknown reach
				// counts as exposed.
				unknownReach := !l.fromUnit && (s.Type == "ACCEPT-FD" || f.Proto == "vsock" || f.Proto == "socket")
				st := execState(of, !(exposed || unknownReach) || restricted(s, f))
				out = append(out, Finding{ID: IDRemoteExec, State: st, Where: sub.Where, PID: sub.PID, Port: sub.Port,
					Reason: execReason(l.name, other, of), Remedy: execRemedy(of, st)})
			}
			if network && of.Role != socatcmd.RoleListen && isRootSocket(of.Path) {
				sub.f(&out, IDDockerSocket,
					fmt.Sprintf("%s relays the network to %s: %s for anyone who connects", l.name, sanitize.Text(of.Path, 80), socketPowers(of.Path)),
					"do not expose the socket; use the daemon's TLS-authenticated API or an authorizing proxy")
			}
			if what := sensitiveSocket(of.Path); network && of.Role != socatcmd.RoleListen && what != "" {
				sub.f(&out, IDSensitiveSocket,
					fmt.Sprintf("%s relays the network to %s, %s, for anyone who connects", l.name, sanitize.Text(of.Path, 80), what),
					"do not relay this socket to a network address")
			}
		}
	}

	// A program that opens a listener of its own (ncat -l, a socat with a
	// listening address, python -m http.server) is where the relay is
	// exposed, whatever socat itself listens on.
	for _, s := range singles {
		f := s.Facts(prefer)
		if f.Role != socatcmd.RoleProgram {
			continue
		}
		port, tls, ok := socatcmd.ProgramListener(f.Command)
		if !ok || tls {
			continue
		}
		at := "a port of its own"
		if port != "" {
			at = "port " + sanitize.Text(port, 20)
		}
		sub.f(&out, IDPlaintextListener,
			fmt.Sprintf("%s:%s listens itself, on %s without TLS: what socat relays to it is exposed there", s.Type, sanitize.Text(f.Command, 60), at),
			"let socat listen (OPENSSL-LISTEN with cert= and cafile=, or bind=127.0.0.1) and run the program without its listener")
	}

	// Connect-backs: a network connection out to a program is a reverse
	// shell; to a root socket it exposes root to the remote side.
	for _, s := range singles {
		f := s.Facts(prefer)
		if f.Role != socatcmd.RoleConnect || !f.MayReachOut() {
			continue
		}
		for _, other := range c.Other(s) {
			of := other.Facts(prefer)
			if of.Role == socatcmd.RoleProgram && feeds(c, s, other) {
				st := execState(of, false)
				out = append(out, Finding{ID: IDRemoteExec, State: st, Where: sub.Where, PID: sub.PID, Port: sub.Port,
					Reason: execReason(desc(s)+" (a connect-back)", other, of), Remedy: execRemedy(of, st)})
			}
			// (A UNIX listener at that path is socat's own socket, not
			// the credential's: local clients reach the remote side.)
			if what := sensitiveSocket(of.Path); what != "" && of.Role != socatcmd.RoleListen {
				sub.f(&out, IDSensitiveSocket,
					fmt.Sprintf("%s relays %s, %s, to the network", desc(s), sanitize.Text(of.Path, 80), what),
					"do not relay this socket over the network")
			}
			if isRootSocket(of.Path) && of.Role != socatcmd.RoleListen {
				sub.f(&out, IDDockerSocket,
					fmt.Sprintf("%s relays %s to the network", desc(s), sanitize.Text(of.Path, 80)),
					"do not relay the socket over the network")
			}
		}
	}

	// TLS settings.
	for _, s := range singles {
		f := s.Facts(prefer)
		if !f.TLS {
			continue
		}
		if o, ok := s.Option("openssl-verify"); ok && !truthy(o) {
			if f.Role == socatcmd.RoleListen {
				sub.f(&out, IDTLSVerifyOff, fmt.Sprintf("verify=0 on %s: any client is accepted without a certificate", desc(s)),
					"remove verify=0 and give cafile= with the CA of your clients' certificates")
			} else {
				sub.f(&out, IDTLSVerifyOff, fmt.Sprintf("verify=0 on %s: the server's certificate is not checked, a man in the middle goes unnoticed", desc(s)),
					"remove verify=0 and give cafile= with the server's CA")
			}
		}
		verifies := !s.Has("openssl-verify") || enabled(s, "openssl-verify")
		if f.Role == socatcmd.RoleListen && verifies && !hasAny(s, "openssl-cafile", "openssl-capath") {
			sub.f(&out, IDTLSNoCA, fmt.Sprintf("%s verifies clients against every CA of the system store (no cafile= or capath=)", desc(s)),
				"give cafile= with only the CA that issues your clients' certificates")
		}
		if reason := weakProtocol(s); reason != "" {
			sub.f(&out, IDTLSWeakProtocol, fmt.Sprintf("%s on %s", reason, desc(s)), "use min-version=TLS1.2 and no max-version or method below it")
		}
		if o, ok := s.Option("openssl-cipherlist"); ok {
			if weak := WeakCiphers(o.Value); len(weak) > 0 {
				sub.f(&out, IDTLSWeakCipher, fmt.Sprintf("cipher=%s on %s enables %s", sanitize.Text(o.Value, 60), desc(s), strings.Join(weak, ", ")),
					"remove the cipher= option (OpenSSL's default is safe) or use HIGH:!aNULL:!MD5")
			}
		}
		if o, ok := s.Option("openssl-commonname"); ok && strings.TrimSpace(o.Value) == "" && enabled(s, "openssl-no-sni") {
			sub.f(&out, IDTLSNameCheckOff, fmt.Sprintf("empty commonname= with no-sni on %s: the server's name is not checked", desc(s)),
				"remove commonname= (the host name is checked) or set commonname=THE.SERVER.NAME")
		}
	}

	// Where the data goes in clear, and whether connects are retried.
	for _, s := range singles {
		f := s.Facts(prefer)
		if f.Role != socatcmd.RoleConnect {
			continue
		}
		if f.Network() && !f.TLS && f.Host != "" && !socatcmd.IsLoopback(f.Host) {
			sub.f(&out, IDPlaintextForward, fmt.Sprintf("%s sends the data in clear to %s", desc(s), sanitize.Text(f.Host, 60)),
				"use OPENSSL:host:port with cafile= for the hop, or keep the backend on loopback")
		}
		longLived := forkListener || allConnect(c, prefer)
		stream := f.Proto == "tcp" || f.Proto == "unix" || f.Proto == "sctp" || f.Proto == "vsock" || f.Proto == "abstract" || f.Proto == "dccp" ||
			// SOCKET-CONNECT is a stream socket unless so-type says otherwise
			// (man socat: "socktype defaults to SOCK_STREAM").
			s.Type == "SOCKET-CONNECT" && (!s.Has("so-type") || optionIs(s, "so-type", "1"))
		if longLived && stream && !hasAny(s, "retry", "forever") {
			sub.f(&out, IDNoRetry, fmt.Sprintf("%s is not retried: a backend restart fails every connection meanwhile", desc(s)),
				"add retry=5,interval=1 (or forever)")
		}
	}

	if forkListener && !c.Globals.HasInactivity {
		sub.f(&out, IDNoIdleTimeout, "a forking listener without -T: idle connections hold a child forever",
			"add -T 300 (seconds of inactivity before a connection is closed)")
	}
	if c.Globals.Debug < 2 {
		sub.f(&out, IDNoLogging, fmt.Sprintf("%s: connections are not logged", debugText(c.Globals.Debug)),
			"run socat with -d -d (and -lf FILE or -ly to keep the log)")
	}
	if sub.UID == 0 && !dropsPrivileges(singles) {
		id := IDRunsAsRoot
		st := DefaultState(id)
		reason := "runs as root without su= or setuid="
		if len(programs) > 0 {
			st = state.Critical
			reason += fmt.Sprintf(", and runs %s as root", programs[0].Type)
		}
		out = append(out, Finding{ID: id, State: st, Where: sub.Where, PID: sub.PID, Port: sub.Port, Reason: reason,
			Remedy: "add su=nobody (or a service user) to the listening address, or run the service as that user"})
	}
	for _, w := range c.Warnings() {
		sub.f(&out, IDUnparsable, "socat will not run this predictably: "+w, "close the quote or bracket; check with socat -d -d -d -d what it runs")
	}
	if sub.Static {
		for _, s := range singles {
			for _, o := range s.Options {
				if !o.Known {
					sub.f(&out, IDUnparsable, fmt.Sprintf("option %s of %s is unknown to socat 1.7.4 and 1.8: socat refuses to start", sanitize.Text(o.Name, 40), s.Type),
						"fix the option's name (socat -hhh lists them)")
				}
			}
			for _, r := range s.Inapplicable() {
				sub.f(&out, IDUnparsable, fmt.Sprintf("option %s does not apply to %s: socat %s refuses to start (\"not supported with this address type\")", sanitize.Text(r.Option.Name, 40), s.Type, r.Version),
					"remove the option, or use an address type it applies to (socat -hhh lists each type's option groups)")
			}
			if p := s.PortProblem(); p != "" {
				remedy := "give a port number from 1 to 65535, or a service name /etc/services lists"
				if strings.HasPrefix(s.Type, "VSOCK-") {
					remedy = "give the CID and port as numbers (CID 2 is the host)"
				}
				sub.f(&out, IDUnparsable, sanitize.Text(p, 160), remedy)
			}
			if p := s.RangeProblem(); p != "" {
				sub.f(&out, IDUnparsable, sanitize.Text(p, 160), "write the range with its netmask: range=10.0.0.0/8")
			}
		}
	}
	if sub.Files != nil {
		out = append(out, sub.fileFindings(singles)...)
	}
	return out
}

// feeds reports whether data from the network address net reaches the
// program address prog: not with -u when the program is the source (left)
// and the network only the sink, nor with -U the other way round.
func feeds(c *socatcmd.Command, net, prog *socatcmd.Single) bool {
	switch c.Globals.Unidir {
	case 1: // left to right
		return c.Side(net) == 0 && c.Side(prog) == 1
	case 2: // right to left
		return c.Side(net) == 1 && c.Side(prog) == 0
	}
	return true
}

func debugText(n int) string {
	switch n {
	case 0:
		return "no -d"
	case 1:
		return "one -d"
	}
	return strconv.Itoa(n) + " -d"
}

func allConnect(c *socatcmd.Command, prefer int) bool {
	for _, a := range c.Addresses {
		for _, s := range a.Parts {
			if s.Facts(prefer).Role != socatcmd.RoleConnect {
				return false
			}
		}
	}
	return true
}

// dropsPrivileges reports an su=/setuid= option that switches to a user
// other than root (su=root or setuid=0 drop nothing).
func dropsPrivileges(singles []*socatcmd.Single) bool {
	for _, s := range singles {
		for _, name := range []string{"substuser", "substuser-delayed", "substuser-early", "setuid", "setuid-early"} {
			if o, ok := s.Option(name); ok && !isRootUser(o.Value) {
				return true
			}
		}
	}
	return false
}

func isRootUser(v string) bool {
	v = strings.TrimSpace(v)
	if v == "root" {
		return true
	}
	n, err := strconv.ParseUint(v, 0, 32)
	return err == nil && n == 0
}

// peerLimits are the options that restrict which peers a listener takes.
var peerLimits = []string{"tcpwrappers", "tcpwrap-etc", "tcpwrap-hosts-allow-table", "tcpwrap-hosts-deny-table"}

// limitsPeers reports tcpwrap, or a range= that is not everything
// (0.0.0.0/0, ::/0, or a zero netmask admit every peer).
func limitsPeers(s *socatcmd.Single) bool {
	if hasAny(s, peerLimits...) {
		return true
	}
	o, ok := s.Option("range")
	return ok && !admitsAll(o.Value)
}

// rangeLoopbackOnly reports a range= whose every address is loopback
// (127.0.0.0/8, ::1): 127.0.0.1/32, 127.0.0.0:255.0.0.0, [::1]/128.
func rangeLoopbackOnly(s *socatcmd.Single) bool {
	o, ok := s.Option("range")
	if !ok {
		return false
	}
	v := strings.TrimSpace(o.Value)
	addr, bits := v, -1
	if a, m, ok := strings.Cut(v, "/"); ok {
		addr = a
		n, err := strconv.Atoi(m)
		if err != nil {
			return false
		}
		bits = n
	} else if a, m, ok := strings.Cut(v, ":"); ok && !strings.Contains(m, ":") && strings.Count(v, ".") >= 3 {
		mask, err := netip.ParseAddr(m)
		if err != nil || !mask.Is4() {
			return false
		}
		addr = a
		// Only a contiguous mask is a prefix: 0.255.0.0 admits any
		// first byte, loopback or not.
		m32 := uint32(0)
		for _, x := range mask.As4() {
			m32 = m32<<8 | uint32(x)
		}
		if m32 != 0 && ^m32&(^m32+1) != 0 {
			return false
		}
		bits = 0
		for m32&(1<<31) != 0 {
			bits++
			m32 <<= 1
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		return false
	}
	if bits < 0 {
		bits = ip.BitLen()
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return false
	}
	if ip.Unmap().Is4() {
		return netip.MustParsePrefix("127.0.0.0/8").Overlaps(p) && p.Bits() >= 8
	}
	return p.Bits() == 128 && ip == netip.IPv6Loopback()
}

func admitsAll(r string) bool {
	r = strings.TrimSpace(r)
	_, mask, ok := strings.Cut(r, "/")
	if !ok {
		_, mask, ok = strings.Cut(r, ":") // socat also takes ADDR:MASK (IPv4)
		if !ok || strings.Contains(mask, ":") {
			return false
		}
	}
	if bits, err := strconv.Atoi(mask); err == nil {
		return bits == 0
	}
	m, err := netip.ParseAddr(mask)
	return err == nil && m.IsUnspecified()
}

func execReason(from string, prog *socatcmd.Single, f socatcmd.Facts) string {
	return fmt.Sprintf("%s hands every connection to %s:%s (%s)", from, prog.Type, sanitize.Text(f.Command, 60), socatcmd.ProgramKind(f.Command))
}

// execState: a shell or an interpreter is always CRITICAL; another
// program (a fixed relay too) is WARNING when only local users or
// restricted peers reach it.
func execState(f socatcmd.Facts, limited bool) state.State {
	if k := socatcmd.ProgramKind(f.Command); !limited || k == socatcmd.KindShell || k == socatcmd.KindInterpreter {
		return state.Critical
	}
	return state.Warning
}

// restricted reports whether a listener limits its peers: range=, tcpwrap,
// or a TLS listener that verifies clients against a given CA.
func restricted(s *socatcmd.Single, f socatcmd.Facts) bool {
	if limitsPeers(s) {
		return true
	}
	verifies := !s.Has("openssl-verify") || enabled(s, "openssl-verify")
	return f.TLS && verifies && privateCA(s)
}

// publicBundles are the system's bundles of public CAs: a listener that
// trusts them admits anyone who can buy a certificate.
var publicBundles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs", "/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/tls/cert.pem", "/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/ca-bundle.pem", "/usr/share/ca-certificates", "/etc/ca-certificates"}

// privateCA reports a cafile= or capath= other than the public bundles.
func privateCA(s *socatcmd.Single) bool {
	for _, name := range []string{"openssl-cafile", "openssl-capath"} {
		if o, ok := s.Option(name); ok {
			v := strings.TrimRight(strings.TrimSpace(o.Value), "/")
			public := false
			for _, b := range publicBundles {
				if v == b || strings.HasPrefix(v, "/usr/share/ca-certificates/") {
					public = true
				}
			}
			if !public {
				return true
			}
		}
	}
	return false
}

func execRemedy(f socatcmd.Facts, st state.State) string {
	switch k := socatcmd.ProgramKind(f.Command); {
	case k == socatcmd.KindShell || k == socatcmd.KindInterpreter:
		return "remove it: a shell or interpreter behind a socket is a remote shell"
	case st == state.Warning:
		return "keep the program's input strictly validated and run it as an unprivileged user (su=); --ignore remote-exec@PORT once reviewed"
	}
	return "bind to loopback, restrict peers (range=, TLS client certificates) and run the program as an unprivileged user (su=)"
}

// optionIs reports whether the option's value is v.
func optionIs(s *socatcmd.Single, name, v string) bool {
	o, ok := s.Option(name)
	return ok && strings.TrimSpace(o.Value) == v
}

// limitsChildren reports a max-children of at least 1 (0 is unlimited).
func limitsChildren(s *socatcmd.Single) bool {
	o, ok := s.Option("max-children")
	if !ok || !o.HasValue {
		return false
	}
	if strings.Contains(o.Value, "$") {
		return true // set from a variable: a limit is meant, its value is not known here
	}
	n, err := strconv.ParseInt(strings.TrimSpace(o.Value), 0, 64)
	return err == nil && n >= 1
}

// weakProtocol says which TLS setting allows a protocol below TLS 1.2.
func weakProtocol(s *socatcmd.Single) string {
	weak := func(v string) bool {
		v = strings.ToUpper(strings.NewReplacer("V", "", "_", ".", " ", "").Replace(strings.ToUpper(v)))
		switch v {
		case "SSL2", "SSL3", "SSL2.0", "SSL3.0", "TLS1", "TLS1.0", "TLS1.1", "TLS10", "TLS11":
			return true
		}
		return false
	}
	if o, ok := s.Option("openssl-min-proto-version"); ok && weak(o.Value) {
		return fmt.Sprintf("min-version=%s allows it", sanitize.Text(o.Value, 20))
	}
	if o, ok := s.Option("openssl-max-proto-version"); ok && weak(o.Value) {
		return fmt.Sprintf("max-version=%s caps the protocol below TLS 1.2", sanitize.Text(o.Value, 20))
	}
	if o, ok := s.Option("openssl-method"); ok && weak(strings.TrimSuffix(strings.ToUpper(o.Value), "-METHOD")) {
		return fmt.Sprintf("method=%s selects an old protocol", sanitize.Text(o.Value, 20))
	}
	return ""
}

// socketFacts turns a socket unit's ListenStream= into listener facts.
func socketFacts(l socatcmd.Listen) socatcmd.Facts {
	f := socatcmd.Facts{Role: socatcmd.RoleListen, Proto: "tcp"}
	if l.Kind == "datagram" {
		f.Proto = "udp"
	}
	a := l.Addr
	switch {
	case strings.HasPrefix(a, "/") || strings.HasPrefix(a, "@"):
		f.Proto, f.Path = "unix", a
	case strings.HasPrefix(a, "vsock:"):
		f.Proto = "vsock"
	default:
		if i := strings.LastIndex(a, ":"); i >= 0 && !strings.HasSuffix(a, "]") {
			f.Host, f.Port = strings.Trim(a[:i], "[]"), a[i+1:]
		} else {
			f.Port = a
		}
		f.Family = 4
		if strings.Contains(f.Host, ":") {
			f.Family = 6
		}
	}
	return f
}

var _ = path.Base

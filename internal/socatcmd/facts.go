package socatcmd

import (
	"encoding/hex"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Role is what an address does.
type Role int

// The roles of an address.
const (
	RoleOther   Role = iota // files, devices, stdio, pipes, ptys
	RoleListen              // accepts connections or datagrams from a socket
	RoleConnect             // connects out, or sends datagrams out
	RoleProgram             // EXEC, SYSTEM, SHELL
)

func (r Role) String() string {
	return [...]string{"other", "listen", "connect", "program"}[r]
}

// Facts are what an auditor needs to know about one single address.
type Facts struct {
	Role   Role
	Proto  string // tcp, udp, sctp, dccp, udplite, unix, abstract, vsock, ip, socket; "" for others
	Family int    // 4 or 6; 0 when either
	TLS    bool
	// Host is the connect target, or the bind address of a listener ("" =
	// the wildcard); Port is as written (a number or a service name).
	Host, Port string
	// Path is the UNIX socket or file path.
	Path string
	// Command is the program line of EXEC/SYSTEM/SHELL.
	Command string
	local   bool // a generic socket known not to leave the host
}

// Facts derives the facts of a single address; prefer holds -4/-6.
func (s *Single) Facts(prefer int) Facts {
	t := s.Type
	f := Facts{TLS: s.inGroup("OPENSSL")}
	switch {
	case strings.Contains(t, "4-") || strings.HasSuffix(t, "4"):
		f.Family = 4
	case strings.Contains(t, "6-") || strings.HasSuffix(t, "6"):
		f.Family = 6
	}
	if f.Family == 0 {
		if o, ok := s.Option("protocol-family"); ok {
			switch strings.ToLower(o.Value) {
			case "ip4", "ipv4", "inet", "2":
				f.Family = 4
			case "ip6", "ipv6", "inet6", "10":
				f.Family = 6
			}
		}
	}
	head := strings.SplitN(t, "-", 2)[0]
	proto := strings.TrimRight(head, "46")
	switch proto {
	case "TCP", "UDP", "SCTP", "DCCP", "UDPLITE", "UNIX", "ABSTRACT", "VSOCK", "IP", "SOCKET":
		f.Proto = strings.ToLower(proto)
	case "OPENSSL":
		f.Proto = "tcp"
		if strings.Contains(t, "DTLS") {
			f.Proto = "udp"
		}
	case "PROXY", "SOCKS", "SOCKS4A", "SOCKS5": // SOCKS4 is SOCKS once the 4 is trimmed
		f.Proto = "tcp"
	case "ACCEPT":
		f.Proto = "socket"
	}
	param := func(name string) string {
		for i, p := range s.def.params {
			if p == name && i < len(s.Params) {
				return s.Params[i]
			}
		}
		return ""
	}
	switch {
	case t == "EXEC" || t == "SYSTEM" || t == "SHELL":
		f.Role = RoleProgram
		if len(s.Params) > 0 {
			f.Command = s.Params[0]
		}
		if t == "SHELL" && f.Command == "" {
			f.Command = "$SHELL"
		}
	case s.inGroup("LISTEN") || strings.HasSuffix(t, "-RECVFROM") || strings.HasSuffix(t, "-RECV") ||
		t == "POSIXMQ-RECEIVE" && s.Has("fork"):
		if strings.HasPrefix(t, "SOCKS5") {
			f.Role, f.Host, f.Port = RoleConnect, param("socks-server"), param("socks-port")
			break
		}
		f.Role = RoleListen
		f.Port = param("port")
		f.Path = param("filename")
		if o, ok := s.Option("bind"); ok {
			f.Host, _ = splitHostPort(o.Value)
		}
		if f.Proto == "udp" && f.Port == "" && strings.HasPrefix(t, "OPENSSL") {
			f.Port = param("port")
		}
	case f.Proto != "":
		f.Role = RoleConnect
		switch {
		case strings.HasPrefix(t, "PROXY"):
			f.Host, f.Port = param("proxy-server"), optionOr(s, "proxyport", "8080")
		case strings.HasPrefix(t, "SOCKS5"):
			f.Host, f.Port = param("socks-server"), param("socks-port")
			if f.Port == "" {
				f.Port = "1080"
			}
		case strings.HasPrefix(t, "SOCKS"):
			f.Host, f.Port = param("socks-server"), optionOr(s, "socksport", "1080")
		case t == "VSOCK-CONNECT":
			f.Host, f.Port = param("cid"), param("port")
		default:
			f.Host, f.Port = param("host"), param("port")
		}
		f.Path = param("filename")
		if t == "SOCKETPAIR" {
			f.Role = RoleOther
		}
	default:
		f.Role = RoleOther
		f.Path = param("filename")
	}
	if f.Proto == "socket" && strings.HasPrefix(t, "SOCKET-") {
		genericSocket(&f, param("domain"), param("remote-address")+param("local-address"))
	}
	if f.Family == 0 && f.Role == RoleListen && (f.Proto == "tcp" || f.Proto == "udp" || f.Proto == "sctp" || f.Proto == "dccp" || f.Proto == "udplite") {
		switch {
		case f.Host != "":
			if a, err := netip.ParseAddr(strings.Trim(f.Host, "[]")); err == nil && a.Is6() && !a.Is4In6() {
				f.Family = 6
			} else {
				f.Family = 4
			}
		case prefer != 0:
			f.Family = prefer
		default:
			f.Family = 4 // socat 1.7.4 listens on 0.0.0.0 unless told otherwise
		}
	}
	return f
}

func optionOr(s *Single, canon, def string) string {
	if o, ok := s.Option(canon); ok && o.HasValue {
		return o.Value
	}
	return def
}

// splitHostPort splits "host:port", "[v6]:port", "host" and "[v6]".
func splitHostPort(s string) (host, port string) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			host, rest := s[1:i], s[i+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
	}
	if strings.Count(s, ":") == 1 {
		h, p, _ := strings.Cut(s, ":")
		return h, p
	}
	return s, ""
}

// IsLoopback reports whether a host is a loopback name or address.
func IsLoopback(host string) bool {
	h := strings.Trim(strings.ToLower(host), "[]")
	switch h {
	case "localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain":
		return true
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().IsLoopback()
	}
	return false
}

// ListenPort returns the numeric listen port of a TCP/UDP listener, 0
// when there is none or it is a service name.
func (f Facts) ListenPort() int {
	if f.Role != RoleListen {
		return 0
	}
	n, err := strconv.Atoi(f.Port)
	if err != nil || n < 0 || n > 65535 {
		return 0
	}
	return n
}

// Network reports whether the address talks over IP (not UNIX, files...).
// A generic SOCKET-* address does when its domain is AF_INET or AF_INET6.
func (f Facts) Network() bool {
	switch f.Proto {
	case "tcp", "udp", "sctp", "dccp", "udplite", "ip":
		return true
	case "socket":
		return f.Family != 0
	}
	return false
}

// MayReachOut reports whether a connecting address may leave the host:
// the network, VSOCK (the hypervisor and other guests), or a generic
// socket whose domain is not known.
func (f Facts) MayReachOut() bool {
	return f.Network() || f.Proto == "vsock" || (f.Proto == "socket" && !f.local)
}

// genericSocket reads the domain of a SOCKET-* address (2 AF_INET, 10
// AF_INET6, 1 AF_UNIX) and, for IP, the port and address from its
// sockaddr data, given in hex as socat takes it (x-separated groups):
// sin_port then sin_addr, or sin6_port, sin6_flowinfo, then sin6_addr.
func genericSocket(f *Facts, domain, data string) {
	n, err := strconv.ParseInt(strings.TrimSpace(domain), 0, 32)
	if err != nil {
		return
	}
	var b []byte
	if h := strings.ReplaceAll(data, "x", ""); len(h)%2 == 0 {
		b, _ = hex.DecodeString(h)
	}
	var addrAt, size int // where the address sits in the data, after the port
	switch n {
	case 1:
		f.Proto, f.local = "unix", true
		return
	case 2:
		f.Family, addrAt, size = 4, 2, 4
	case 10:
		f.Family, addrAt, size = 6, 6, 16
	default:
		f.local = n == 16 // AF_NETLINK: the kernel
		return
	}
	if len(b) < addrAt+size {
		return
	}
	f.Port = strconv.Itoa(int(b[0])<<8 | int(b[1]))
	if a, ok := netip.AddrFromSlice(b[addrAt : addrAt+size]); ok && (!a.IsUnspecified() || f.Role != RoleListen) {
		f.Host = a.String()
	}
}

// Singles returns every single address of the command, in order.
func (c *Command) Singles() []*Single {
	var out []*Single
	for _, a := range c.Addresses {
		out = append(out, a.Parts...)
	}
	return out
}

// Side is the index (0 or 1) of the address a single belongs to.
func (c *Command) Side(s *Single) int {
	for _, p := range c.Addresses[1].Parts {
		if p == s {
			return 1
		}
	}
	return 0
}

// Listeners returns the listening single addresses.
func (c *Command) Listeners() []*Single {
	var out []*Single
	for _, s := range c.Singles() {
		if s.Facts(c.Globals.PreferFamily).Role == RoleListen {
			out = append(out, s)
		}
	}
	return out
}

// Other returns the singles of the other address than s's.
func (c *Command) Other(s *Single) []*Single {
	return c.Addresses[1-c.Side(s)].Parts
}

// ProgramBase is the program a command line runs: "bash" for
// "/bin/bash -i", "python3" for "env python3 -c ...", "bash" for
// "sudo -u bob /bin/bash" or "script -qc /bin/bash". Of a list or a
// pipeline ("exec 2>&1; bash -i", "tee log | sh") it is the first shell
// or interpreter, else the first program.
func ProgramBase(command string) string {
	cmds, err := SplitShell(command)
	if err != nil || len(cmds) == 0 {
		if f := strings.Fields(command); len(f) > 0 {
			return path.Base(f[0])
		}
		return ""
	}
	first := ""
	for _, argv := range cmds {
		base := simpleBase(argv)
		if IsShell(base) || IsInterpreter(base) {
			return base
		}
		if first == "" {
			first = base
		}
	}
	return first
}

// simpleBase is the program of one simple command, through wrappers and
// the -c argument of script and su.
func simpleBase(argv []string) string {
	// A subshell or a group runs what is inside it: (bash), { bash; }.
	argv = append([]string(nil), argv...)
	for len(argv) > 0 && (argv[0] == "(" || argv[0] == "{" || argv[0] == "!") {
		argv = argv[1:]
	}
	if len(argv) > 0 {
		argv[0] = strings.TrimRight(strings.TrimLeft(argv[0], "("), ")")
	}
	if len(argv) == 0 {
		return ""
	}
	wrapper := path.Base(argv[0])
	if wrapper == "runuser" && !slices.Contains(argv, "-u") && !slices.Contains(argv, "--user") {
		// runuser [-l] USER [-c CMD] runs CMD or USER's login shell
		// (runuser -u USER [--] CMD runs CMD: the wrappers below).
		for i := 1; i+1 < len(argv); i++ {
			a := argv[i]
			if a == "--" {
				break
			}
			if a == "-c" || a == "--command" {
				return ProgramBase(argv[i+1])
			}
		}
		return "$SHELL"
	}
	if runsShellAlone[wrapper] && onlyOptions(argv[1:], wrapper == "chroot") {
		// unshare -r, sudo -s, chroot /jail: with no command after their
		// options they run a shell.
		return "$SHELL"
	}
	argv = stripWrappers(argv)
	if len(argv) == 0 {
		return ""
	}
	base := path.Base(argv[0])
	// docker/podman/nerdctl exec [options] CONTAINER CMD..., kubectl exec
	// [options] POD [--] CMD...: the command inside the container.
	if (base == "docker" || base == "podman" || base == "nerdctl" || base == "kubectl") && len(argv) > 1 && argv[1] == "exec" {
		rest := argv[2:]
		if i := slices.Index(rest, "--"); base == "kubectl" && i >= 0 && i+1 < len(rest) {
			return simpleBase(rest[i+1:]) // kubectl takes options after the pod too
		}
		for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "--" {
			if containerOptionWithValue[rest[0]] && len(rest) > 1 {
				rest = rest[1:]
			}
			rest = rest[1:]
		}
		if len(rest) > 1 {
			rest = rest[1:] // the container or pod
			if rest[0] == "--" {
				rest = rest[1:]
			}
			if len(rest) > 0 {
				return simpleBase(rest)
			}
		}
		return base
	}
	if base == "script" || base == "su" {
		for i, a := range argv[1:] {
			if strings.HasPrefix(a, "-") && strings.Contains(a, "c") && i+2 < len(argv) {
				if inner := ProgramBase(argv[i+2]); inner != "" {
					return inner
				}
			}
		}
	}
	return base
}

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "busybox": true, "toybox": true, "rbash": true, "$SHELL": true, "login": true,
	"su": true, "yash": true, "posh": true, "oksh": true, "loksh": true, "pdksh": true, "elvish": true, "nu": true,
	"xonsh": true, "cmd": true, "powershell": true, "pwsh": true, "command.com": true}

// runsShellAlone are wrappers that start a shell when no command follows.
var runsShellAlone = map[string]bool{"unshare": true, "nsenter": true, "chroot": true, "sudo": true, "doas": true}

// onlyOptions reports words that are all options (or, with onePositional,
// options and a single other word: chroot's NEWROOT).
func onlyOptions(words []string, onePositional bool) bool {
	other := 0
	for _, w := range words {
		if !strings.HasPrefix(w, "-") {
			other++
		}
	}
	return other == 0 || (onePositional && other == 1)
}

// containerOptionWithValue are options of docker/podman/kubectl exec that
// take the next word.
var containerOptionWithValue = map[string]bool{"-u": true, "--user": true, "-e": true, "--env": true, "-w": true,
	"--workdir": true, "-c": true, "--container": true, "-n": true, "--namespace": true, "--env-file": true,
	"--detach-keys": true, "--context": true, "--kubeconfig": true}

var interpreterPrefix = []string{"python", "pypy", "jython", "perl", "ruby", "jruby", "php", "node", "nodejs", "lua", "luajit",
	"tclsh", "wish", "irb", "julia", "erl", "iex", "elixir", "ghci", "ocaml", "sbcl", "clisp", "scheme", "guile",
	"java", "jshell", "guile", "racket", "awk", "gawk", "mawk", "nawk", "expect", "R", "Rscript",
	"deno", "bun", "osascript", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "gdb", "vim", "vi", "emacs"}

// IsShell reports whether a program is a command shell (Windows' cmd.exe
// and PowerShell too).
func IsShell(base string) bool {
	base = normalBase(base)
	return shells[base] || shells[strings.ToLower(base)] || shells[strings.TrimRight(base, "0123456789.")] // ksh93, bash5.2, PowerShell.exe
}

// IsInterpreter reports whether a program runs code it is given (a
// language interpreter, or a tool that spawns commands).
func IsInterpreter(base string) bool {
	for _, p := range interpreterPrefix {
		if base == p || (strings.HasPrefix(base, p) && strings.Trim(base[len(p):], "0123456789.") == "") {
			return true
		}
	}
	return false
}

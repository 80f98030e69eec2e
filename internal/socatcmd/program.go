package socatcmd

import (
	"path"
	"strconv"
	"strings"
)

// What a program behind EXEC, SYSTEM or SHELL is, for remote-exec's
// words and state.
const (
	KindShell       = "a shell"
	KindInterpreter = "an interpreter"
	KindRelay       = "a relay with fixed addresses" // socat, nc or telnet to one place: no code a peer drives
	KindProgram     = "a program"
)

// programArgv is the argv of the program ProgramBase names, through the
// wrappers (sudo, env, ip netns exec...), or nil.
func programArgv(command string) []string {
	cmds, err := SplitShell(command)
	if err != nil {
		return nil
	}
	want := normalBase(ProgramBase(command))
	for _, argv := range cmds {
		for len(argv) > 0 && (argv[0] == "(" || argv[0] == "{" || argv[0] == "!") {
			argv = argv[1:]
		}
		argv = stripWrappers(argv)
		if len(argv) > 0 && normalBase(argv[0]) == want {
			return argv
		}
	}
	return nil
}

// normalBase is a program's name without its directory or a Windows .exe.
func normalBase(p string) string {
	b := path.Base(strings.ReplaceAll(p, `\`, "/"))
	if len(b) > 4 && strings.EqualFold(b[len(b)-4:], ".exe") {
		b = b[:len(b)-4]
	}
	return b
}

// ProgramKind classifies the program a command runs.
func ProgramKind(command string) string {
	base := ProgramBase(command)
	switch {
	case IsShell(base):
		return KindShell
	case isNetcat(base) || base == "telnet" || IsSocatProgram(base):
		argv := programArgv(command)
		if argv == nil {
			return KindInterpreter
		}
		if IsSocatProgram(base) {
			return socatKind(argv)
		}
		if base == "telnet" {
			return KindRelay
		}
		for _, a := range argv[1:] {
			if a == "-e" || a == "-c" || strings.HasPrefix(a, "--exec") || strings.HasPrefix(a, "--sh-exec") || strings.HasPrefix(a, "--lua-exec") ||
				(len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], "ec")) {
				return KindInterpreter // nc -e /bin/sh: it runs commands
			}
		}
		return KindRelay
	case IsInterpreter(base):
		return KindInterpreter
	}
	return KindProgram
}

// socatKind: a socat run by socat is a relay when its own addresses run
// nothing; else what they run.
func socatKind(argv []string) string {
	c, err := Parse(argv)
	if err != nil {
		return KindInterpreter // unreadable: assume the worst
	}
	kind := KindRelay
	for _, s := range c.Singles() {
		f := s.Facts(c.Globals.PreferFamily)
		if f.Role == RoleProgram {
			switch k := ProgramKind(f.Command); k {
			case KindShell, KindInterpreter:
				return k
			case KindProgram:
				kind = KindProgram
			}
		}
	}
	return kind
}

// netcatValueOptions take the next word as their value (nc, ncat).
var netcatValueOptions = map[string]bool{"-w": true, "-q": true, "-i": true, "-m": true, "-W": true, "-T": true, "-X": true,
	"-x": true, "-O": true, "-I": true, "--wait": true, "--idle-timeout": true, "--max-conns": true, "--allow": true,
	"--deny": true, "--proxy": true, "--proxy-type": true, "--delay": true}

func isNetcat(base string) bool {
	return base == "nc" || base == "ncat" || base == "netcat" || strings.HasPrefix(base, "nc.") || base == "pnetcat"
}

// ProgramListener reports a program that opens a network listener of
// its own, reachable beyond loopback (nc -l, ncat -l, a socat with a
// listening address, python -m http.server, php -S): whatever the relay
// hands it is exposed there. It returns the port as written ("" when it
// cannot be told) and whether the listener speaks TLS (ncat --ssl,
// OPENSSL-LISTEN). A listener on loopback, a UNIX socket (nc -lU), or
// ncat --allow of loopback peers only is no exposure.
func ProgramListener(command string) (port string, tls, ok bool) {
	argv := programArgv(command)
	if len(argv) > 1 && normalBase(argv[0]) == "busybox" {
		argv = argv[1:] // busybox nc -l -p 9000
	}
	if len(argv) == 0 {
		return "", false, false
	}
	base := normalBase(argv[0])
	args := argv[1:]
	switch {
	case isNetcat(base):
		listen := false
		allowsLoopback, allowsOther := false, false
		for i, a := range args {
			short := len(a) > 1 && a[0] == '-' && a[1] != '-'
			if a == "--unixsock" || short && strings.Contains(a[1:], "U") {
				return "", false, false // a UNIX socket
			}
			switch {
			case a == "--listen" || short && strings.Contains(a[1:], "l"):
				listen = true
			case a == "--ssl":
				tls = true
			case (a == "--allow" || a == "-s" || a == "--source") && i+1 < len(args):
				// Loopback only when every --allow (or the bind
				// address -s) is loopback.
				if IsLoopback(args[i+1]) {
					allowsLoopback = true
				} else {
					allowsOther = true
				}
			}
			if i == len(args)-2 && !strings.HasPrefix(a, "-") && IsLoopback(a) {
				return "", false, false // nc -l 127.0.0.1 9000: the host before the port
			}
			if (a == "-p" || a == "--source-port") && i+1 < len(args) {
				port = args[i+1]
			} else if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(strings.TrimRight(a, "0123456789"), "p") && strings.TrimLeft(a[strings.LastIndexByte(a, 'p')+1:], "0123456789") == "" && a[strings.LastIndexByte(a, 'p')+1:] != "" {
				port = a[strings.LastIndexByte(a, 'p')+1:] // -lp10000
			}
		}
		if !listen || allowsLoopback && !allowsOther {
			return "", false, false
		}
		if port == "" {
			// ncat -l 10000, nc -l 127.0.0.1 10000: the first bare number
			// that is no option's value (-w 5, -q 1, -i 2).
			for i, a := range args {
				if _, err := strconv.Atoi(a); err != nil {
					continue
				}
				if i > 0 && netcatValueOptions[args[i-1]] {
					continue
				}
				port = a
				break
			}
		}
		return port, tls, true
	case IsSocatProgram(base):
		c, err := Parse(argv)
		if err != nil {
			return "", false, false
		}
		for _, s := range c.Singles() {
			if f := s.Facts(c.Globals.PreferFamily); f.Role == RoleListen && f.Network() && !IsLoopback(f.Host) {
				return f.Port, f.TLS, true
			}
		}
	case strings.HasPrefix(base, "python"):
		for i, a := range args {
			if a == "-m" && i+1 < len(args) && (args[i+1] == "http.server" || args[i+1] == "SimpleHTTPServer") {
				port = "8000"
				rest := args[i+2:]
				for j, b := range rest {
					if (b == "--bind" || b == "-b") && j+1 < len(rest) && IsLoopback(rest[j+1]) {
						return "", false, false
					}
					if _, err := strconv.Atoi(b); err == nil && (j == 0 || (rest[j-1] != "--bind" && rest[j-1] != "-b")) {
						port = b
					}
				}
				return port, false, true
			}
		}
	case strings.HasPrefix(base, "php"):
		for i, a := range args {
			if a == "-S" && i+1 < len(args) {
				h, p, _ := strings.Cut(args[i+1], ":")
				if IsLoopback(h) || h == "localhost" {
					return "", false, false
				}
				return p, false, true
			}
		}
	}
	return "", false, false
}

// LooksLikeSocat reports whether argv reads as socat's own command line,
// whatever its program is called: socat's options, then exactly two
// addresses that parse, at least one naming a socat address type
// explicitly (TCP-LISTEN:..., EXEC:...; a bare word or number alone is
// not evidence). A renamed copy of socat run by another user is
// recognised by it when its executable cannot be read.
func LooksLikeSocat(argv []string) bool {
	if len(argv) < 3 {
		return false
	}
	c, err := Parse(append([]string{"socat"}, argv[1:]...))
	if err != nil {
		return false
	}
	for _, s := range c.Singles() {
		if s.Keyword != "" && s.def != nil && s.Type != "GOPEN" && s.Type != "FD" && s.Type != "STDIO" {
			return true
		}
	}
	return false
}

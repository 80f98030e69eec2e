package socatcmd

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"
)

// substitutionEnd is the index after the $(...) or `...` that starts at
// line[i] (nested parentheses and quotes inside followed), or the end.
func substitutionEnd(line string, i int) int {
	if line[i] == '`' {
		if j := strings.IndexByte(line[i+1:], '`'); j >= 0 {
			return i + 1 + j + 1
		}
		return i + 1
	}
	depth := 0
	var quote byte
	for j := i + 1; j < len(line); j++ {
		c := line[j]
		switch {
		case c == '\\' && quote != '\'':
			j++ // an escaped character, quote or parenthesis
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	// No end found (a case pattern's ")", an odd quote): only "$(" is
	// taken as written, and the rest is split as usual, so that a socat
	// after it is still found.
	return i + 2
}

// SplitShell splits a command line as a POSIX shell would, without any
// expansion: blanks separate words, '...' is literal, "..." keeps all but
// \" \\ \$ \` and a backslash escapes the next character. A comment ends
// the line. Variables ($HOST) and command substitutions ($(...), `...`) stay as
// written, each within its word: their values are unknown.
// Unquoted control operators (; | & && ||) split commands: the result is
// one argv per command.
func SplitShell(line string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 < len(line) {
				i++
				if line[i] != '\n' {
					w.WriteByte(line[i])
					inWord = true
				}
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`\n", line[i+1]) >= 0 {
					i++
					if line[i] == '\n' {
						continue
					}
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated \" quote")
			}
		case c == '$' && i+1 < len(line) && line[i+1] == '(' || c == '`':
			// A command substitution is one piece of the word, spaces
			// and all: TCP:$(minikube ip):5000. It stays as written.
			j := substitutionEnd(line, i)
			w.WriteString(line[i:j])
			inWord = true
			i = j - 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if c == '\n' {
				flushCmd()
			}
			flushWord()
		case c == '#' && !inWord:
			j := strings.IndexByte(line[i:], '\n')
			if j < 0 {
				i = len(line)
			} else {
				i += j - 1
			}
		case c == '&' && i+1 < len(line) && line[i+1] == '>':
			flushWord() // &> FILE: a redirection, handled by the next case
		case c == ';' || c == '|' || c == '&':
			flushCmd()
			if i+1 < len(line) && (line[i+1] == c) {
				i++ // && || ;;
			}
		case (c == '>' || c == '<') && inWord && isDigits(w.String()):
			// 2>&1, 2>/var/log/x: the digits are a file descriptor.
			w.Reset()
			inWord = false
			i--
		case (c == '>' || c == '<') && !inWord:
			// a redirection: skip the operator and its target word
			flushWord()
			j := i + 1
			for j < len(line) && strings.IndexByte("<>&|", line[j]) >= 0 {
				j++
			}
			for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
				j++
			}
			for j < len(line) && strings.IndexByte(" \t\n;|&", line[j]) < 0 {
				j++
			}
			i = j - 1
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return cmds, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// wrappers are programs that run another command given after their own
// options: exec socat, nohup socat, sudo -u x socat, env A=b socat...
// The value says how many option arguments the wrapper takes before the
// command (-1: skip words while they look like options or assignments).
var wrappers = map[string]int{
	"exec": -1, "nohup": -1, "env": -1, "setsid": -1, "nice": -1, "ionice": -1,
	"stdbuf": -1, "chrt": -1, "taskset": -1, "sudo": -1, "doas": -1, "runuser": -1,
	"timeout": -1, "tini": -1, "dumb-init": -1, "catatonit": -1, "setpriv": -1, "chroot": 1,
	"unbuffer": -1, "daemon": -1, "start-stop-daemon": -1, "ip": -1, "nsenter": -1,
	"su-exec": 1, "gosu": 1, "chpst": -1, "s6-setuidgid": 1, "setuidgid": 1,
	"rlwrap": -1, "unshare": -1, "firejail": -1,
}

// positionalArgs are wrappers that take bare words before the program.
var positionalArgs = map[string]int{"timeout": 1, "ip": 3, "taskset": 1, "chrt": 1}

// optionsWithValue are wrapper options whose value is the next word.
var optionsWithValue = map[string]bool{
	"-u": true, "-g": true, "-n": true, "-c": false, "-U": true, "-C": true, "-s": true,
	"-k": true, "--user": true, "--group": true, "--signal": true, "--kill-after": true,
	"-i": false, "-o": true, "-e": true, "-p": true, "--pidfile": true, "--chuid": true,
	"--exec": true, "-t": true, "--target": true, "--reuid": true, "--regid": true,
}

// The regular expressions are compiled when first used, not at every
// start.
var socatName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^socat[0-9.]*(\.exe)?$`) })
var assignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

// IsSocatProgram reports whether a program path names socat (socat,
// socat1, /usr/local/bin/socat...).
func IsSocatProgram(p string) bool { return socatName().MatchString(path.Base(p)) }

// FindSocat finds the socat command in a command line as a user, a
// Dockerfile or a unit writes it: behind wrappers (exec, env A=b, sudo -u
// x, nohup...), inside `sh -c '...'`, or as one of several commands
// joined by ; && |. It returns socat's argv.
func FindSocat(cmds [][]string) ([]string, error) {
	for depth := 0; depth < 4; depth++ {
		var inner [][]string
		for _, argv := range cmds {
			argv = stripWrappers(argv)
			if len(argv) == 0 {
				continue
			}
			if IsSocatProgram(argv[0]) {
				return argv, nil
			}
			if args, socatImage, ok := containerRun(argv); ok {
				if socatImage {
					return append([]string{"socat"}, args...), nil
				}
				if len(args) > 0 {
					// Another image's command: "sh -c 'apk add socat &&
					// socat ...'" installs and runs socat in it.
					inner = append(inner, args)
				}
				continue
			}
			if sub, ok := innerCommand(argv); ok {
				inner = append(inner, sub)
				continue
			}
			if script, ok := shellScript(argv); ok {
				sub, err := SplitShell(script)
				if err != nil {
					return nil, fmt.Errorf("the shell script given to %s -c: %v", path.Base(argv[0]), err)
				}
				inner = append(inner, sub...)
			}
		}
		if len(inner) == 0 {
			break
		}
		cmds = inner
	}
	first := ""
	if len(cmds) > 0 && len(cmds[0]) > 0 {
		first = cmds[0][0]
	}
	return nil, fmt.Errorf("no socat command found (the command is %q)", clip(first))
}

func stripWrappers(argv []string) []string {
	for len(argv) > 0 {
		for len(argv) > 0 && assignment().MatchString(argv[0]) {
			argv = argv[1:] // VAR=value before the command
		}
		if len(argv) == 0 {
			return nil
		}
		w := path.Base(argv[0])
		n, ok := wrappers[w]
		if !ok {
			return argv
		}
		argv = argv[1:]
		skip := positionalArgs[w]
		if n > 0 {
			if len(argv) <= n {
				return nil
			}
			argv = argv[n:]
			continue
		}
		for len(argv) > 0 {
			a := argv[0]
			if a == "--" {
				argv = argv[1:]
				break
			}
			if assignment().MatchString(a) {
				argv = argv[1:]
				continue
			}
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				argv = argv[1:]
				// unshare's options have their own values (-n is its
				// network namespace, not nice's niceness).
				takes := optionsWithValue[a]
				if w == "unshare" {
					takes = unshareWithValue[a]
				}
				if takes && len(argv) > 0 {
					argv = argv[1:]
				}
				continue
			}
			// timeout DURATION, taskset MASK, ip netns exec NAME: bare
			// words the wrapper takes before the program. After env,
			// sudo... the first bare word is the program.
			if skip > 0 && len(argv) > 1 && !IsSocatProgram(a) {
				skip--
				argv = argv[1:]
				continue
			}
			break
		}
	}
	return argv
}

// containerRun recognises `docker run [options] IMAGE ARGS...` (also
// podman, nerdctl). With a socat image (alpine/socat, ...socat:tag), or
// --entrypoint socat, ARGS are socat's arguments (socatImage); with
// another image ARGS are the container's command, which may install and
// run socat itself.
func containerRun(argv []string) (args []string, socatImage, ok bool) {
	switch path.Base(argv[0]) {
	case "docker", "podman", "nerdctl":
	default:
		return nil, false, false
	}
	args = argv[1:]
	if len(args) > 0 && args[0] == "container" {
		args = args[1:]
	}
	if len(args) == 0 || (args[0] != "run" && args[0] != "create") {
		return nil, false, false
	}
	args = args[1:]
	entrypoint := ""
	for len(args) > 0 {
		a := args[0]
		if !strings.HasPrefix(a, "-") {
			break
		}
		args = args[1:]
		if v, ok := strings.CutPrefix(a, "--entrypoint="); ok {
			entrypoint = v
		}
		if strings.Contains(a, "=") || len(args) == 0 {
			continue
		}
		if a == "--entrypoint" {
			entrypoint = args[0]
		}
		if dockerFlagsWithValue[a] {
			args = args[1:]
		}
	}
	if len(args) == 0 {
		return nil, false, false
	}
	image := args[0]
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	rest := args[1:]
	if entrypoint != "" {
		if IsSocatProgram(entrypoint) {
			return rest, true, true
		}
		return append([]string{entrypoint}, rest...), false, true
	}
	if !strings.Contains(path.Base(image), "socat") {
		return rest, false, true
	}
	if len(rest) > 0 && IsSocatProgram(rest[0]) {
		rest = rest[1:]
	}
	return rest, true, true
}

// unshareWithValue are unshare's options whose value is the next word.
var unshareWithValue = map[string]bool{"-S": true, "--setuid": true, "-G": true, "--setgid": true, "-R": true,
	"--root": true, "-w": true, "--wd": true, "--propagation": true, "--map-user": true, "--map-group": true}

// dockerFlagsWithValue are `docker run` options whose value is the next
// word.
var dockerFlagsWithValue = map[string]bool{
	"-p": true, "--publish": true, "-v": true, "--volume": true, "-e": true, "--env": true, "--name": true,
	"--network": true, "--net": true, "-u": true, "--user": true, "-w": true, "--workdir": true,
	"--restart": true, "--entrypoint": true, "-l": true, "--label": true, "--mount": true, "--env-file": true,
	"--cap-add": true, "--cap-drop": true, "--device": true, "--add-host": true, "--hostname": true, "-h": true,
	"--memory": true, "-m": true, "--cpus": true, "--log-driver": true, "--log-opt": true, "--pid": true,
	"--ipc": true, "--security-opt": true, "--ulimit": true, "--platform": true, "--pull": true, "--expose": true,
	"--dns": true, "--tmpfs": true, "--group-add": true, "--stop-signal": true, "--health-cmd": true,
}

func isShell(p string) bool {
	switch path.Base(p) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh", "busybox":
		return true
	}
	return false
}

// innerCommand returns the command a launcher runs with its own argv:
// docker/podman exec [options] CONTAINER CMD..., kubectl run NAME
// --image=IMG -- ARGS, screen [-dmS NAME] CMD..., systemd-socket-activate
// [options] CMD...
func innerCommand(argv []string) ([]string, bool) {
	base := path.Base(argv[0])
	args := argv[1:]
	skip := func(withValue map[string]bool) []string {
		for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "--" {
			a := args[0]
			args = args[1:]
			if strings.Contains(a, "=") {
				continue
			}
			// -S NAME, or combined short options ending in a value
			// letter (screen -dmS NAME).
			if withValue[a] || (!strings.HasPrefix(a, "--") && len(a) > 2 && withValue["-"+a[len(a)-1:]]) {
				if len(args) > 0 {
					args = args[1:]
				}
			}
		}
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		return args
	}
	switch {
	case base == "kubectl" && len(args) > 1 && args[0] == "run":
		// kubectl run NAME --image=IMG [flags] -- ARGS: with a socat
		// image the ARGS are socat's (its entrypoint); with --command
		// they are the command.
		image, command, dash := "", false, -1
		for i, a := range args[2:] {
			switch {
			case a == "--":
				dash = i + 2
			case strings.HasPrefix(a, "--image="):
				image = strings.TrimPrefix(a, "--image=")
			case a == "--image" && i+3 < len(args):
				image = args[i+3]
			case a == "--command":
				command = true
			case !strings.HasPrefix(a, "-") && image == "" && strings.Contains(a, "socat"):
				image = a
			}
			if dash >= 0 {
				break
			}
		}
		if dash < 0 || dash+1 > len(args) {
			return nil, false
		}
		rest := args[dash+1:]
		if command || !strings.Contains(path.Base(strings.Split(image, ":")[0]), "socat") {
			return rest, len(rest) > 0
		}
		if len(rest) > 0 && IsSocatProgram(rest[0]) {
			return rest, true
		}
		return append([]string{"socat"}, rest...), len(rest) > 0
	case (base == "docker" || base == "podman" || base == "nerdctl") && len(args) > 0 && args[0] == "exec":
		args = args[1:]
		rest := skip(containerOptionWithValue)
		if len(rest) > 1 {
			return rest[1:], true // after the container
		}
	case base == "screen":
		rest := skip(map[string]bool{"-S": true, "-c": true, "-e": true, "-h": true, "-p": true, "-t": true, "-T": true, "-Logfile": true})
		if len(rest) > 0 {
			return rest, true
		}
	case base == "systemd-socket-activate":
		rest := skip(map[string]bool{"-l": true, "--listen": true, "-E": true, "--setenv": true, "--fdname": true})
		if len(rest) > 0 {
			return rest, true
		}
	}
	return nil, false
}

// shellScript returns the script of `sh -c SCRIPT` (also -ec, -xc...), of
// `su [USER] -c SCRIPT` and `runuser`, and the shell command of `tmux
// new-session [options] COMMAND` (tmux runs it with the shell).
func shellScript(argv []string) (string, bool) {
	base := path.Base(argv[0])
	if base == "su" || base == "runuser" {
		for i := 1; i+1 < len(argv); i++ {
			if argv[i] == "-c" || argv[i] == "--command" {
				return argv[i+1], true
			}
		}
		return "", false
	}
	if base == "tmux" && len(argv) > 2 {
		switch argv[1] {
		case "new-session", "new", "new-window", "neww", "split-window", "splitw", "respawn-pane", "respawnp":
			// Options, then the shell command: one word or several,
			// which tmux joins.
			args := argv[2:]
			for len(args) > 0 && strings.HasPrefix(args[0], "-") {
				a := args[0]
				args = args[1:]
				if len(a) == 2 && strings.ContainsRune("sncteFxylLpbf", rune(a[1])) && len(args) > 0 {
					args = args[1:]
				}
			}
			if len(args) > 0 {
				return strings.Join(args, " "), true
			}
		}
		return "", false
	}
	if !isShell(argv[0]) {
		return "", false
	}
	args := argv[1:]
	if path.Base(argv[0]) == "busybox" && len(args) > 0 && isShell(args[0]) {
		args = args[1:]
	}
	for i, a := range args {
		if strings.HasPrefix(a, "-") && strings.Contains(a, "c") && !strings.HasPrefix(a, "--") {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", false
		}
		if !strings.HasPrefix(a, "-") {
			break
		}
	}
	return "", false
}

// ParseCommandLine reads a command line as written in a shell (the
// --cmdline flag): it splits it, finds socat in it and parses socat's
// arguments.
func ParseCommandLine(line string) (*Command, error) {
	cmds, err := SplitShell(line)
	if err != nil {
		return nil, parseErrorf("cannot split the command line: %v", err)
	}
	argv, err := FindSocat(cmds)
	if err != nil {
		return nil, &NotSocatError{Reason: err.Error()}
	}
	return Parse(argv)
}

// NotSocatError is a command line that does not run socat at all.
type NotSocatError struct{ Reason string }

func (e *NotSocatError) Error() string { return e.Reason }

// SocketActivation returns the listening socket a command line's
// systemd-socket-activate creates and hands to socat (-l ADDR, -a for a
// process per connection, --inetd for stdio), as a socket unit would; nil
// when there is none.
func SocketActivation(line string) *SocketUnit {
	cmds, err := SplitShell(line)
	if err != nil {
		return nil
	}
	for _, argv := range cmds {
		argv = stripWrappers(argv)
		if len(argv) == 0 || path.Base(argv[0]) != "systemd-socket-activate" {
			continue
		}
		s := &SocketUnit{Path: "systemd-socket-activate"}
		kind := "stream"
		for i := 1; i < len(argv); i++ {
			a := argv[i]
			switch {
			case a == "-l" || a == "--listen":
				if i+1 < len(argv) {
					i++
					s.Listen = append(s.Listen, Listen{Kind: kind, Addr: argv[i]})
				}
			case strings.HasPrefix(a, "--listen="):
				s.Listen = append(s.Listen, Listen{Kind: kind, Addr: strings.TrimPrefix(a, "--listen=")})
			case a == "-a" || a == "--accept" || a == "--inetd":
				s.Accept = true
			case a == "-d" || a == "--datagram":
				kind = "datagram"
			case a == "-E" || a == "--setenv" || a == "--fdname":
				i++
			case !strings.HasPrefix(a, "-"):
				i = len(argv) // the command
			}
		}
		if len(s.Listen) > 0 {
			return s
		}
	}
	return nil
}

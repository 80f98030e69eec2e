package socatcmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/check-socat/check-socat/internal/smallfile"
)

// Unit is what a systemd service unit says about the socat it runs.
type Unit struct {
	Path string
	// Name is the unit's name, whose instance and prefix the specifiers
	// (%i, %n...) of the unit stand for.
	Name UnitName
	// Type is Type= (simple when not set); Restart is Restart= (no).
	Type, Restart string
	// Invalid is what systemd says when it refuses the unit (it does not
	// run); "" for a unit it loads.
	Invalid   string
	ExecStart [][]string // every ExecStart= command, prefixes removed
	// Privileged[i]: ExecStart[i] has the + or ! prefix, which runs it
	// as root whatever User= says.
	Privileged []bool
	User       string // User= ("" means root)
	Group      string
	// DynamicUser=yes runs the service as a transient unprivileged user.
	DynamicUser bool
	// Socket is the matching .socket unit, when socat gets its
	// connections from systemd (Accept=yes, or an inherited fd).
	Socket *SocketUnit
	// WorkingDirectory and RootDirectory resolve relative and absolute
	// paths of the command as the service sees them.
	WorkingDirectory, RootDirectory string
	// Env is what Environment= and the readable EnvironmentFile= set;
	// Unknown lists variables the command uses that neither sets.
	Env     map[string]string
	Unknown []string
	// EnvFiles are the EnvironmentFile= paths, specifiers expanded.
	EnvFiles []string
}

// SocketUnit is the part of a .socket unit that matters here.
type SocketUnit struct {
	Path   string
	Listen []Listen
	Accept bool
}

// Listen is one ListenStream=/ListenDatagram= of a socket unit.
type Listen struct {
	Kind string // stream or datagram
	Addr string // as written: 8080, 127.0.0.1:8080, [::1]:8080, /run/x.sock
}

// TemplateError is a template unit (foo@.service) whose command names
// its instance: it runs only as foo@INSTANCE.service.
type TemplateError struct{ Name UnitName }

func (e *TemplateError) Error() string {
	return fmt.Sprintf("%s is a template and its commands use the instance (%%i): name an instance, e.g. %s@INSTANCE.service (the template is read for it, as systemd does)",
		e.Name.Name, e.Name.Prefix)
}

// ReadUnit reads a service unit file and, if there is one next to it, the
// socket unit that activates it (foo.service or foo@.service: foo.socket).
// For an instance (socat@9000.service) without a file of its own the
// template (socat@.service) is read, as systemd does, with 9000 as %i.
func ReadUnit(path string) (*Unit, error) {
	name := ParseUnitName(path)
	data, err := os.ReadFile(path)
	if err != nil && name.Instance != "" && errors.Is(err, os.ErrNotExist) {
		tmpl := filepath.Join(filepath.Dir(path), name.Prefix+"@"+filepath.Ext(name.Name))
		if d, terr := os.ReadFile(tmpl); terr == nil {
			data, err = d, nil
			name.Path = tmpl
		}
	}
	if err != nil {
		return nil, err
	}
	u, err := parseUnit(string(data), name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	u.Path = path
	// foo.socket activates foo.service, and with Accept=yes the
	// instances foo@INSTANCE.service of the template foo@.service.
	base := strings.TrimSuffix(filepath.Base(path), ".service")
	base = strings.TrimSuffix(base, "@")
	sock := filepath.Join(filepath.Dir(path), base+".socket")
	if _, err := os.Stat(sock); err != nil && (name.Instance != "" || name.Template) {
		// foo@x.service without foo@x.socket: the template's foo.socket.
		sock = filepath.Join(filepath.Dir(path), name.Prefix+".socket")
	}
	if data, err := os.ReadFile(sock); err == nil {
		u.Socket = parseSocketUnit(string(data))
		u.Socket.Path = sock
	}
	return u, nil
}

// unitLines yields the key=value assignments of a section, with line
// continuations joined and comments dropped.
func unitLines(content, section string) [][2]string {
	var out [][2]string
	cur := ""
	var pending strings.Builder
	sc := bufio.NewScanner(strings.NewReader(content))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if pending.Len() > 0 {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
				continue // comments inside a continuation are skipped
			}
			pending.WriteByte(' ')
			line = t
		} else {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			if line[0] == '[' && strings.HasSuffix(line, "]") {
				cur = line[1 : len(line)-1]
				continue
			}
		}
		if strings.HasSuffix(line, "\\") {
			pending.WriteString(strings.TrimSuffix(line, "\\"))
			continue
		}
		pending.WriteString(line)
		full := pending.String()
		pending.Reset()
		if cur != section {
			continue
		}
		k, v, ok := strings.Cut(full, "=")
		if !ok {
			continue
		}
		out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out
}

// ParseUnit reads the [Service] section of a unit named unit.service.
// EnvironmentFile= is read relative to nothing: give ReadUnit the path
// for that.
func ParseUnit(content string) (*Unit, error) {
	return parseUnit(content, UnitName{Name: "unit.service", Prefix: "unit"})
}

// parseUnit reads the [Service] section of the unit called name: its
// specifiers expanded, its variables substituted, and whether systemd
// would refuse it.
func parseUnit(content string, name UnitName) (*Unit, error) {
	u := &Unit{Env: map[string]string{}, Name: name, Type: "simple", Restart: "no"}
	refuse := func(format string, args ...any) {
		if u.Invalid == "" {
			u.Invalid = fmt.Sprintf(format, args...)
		}
	}
	// spec expands the specifiers of a whole setting's value; an error
	// refuses the unit, as it does for User=, Group= and the directories.
	spec := func(v string) string {
		out, err := name.Specifiers(v)
		if err != nil {
			refuse("%v", err)
			return v
		}
		return out
	}
	// lenient expands them where systemd logs the error and ignores the
	// setting (Environment=, EnvironmentFile=): ok false drops it.
	lenient := func(v string) (string, bool) {
		out, err := name.Specifiers(v)
		return out, err == nil
	}
	var execRaw []string
	for _, kv := range unitLines(content, "Service") {
		if name.Template && UsesInstance(kv[1]) {
			return nil, &TemplateError{Name: name}
		}
		switch kv[0] {
		case "Type":
			u.Type = kv[1]
		case "Restart":
			u.Restart = kv[1]
			if u.Restart == "" {
				u.Restart = "no" // an empty assignment resets it
			}
		case "ExecStart":
			if kv[1] == "" {
				execRaw = nil // an empty assignment resets the list
				continue
			}
			execRaw = append(execRaw, kv[1])
		case "User":
			u.User = spec(kv[1])
		case "Group":
			u.Group = spec(kv[1])
		case "DynamicUser":
			u.DynamicUser = parseBool(kv[1])
		case "WorkingDirectory":
			u.WorkingDirectory = strings.TrimPrefix(spec(kv[1]), "-")
		case "RootDirectory":
			u.RootDirectory = spec(kv[1])
		case "Environment":
			// Words as on a command line, then each word's specifiers
			// (systemd.exec(5)).
			words, err := splitExec(kv[1], false)
			if err == nil {
				for _, w := range words {
					x, ok := lenient(w)
					if !ok {
						continue
					}
					if k, v, ok := strings.Cut(x, "="); ok {
						u.Env[k] = v
					}
				}
			}
		case "EnvironmentFile":
			// The path's specifiers are expanded, the file's content is
			// read as systemd.exec(5) says, and later files win.
			x, ok := lenient(kv[1])
			if !ok {
				continue
			}
			f := strings.TrimPrefix(x, "-")
			u.EnvFiles = append(u.EnvFiles, f)
			if data, err := readEnvFile(f); err == nil {
				for k, v := range parseEnvFile(data) {
					u.Env[k] = v
				}
			}
		}
	}
	if len(execRaw) == 0 {
		return nil, errors.New("no ExecStart= in [Service]")
	}
	var cmds [][]string
	var raws []string
	for _, raw := range execRaw {
		argv, err := splitExec(raw, false)
		if err != nil {
			return nil, fmt.Errorf("ExecStart=%s: %w", clip(raw), err)
		}
		// A line with the - prefix that systemd cannot read is ignored
		// (logged), not fatal; without it the unit is refused.
		ignorable := strings.HasPrefix(strings.TrimLeft(raw, " \t\n\r@:+!"), "-")
		bad := ""
		// systemd splits first, then expands each word's specifiers: an
		// instance with a space stays one word.
		for i := range argv {
			x, err := name.Specifiers(argv[i])
			if err != nil && bad == "" {
				bad = err.Error()
			}
			argv[i] = x
		}
		if exe := argv[0]; bad == "" && strings.Contains(exe, "/") && !strings.HasPrefix(exe, "/") {
			bad = "Neither a valid executable name nor an absolute path: " + clip(exe)
		}
		if bad != "" {
			if !ignorable {
				refuse("%s", bad)
			}
			continue
		}
		cmds, raws = append(cmds, argv), append(raws, raw)
	}
	if len(cmds) > 1 && u.Type != "oneshot" {
		refuse("Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services")
	}
	if len(cmds) == 0 && u.Invalid == "" {
		refuse("Service has no ExecStart= it can run")
	}
	for i, argv := range cmds {
		raw := raws[i]
		u.ExecStart = append(u.ExecStart, u.expand(argv))
		prefix := strings.TrimLeft(raw, " \t\n\r")
		prefix = prefix[:len(prefix)-len(strings.TrimLeft(prefix, "-@:+!"))]
		// + and ! run the command as root; !! only matters without
		// ambient capabilities (old kernels) and keeps User=.
		u.Privileged = append(u.Privileged, strings.ContainsAny(strings.ReplaceAll(prefix, "!!", ""), "+!"))
	}
	return u, nil
}

var envRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
})

// expand substitutes the unit's variables as systemd does: ${VAR} within
// a word, and a word that is exactly $VAR split into words.
func (u *Unit) expand(argv []string) []string {
	var out []string
	for _, w := range argv {
		if m := envRef().FindStringSubmatch(w); m != nil && m[2] != "" && m[0] == w {
			v, ok := u.Env[m[2]]
			if !ok {
				u.Unknown = appendNew(u.Unknown, m[2])
				out = append(out, w)
				continue
			}
			out = append(out, splitEnvWords(v)...)
			continue
		}
		out = append(out, envRef().ReplaceAllStringFunc(w, func(ref string) string {
			m := envRef().FindStringSubmatch(ref)
			name := m[1] + m[2]
			if v, ok := u.Env[name]; ok {
				return v
			}
			u.Unknown = appendNew(u.Unknown, name)
			return ref
		}))
	}
	return out
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func parseSocketUnit(content string) *SocketUnit {
	s := &SocketUnit{}
	for _, kv := range unitLines(content, "Socket") {
		switch kv[0] {
		case "ListenStream":
			s.Listen = append(s.Listen, Listen{Kind: "stream", Addr: kv[1]})
		case "ListenDatagram":
			s.Listen = append(s.Listen, Listen{Kind: "datagram", Addr: kv[1]})
		case "Accept":
			s.Accept = parseBool(kv[1])
		}
	}
	return s
}

func parseBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true
	}
	return false
}

// SplitExec splits an ExecStart= value as systemd does: the prefixes
// (- @ : + ! !!) come off, words split on blanks with "..." and '...'
// quoting and C escapes, %% becomes %. Other specifiers and $VARIABLES
// stay as written. With @ the second word is argv[0] and is dropped.
func SplitExec(v string) ([]string, error) { return splitExec(v, true) }

// splitExec is SplitExec; percent says whether %% becomes % here (a unit
// expands every specifier of each word afterwards, %% included).
func splitExec(v string, percent bool) ([]string, error) {
	at := false
	v = strings.TrimLeft(v, " \t\n\r")
	for len(v) > 0 && strings.IndexByte("-@:+!", v[0]) >= 0 {
		if v[0] == '@' {
			at = true
		}
		v = v[1:]
	}
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '"' || c == '\'':
			j := i + 1
			for ; j < len(v) && v[j] != c; j++ {
				if v[j] == '\\' && j+1 < len(v) {
					j = unescape(v, j+1, &w)
					continue
				}
				w.WriteByte(v[j])
			}
			if j >= len(v) {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			i = j
			inWord = true
		case c == '\\' && i+1 < len(v):
			i = unescape(v, i+1, &w)
			inWord = true
		case percent && c == '%' && i+1 < len(v) && v[i+1] == '%':
			i++
			w.WriteByte('%')
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	if at && len(words) > 1 {
		words = append(words[:1], words[2:]...)
	}
	return words, nil
}

// unescape writes the character that the escape at v[i] (just after its
// backslash) stands for, as systemd reads command lines: C escapes, \s a
// space, \xNN, \NNN octal, \uXXXX and \UXXXXXXXX. It returns the index
// of the escape's last byte.
func unescape(v string, i int, w *strings.Builder) int {
	simple := map[byte]byte{'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', 's': ' '}
	c := v[i]
	if r, ok := simple[c]; ok {
		w.WriteByte(r)
		return i
	}
	digits, base := 0, 16
	switch {
	case c == 'x':
		digits = 2
	case c == 'u':
		digits = 4
	case c == 'U':
		digits = 8
	case c >= '0' && c <= '7':
		digits, base = 3, 8
		i-- // the digits start at c
	}
	if digits > 0 && i+digits < len(v) {
		if n, err := strconv.ParseUint(v[i+1:i+1+digits], base, 32); err == nil {
			if c == 'u' || c == 'U' {
				w.WriteRune(rune(n))
			} else {
				w.WriteByte(byte(n))
			}
			return i + digits
		}
	}
	if digits > 0 && base == 8 {
		i++ // not an octal escape after all
	}
	w.WriteByte(c)
	return i
}

// SocatCommand finds and parses the first socat command of the unit.
func (u *Unit) SocatCommand() (*Command, error) {
	cmds, err := u.SocatCommands()
	if err != nil {
		return nil, err
	}
	return cmds[0].Cmd, cmds[0].Err
}

// UnitCommand is one ExecStart= of a unit that runs socat.
type UnitCommand struct {
	Index      int // among the unit's ExecStart= lines, from 0
	Cmd        *Command
	Err        error // the command line does not parse (Cmd may be partial)
	Privileged bool  // + or ! prefix: runs as root whatever User= says
}

// SocatCommands finds and parses every socat command of the unit: a
// Type=oneshot unit may run several, one after the other.
func (u *Unit) SocatCommands() ([]UnitCommand, error) {
	var out []UnitCommand
	var lastErr error
	for i, argv := range u.ExecStart {
		found, err := FindSocat([][]string{argv})
		if err != nil {
			lastErr = err
			continue
		}
		c, perr := Parse(found)
		out = append(out, UnitCommand{Index: i, Cmd: c, Err: perr, Privileged: i < len(u.Privileged) && u.Privileged[i]})
	}
	if len(out) == 0 {
		return nil, &NotSocatError{Reason: fmt.Sprintf("no ExecStart= runs socat (%v)", lastErr)}
	}
	return out, nil
}

// readEnvFile reads an EnvironmentFile=: a regular file of at most 1 MiB
// (a unit naming /dev/zero must not hold the audit).
func readEnvFile(path string) ([]byte, error) {
	data, err := smallfile.Read(path, 1<<20)
	var pe *os.PathError
	if err != nil && !errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return data, err
}

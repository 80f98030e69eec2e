package socatcmd

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// UnitName is a unit's name and what systemd derives from it
// (systemd.unit(5): "String Escaping for Inclusion in Unit Names",
// "Specifiers").
type UnitName struct {
	Name     string // socat@9000.service
	Prefix   string // socat
	Instance string // 9000; "" when the unit is not an instance
	// Template: the name is a template's (socat@.service), which runs
	// only as an instance.
	Template bool
	Path     string // the file the unit was read from (%y)
}

// ParseUnitName splits a unit file name as systemd does.
func ParseUnitName(file string) UnitName {
	name := filepath.Base(file)
	n := UnitName{Name: name, Path: file}
	stem := name
	if i := strings.LastIndexByte(stem, '.'); i > 0 {
		stem = stem[:i]
	}
	n.Prefix = stem
	if at := strings.IndexByte(stem, '@'); at >= 0 {
		n.Prefix, n.Instance = stem[:at], stem[at+1:]
		n.Template = n.Instance == ""
	}
	return n
}

// UsesInstance reports whether s names the instance (%i %I %j %J %f):
// a template's command that does cannot be audited without one.
func UsesInstance(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' {
			switch s[i+1] {
			case 'i', 'I', 'f':
				return true
			case '%':
				i++
			}
		}
	}
	return false
}

// unitUnescape undoes systemd-escape: "-" is "/", \xNN a byte.
func unitUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '-':
			b.WriteByte('/')
		case s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x':
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Specifiers expands systemd's % specifiers in s as the system manager
// does for a service (systemd.unit(5), "Specifiers"); an unknown one is
// the error systemd refuses the unit with.
func (n UnitName) Specifiers(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		// systemd keeps a % at the end, or before a character that is
		// no letter or digit, as written; an unknown letter or digit is
		// its "Invalid slot".
		if i+1 >= len(s) || !isAlnum(s[i+1]) && s[i+1] != '%' {
			b.WriteByte('%')
			continue
		}
		i++
		v, ok := n.specifier(s[i])
		if !ok {
			return "", fmt.Errorf("failed to resolve unit specifiers in %s: %%%c is not a specifier (invalid slot)", clip(s), s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (n UnitName) specifier(c byte) (string, bool) {
	stem := strings.TrimSuffix(n.Name, filepath.Ext(n.Name))
	switch c {
	case '%':
		return "%", true
	case 'n':
		return n.Name, true
	case 'N':
		return stem, true
	case 'p':
		return n.Prefix, true
	case 'P':
		return unitUnescape(n.Prefix), true
	case 'i':
		return n.Instance, true
	case 'I':
		return unitUnescape(n.Instance), true
	case 'j', 'J':
		j := n.Prefix
		if k := strings.LastIndexByte(j, '-'); k >= 0 {
			j = j[k+1:]
		}
		if c == 'J' {
			j = unitUnescape(j)
		}
		return j, true
	case 'f':
		if n.Instance != "" {
			return "/" + strings.TrimPrefix(unitUnescape(n.Instance), "/"), true
		}
		return "/" + strings.TrimPrefix(unitUnescape(n.Prefix), "/"), true
	case 'y':
		return n.Path, true
	case 'Y':
		return filepath.Dir(n.Path), true
	// The system manager's user and directories.
	case 'u', 'g':
		return "root", true
	case 'U', 'G':
		return "0", true
	case 'h':
		return "/root", true
	case 's':
		return "/bin/sh", true
	case 't':
		return "/run", true
	case 'S':
		return "/var/lib", true
	case 'C':
		return "/var/cache", true
	case 'L':
		return "/var/log", true
	case 'E':
		return "/etc", true
	case 'T':
		return "/tmp", true
	case 'V':
		return "/var/tmp", true
	case 'D':
		return "/usr/share", true
	case 'd':
		return "/run/credentials/" + n.Name, true
	// This host.
	case 'H', 'q':
		h, _ := os.Hostname()
		return h, true
	case 'l':
		h, _ := os.Hostname()
		h, _, _ = strings.Cut(h, ".")
		return h, true
	case 'm':
		return firstLine("/etc/machine-id"), true
	case 'b':
		return strings.ReplaceAll(firstLine("/proc/sys/kernel/random/boot_id"), "-", ""), true
	case 'v':
		var u syscall.Utsname
		if syscall.Uname(&u) != nil {
			return "", true
		}
		var b strings.Builder
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		return b.String(), true
	case 'a':
		return map[string]string{"amd64": "x86-64", "386": "x86", "arm64": "arm64", "arm": "arm", "riscv64": "riscv64",
			"ppc64le": "ppc64-le", "s390x": "s390x", "loong64": "loongarch64"}[runtime.GOARCH], true
	case 'o', 'w', 'W', 'B', 'M', 'A':
		key := map[byte]string{'o': "ID", 'w': "VERSION_ID", 'W': "VARIANT_ID", 'B': "BUILD_ID", 'M': "IMAGE_ID", 'A': "IMAGE_VERSION"}[c]
		data, _ := os.ReadFile("/etc/os-release")
		return parseEnvFile(data)[key], true
	}
	return "", false
}

func firstLine(path string) string {
	data, _ := os.ReadFile(path)
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}

// parseEnvFile reads an EnvironmentFile= as systemd.exec(5) says: one
// KEY=VALUE per line; empty lines, lines starting with # or ; and lines
// without = are ignored; an unquoted value keeps its inner whitespace and
// any quotes after its first character, a backslash keeps the next
// character and one at the end of a line continues it; a '...' value is
// verbatim and may span lines; a "..." value may span lines and takes \"
// \\ \` \$ and a backslash-newline as escapes, other backslashes
// verbatim. Leading and trailing blanks of an unquoted value are
// dropped. The last assignment of a key wins.
func parseEnvFile(data []byte) map[string]string {
	env := map[string]string{}
	s := string(data)
	i := 0
	for i < len(s) {
		// Start of a line: skip blanks, comments and empty lines.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '\n' {
			i++
			continue
		}
		if s[i] == '#' || s[i] == ';' {
			i = skipLine(s, i)
			continue
		}
		j := i
		for j < len(s) && s[j] != '=' && s[j] != '\n' {
			j++
		}
		if j >= len(s) || s[j] == '\n' {
			i = skipLine(s, i) // no "=": ignored
			continue
		}
		key := strings.TrimRight(s[i:j], " \t\r")
		value, next := envValue(s, j+1)
		i = next
		if validEnvName(key) {
			env[key] = value
		}
	}
	return env
}

func skipLine(s string, i int) int {
	for i < len(s) && s[i] != '\n' {
		i++
	}
	return i + 1
}

// envValue reads the value that starts at s[i] and returns it with the
// index after its line.
func envValue(s string, i int) (string, int) {
	var b strings.Builder
	for {
		// Before a value, and after a closing quote: blanks are skipped,
		// a quote opens a quoted part, anything else an unquoted part
		// that runs to the end of the line (systemd's PRE_VALUE state:
		// A="127.0.0.1" # note is 127.0.0.1# note, A='a' 'b' is ab).
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
		if i >= len(s) || s[i] == '\n' {
			return b.String(), i + 1
		}
		if s[i] == '\'' || s[i] == '"' {
			q := s[i]
			i++
			for i < len(s) && s[i] != q {
				if q == '"' && s[i] == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case '"', '\\', '`', '$':
						b.WriteByte(s[i+1])
						i += 2
						continue
					case '\n':
						i += 2
						continue
					}
				}
				b.WriteByte(s[i])
				i++
			}
			i++ // the closing quote
			continue
		}
		// Unquoted: to the end of the line, escapes and continuations
		// followed, quotes kept, trailing blanks dropped.
		trailing := -1
		for i < len(s) && s[i] != '\n' {
			if s[i] == '\\' && i+1 < len(s) {
				if s[i+1] != '\n' {
					b.WriteByte(s[i+1])
				}
				i += 2
				trailing = -1
				continue
			}
			if s[i] == ' ' || s[i] == '\t' || s[i] == '\r' {
				if trailing < 0 {
					trailing = b.Len()
				}
			} else {
				trailing = -1
			}
			b.WriteByte(s[i])
			i++
		}
		v := b.String()
		if trailing >= 0 {
			v = v[:trailing]
		}
		return v, i + 1
	}
}

func validEnvName(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// splitEnvWords splits the value of a $VAR word of a command line as
// systemd does (systemd.service(5): "split at whitespace"; it unquotes
// as it splits, and an unbalanced quote runs to the end).
func splitEnvWords(v string) []string {
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
		case c == '\'' || c == '"':
			inWord = true
			for i++; i < len(v) && v[i] != c; i++ {
				if c == '"' && v[i] == '\\' && i+1 < len(v) {
					i++
				}
				w.WriteByte(v[i])
			}
		case c == '\\' && i+1 < len(v):
			i++
			w.WriteByte(v[i])
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

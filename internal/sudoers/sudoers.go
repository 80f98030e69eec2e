// Package sudoers reads the rules of sudoers(5) that say who may run
// which command: user specifications with their aliases, #include and
// #includedir (and their @ forms), line continuations and comments. It
// reads enough to answer "who may run this program, and with which
// arguments"; Defaults and host matching are not evaluated (a rule for
// any host counts: the audit asks what could be allowed).
package sudoers

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Command is one command of a rule.
type Command struct {
	Path string
	// Args as written; AnyArgs when none are given (sudoers: "the user
	// may run the command with any arguments"); NoArgs for "".
	Args    string
	AnyArgs bool
	NoArgs  bool
	Negated bool   // !cmd: explicitly denied
	All     bool   // the ALL command
	RunAs   string // the run-as list in force for it, "" for root
}

// Wildcard reports whether the arguments admit more than one command
// line: shell-style wildcards (sudoers(5) "Wildcards").
func (c Command) Wildcard() bool {
	return c.AnyArgs || strings.ContainsAny(c.Args, "*?[")
}

// Rule is one user specification, its aliases expanded.
type Rule struct {
	Users    []string // user names, %group, #uid, +netgroup, ALL
	RunAs    string   // as written, "" for root
	Commands []Command
	Source   string // file:line
}

// limits bound what is read whatever the files hold.
const (
	maxDepth = 8
	maxFiles = 128
	maxSize  = 1 << 20
)

// ReadFile reads a sudoers file and what it includes. Errors of included
// files are returned beside the rules read (a file this user may not
// read is said, not fatal).
func ReadFile(path string) ([]Rule, []error) {
	r := &reader{aliases: map[string][]string{}}
	r.file(path, 0)
	return r.resolve(), r.errs
}

// Parse reads sudoers text (no includes followed).
func Parse(text string) []Rule {
	r := &reader{aliases: map[string][]string{}, noInclude: true}
	r.text(text, "sudoers")
	return r.resolve()
}

type rawRule struct {
	users    []string
	commands []string
	source   string
}

type reader struct {
	aliases   map[string][]string // "Cmnd_Alias:NAME" and "User_Alias:NAME"
	raw       []rawRule
	errs      []error
	files     int
	noInclude bool
	memo      map[string][]string // alias expansions, once each
}

func (r *reader) file(path string, depth int) {
	if depth > maxDepth || r.files >= maxFiles {
		r.errs = append(r.errs, fmt.Errorf("%s: includes nested too deep or too many files", path))
		return
	}
	r.files++
	info, err := os.Stat(path)
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	if !info.Mode().IsRegular() || info.Size() > maxSize {
		r.errs = append(r.errs, fmt.Errorf("%s: not a regular file of at most 1 MiB", path))
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	r.textDepth(string(data), path, depth)
}

func (r *reader) text(text, name string) { r.textDepth(text, name, 0) }

func (r *reader) textDepth(text, name string, depth int) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		start := i + 1
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + lines[i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		for _, dir := range []string{"#includedir", "@includedir", "#include", "@include"} {
			if rest, ok := strings.CutPrefix(line, dir); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
				if !r.noInclude {
					r.include(strings.Trim(strings.TrimSpace(rest), `"`), name, strings.HasSuffix(dir, "dir"), depth)
				}
				line = ""
				break
			}
		}
		// A # starts a comment, unless digits follow: #1001 is a uid.
		if line == "" || line[0] == '#' && !startsDigit(line[1:]) {
			continue
		}
		line = stripComment(line)
		r.statement(line, fmt.Sprintf("%s:%d", name, start))
	}
}

// include follows #include FILE and #includedir DIR (files in it that do
// not end in ~ and contain no dot, as sudo reads them). A relative path
// is relative to the including file's directory.
func (r *reader) include(p, from string, dir bool, depth int) {
	if p == "" {
		return
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(from), p)
	}
	if !dir {
		r.file(p, depth+1)
		return
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, "~") || strings.Contains(n, ".") || e.IsDir() {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.file(filepath.Join(p, n), depth+1)
	}
}

func startsDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// stripComment cuts a trailing comment: a # after blank space that is not
// a uid (#1001).
func stripComment(line string) string {
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') && !startsDigit(line[i+1:]) {
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

func (r *reader) statement(line, source string) {
	word, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		word, rest = line[:i], line[i+1:]
	}
	switch word {
	case "Defaults", "Host_Alias", "Runas_Alias":
		return
	case "Defaults:", "Defaults@", "Defaults>", "Defaults!":
		return
	case "User_Alias", "Cmnd_Alias", "Cmd_Alias":
		kind := "User_Alias"
		if word != "User_Alias" {
			kind = "Cmnd_Alias"
		}
		// NAME = a, b : NAME2 = c
		for _, def := range splitTop(rest, ':') {
			n, v, ok := strings.Cut(def, "=")
			if !ok {
				continue
			}
			r.aliases[kind+":"+strings.TrimSpace(n)] = splitList(v)
		}
		return
	}
	if strings.HasPrefix(word, "Defaults") {
		return
	}
	// user_list host_list = (runas) tags: cmnd, cmnd : host_list = ...
	eq := strings.Index(line, "=")
	if eq < 0 {
		return
	}
	head := strings.Fields(line[:eq])
	if len(head) < 2 {
		return
	}
	users := splitList(strings.Join(head[:len(head)-1], " "))
	for i, spec := range splitTop(line[eq+1:], ':') {
		if i > 0 {
			// After a colon: "host_list = cmnds" for other hosts.
			if _, after, ok := strings.Cut(spec, "="); ok {
				spec = after
			}
		}
		r.raw = append(r.raw, rawRule{users: users, commands: splitList(spec), source: source})
	}
}

// splitList splits a comma-separated list, keeping escaped commas.
func splitList(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			cur.WriteByte(s[i])
			cur.WriteByte(s[i+1])
			i++
		case s[i] == ',':
			if t := strings.TrimSpace(cur.String()); t != "" {
				out = append(out, t)
			}
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// splitTop splits at sep outside parentheses and not escaped; a colon
// that ends a tag (NOPASSWD:) is kept with what follows.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth > 0 || isTagColon(s[start:i]) {
				continue
			}
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

var tags = []string{"NOPASSWD", "PASSWD", "NOEXEC", "EXEC", "SETENV", "NOSETENV", "LOG_INPUT", "NOLOG_INPUT",
	"LOG_OUTPUT", "NOLOG_OUTPUT", "MAIL", "NOMAIL", "FOLLOW", "NOFOLLOW", "INTERCEPT", "NOINTERCEPT"}

// digests are the algorithms of a digest spec (sha256:HASH /path).
var digests = []string{"sha224", "sha256", "sha384", "sha512"}

func isTagColon(before string) bool {
	f := strings.Fields(strings.TrimSpace(before))
	if len(f) == 0 {
		return false
	}
	last := strings.TrimLeft(f[len(f)-1], "(),")
	if i := strings.LastIndexAny(last, "):,"); i >= 0 {
		last = last[i+1:]
	}
	for _, t := range append(tags, digests...) {
		if last == t {
			return true
		}
	}
	return false
}

// optionSpecs come before a command (sudoers(5) "Option_Spec").
var optionSpecs = []string{"CWD=", "CHROOT=", "TIMEOUT=", "NOTBEFORE=", "NOTAFTER=", "ROLE=", "TYPE=",
	"APPARMOR_PROFILE=", "PRIVS=", "LIMITPRIVS="}

// stripPrefixes removes option specs and digest specs before a command.
func stripPrefixes(c string) string {
	for {
		w, rest := cutBlank(c)
		done := true
		for _, o := range optionSpecs {
			if strings.HasPrefix(w, o) {
				done = false
			}
		}
		for _, d := range digests {
			if strings.HasPrefix(w, d+":") {
				done = false
			}
		}
		if done || rest == "" {
			return c
		}
		c = strings.TrimSpace(rest)
	}
}

// resolve expands aliases and reads each command.
func (r *reader) resolve() []Rule {
	var out []Rule
	for _, raw := range r.raw {
		rule := Rule{Source: raw.source}
		budget := maxExpand
		rule.Users = r.expand("User_Alias", raw.users, 0, &budget)
		runas := ""
		for _, c := range raw.commands {
			c = strings.TrimSpace(c)
			// (runas), option specs, tags and digests before the command;
			// a run-as list holds until the next one.
			if strings.HasPrefix(c, "(") {
				if j := strings.IndexByte(c, ')'); j > 0 {
					runas = strings.TrimSpace(c[1:j])
					rule.RunAs = runas
					c = strings.TrimSpace(c[j+1:])
				}
			}
			for {
				c = stripPrefixes(c)
				w, rest, ok := strings.Cut(c, ":")
				if !ok || !isTag(strings.TrimSpace(w)) {
					break
				}
				c = strings.TrimSpace(rest)
			}
			c = stripPrefixes(c)
			neg := false
			for strings.HasPrefix(c, "!") {
				neg = !neg
				c = strings.TrimSpace(c[1:])
			}
			for _, cmd := range r.expand("Cmnd_Alias", []string{c}, 0, &budget) {
				cm := parseCommand(stripPrefixes(cmd))
				cm.Negated = cm.Negated != neg
				cm.RunAs = runas
				rule.Commands = append(rule.Commands, cm)
			}
		}
		out = append(out, rule)
	}
	return out
}

func isTag(w string) bool {
	for _, t := range tags {
		if w == t {
			return true
		}
	}
	return false
}

// maxExpand bounds the items one rule's aliases expand to (an alias
// listing itself twenty times would otherwise grow without end).
const maxExpand = 4096

// expand replaces alias names (upper case words defined as kind) by
// their members, recursively, bounded in depth and in size (budget).
func (r *reader) expand(kind string, items []string, depth int, budget *int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, it := range items {
		if *budget <= 0 {
			break
		}
		*budget--
		name := strings.TrimPrefix(it, "!")
		if members, ok := r.aliases[kind+":"+name]; ok && depth < 8 {
			// An alias is expanded once and its members deduplicated:
			// an alias that names another many times stays small.
			key := kind + ":" + name
			exp, cached := r.memo[key]
			if !cached {
				exp = r.expand(kind, members, depth+1, budget)
				if r.memo == nil {
					r.memo = map[string][]string{}
				}
				r.memo[key] = exp
			}
			for _, m := range exp {
				if strings.HasPrefix(it, "!") {
					m = "!" + m
				}
				add(m)
			}
			continue
		}
		add(it)
	}
	return out
}

// cutBlank splits at the first space or tab.
func cutBlank(s string) (string, string) {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func parseCommand(c string) Command {
	c = strings.TrimSpace(c)
	neg := false
	for strings.HasPrefix(c, "!") {
		neg = !neg
		c = strings.TrimSpace(c[1:])
	}
	if c == "ALL" {
		return Command{All: true, AnyArgs: true, Negated: neg}
	}
	path, args := cutBlank(c)
	args = strings.TrimSpace(args)
	cm := Command{Path: path, Args: args, Negated: neg}
	switch args {
	case "":
		cm.AnyArgs = true
	case `""`:
		cm.NoArgs, cm.Args = true, ""
	}
	return cm
}

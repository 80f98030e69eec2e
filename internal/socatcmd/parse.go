// Package socatcmd is a model of socat's command line: a parser that
// follows socat's own lexer (nestlex) and tables (the address types and
// options of socat 1.7.4.4, generated from `socat -hhh`, plus the 1.8
// additions), and the facts an auditor derives from it: what listens
// where, what it connects to, which program it runs, which files it uses,
// and the effective TLS settings.
package socatcmd

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Command is one parsed socat invocation.
type Command struct {
	Argv      []string // the arguments as the process got them
	Program   string   // argv[0]
	Globals   Globals
	Addresses [2]Address
}

// Globals are socat's options before the addresses.
type Globals struct {
	Debug         int     // -d count, or N of -dN (1.8)
	LogFile       string  // -lf
	Syslog        bool    // -ly
	Mixed         bool    // -lm
	ProgName      string  // -lp
	Micro         bool    // -lu
	Host          bool    // -lh
	Verbose, Hex  bool    // -v, -x
	RawLeft       string  // -r file
	RawRight      string  // -R file
	BufSize       int     // -b
	Sloppy        bool    // -s
	CloseTimeout  float64 // -t (default 0.5)
	Inactivity    float64 // -T, 0 when not given
	HasInactivity bool
	Unidir        int  // 0, or 1 for -u (left to right), 2 for -U
	NoGroupCheck  bool // -g
	LockFile      string
	PreferFamily  int // -4 / -6
	Statistics    bool
	Experimental  bool
}

// Address is one of the two addresses: a single address, or two joined by
// "!!" (the first for reading, the second for writing).
type Address struct {
	Raw   string
	Parts []*Single
}

// Single is one address: TYPE[:param...][,option[=value]...].
type Single struct {
	Raw     string
	Keyword string // as written, or "" for the implicit FD/GOPEN forms
	Type    string // canonical type: TCP-LISTEN, EXEC, GOPEN...
	Params  []string
	Options []Option
	// Ignored holds parameters socat ignores (SYSTEM:echo x:y runs
	// "echo x").
	Ignored []string
	// Warnings are things socat accepts but does not do predictably (an
	// unterminated quote).
	Warnings []string

	def *addrDef
}

// Option is one address option.
type Option struct {
	Name     string // as written
	Canon    string // canonical name, e.g. openssl-verify for "verify"
	Value    string
	HasValue bool
	Known    bool // in socat's table
}

// ParseError says why a command line cannot be read.
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return e.Reason }

func parseErrorf(format string, args ...any) error {
	return &ParseError{Reason: fmt.Sprintf(format, args...)}
}

// Parse reads an argv as /proc/PID/cmdline gives it (the shell's quoting
// already removed). argv[0] is the program.
func Parse(argv []string) (*Command, error) {
	if len(argv) == 0 {
		return nil, parseErrorf("empty command line")
	}
	c := &Command{Argv: argv, Program: argv[0]}
	c.Globals.CloseTimeout = 0.5
	args := argv[1:]
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || strings.IndexByte(",:!", a[1]) >= 0 {
			break // "-", "-,raw", "-!!EXEC:sh" are STDIO, an address (socat.c's option loop)
		}
		n, err := c.Globals.parse(a, args[i+1:])
		if err != nil {
			return c, err
		}
		i += n
	}
	rest := args[i:]
	switch {
	case len(rest) < 2:
		return c, parseErrorf("socat needs two addresses, found %d", len(rest))
	case len(rest) > 2:
		return c, parseErrorf("socat takes two addresses, found %d (is an address not quoted?)", len(rest))
	}
	for k, raw := range rest {
		addr, err := ParseAddress(raw)
		if err != nil {
			return c, parseErrorf("address %d %q: %v", k+1, clip(raw), err)
		}
		c.Addresses[k] = *addr
	}
	return c, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// parse reads one global option; it returns how many following arguments
// it consumed.
func (g *Globals) parse(a string, next []string) (int, error) {
	value := func(attached string) (string, int, error) {
		if attached != "" {
			return attached, 0, nil
		}
		if len(next) == 0 {
			return "", 0, parseErrorf("option %s needs a value", a)
		}
		return next[0], 1, nil
	}
	switch {
	case a == "--statistics":
		g.Statistics = true
	case a == "--experimental":
		g.Experimental = true
	case strings.HasPrefix(a, "-d"):
		rest := a[2:]
		if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			n, err := strconv.Atoi(rest)
			if err != nil || n > 4 {
				return 0, parseErrorf("bad debug level %s", a)
			}
			g.Debug = n
			return 0, nil
		}
		if strings.Trim(rest, "d") != "" {
			return 0, parseErrorf("unknown option %s", a)
		}
		g.Debug += 1 + len(rest)
	case strings.HasPrefix(a, "-l"):
		if len(a) < 3 {
			return 0, parseErrorf("unknown option %s", a)
		}
		switch a[2] {
		case 'f':
			v, n, err := value(a[3:])
			g.LogFile = v
			return n, err
		case 'p':
			v, n, err := value(a[3:])
			g.ProgName = v
			return n, err
		case 'y':
			g.Syslog = true
		case 'm':
			g.Mixed = true
		case 's':
		case 'u':
			g.Micro = true
		case 'h':
			g.Host = true
		default:
			return 0, parseErrorf("unknown option %s", a)
		}
	case a == "-v":
		g.Verbose = true
	case a == "-x":
		g.Hex = true
	case a == "-s":
		g.Sloppy = true
	case a == "-g":
		g.NoGroupCheck = true
	case a == "-u":
		g.Unidir = 1
	case a == "-U":
		g.Unidir = 2
	case a == "-4":
		g.PreferFamily = 4
	case a == "-6":
		g.PreferFamily = 6
	case a == "-D", a == "-V", strings.HasPrefix(a, "-h"), a == "-?":
	case a[1] == 'r' || a[1] == 'R' || a[1] == 'L' || a[1] == 'W' || a[1] == 'S':
		v, n, err := value(a[2:])
		switch a[1] {
		case 'r':
			g.RawLeft = v
		case 'R':
			g.RawRight = v
		case 'L', 'W':
			g.LockFile = v
		}
		return n, err
	case a[1] == 'b' || a[1] == 't' || a[1] == 'T':
		v, n, err := value(a[2:])
		if err != nil {
			return n, err
		}
		f, perr := cNumber(v)
		if perr != nil || f < 0 {
			return n, parseErrorf("option %s: %q is not a number", a[:2], v)
		}
		switch a[1] {
		case 'b':
			g.BufSize = int(f)
		case 't':
			g.CloseTimeout = f
		case 'T':
			g.Inactivity, g.HasInactivity = f, f > 0 // -T 0 is no timeout
		}
		return n, nil
	default:
		return 0, parseErrorf("unknown option %s", a)
	}
	return 0, nil
}

// cNumber reads a number as socat's strtod/strtoul do: decimals, and hex
// or octal integers (0x10, 010).
func cNumber(v string) (float64, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f, nil
	}
	n, err := strconv.ParseInt(v, 0, 64)
	return float64(n), err
}

// ParseAddress reads one address argument.
func ParseAddress(raw string) (*Address, error) {
	a := &Address{Raw: raw}
	pos := 0
	for {
		s, end, err := parseSingle(raw, pos)
		if err != nil {
			return a, err
		}
		a.Parts = append(a.Parts, s)
		pos = end
		if pos >= len(raw) {
			break
		}
		if !strings.HasPrefix(raw[pos:], "!!") {
			return a, fmt.Errorf("unexpected %q", clip(raw[pos:]))
		}
		if len(a.Parts) == 2 {
			return a, errors.New(`more than two addresses joined by "!!"`)
		}
		pos += 2
	}
	return a, nil
}

var addrEnds = []string{"!!", ",", ":"}
var keyEnds = []string{"!!", ",", "="}
var valueEnds = []string{"!!", ","}

func parseSingle(raw string, pos int) (*Single, int, error) {
	start := pos
	kw, pos, warn, err := addrLexer.nextWarn(raw, pos, addrEnds)
	if err != nil {
		return nil, pos, err
	}
	s := &Single{Keyword: kw}
	s.warn(warn)
	if d := lookupTables().types[strings.ToUpper(kw)]; d != nil {
		s.def, s.Type = d, d.name
	} else {
		switch {
		case len(kw) == 1 && kw[0] >= '0' && kw[0] <= '9':
			s.def, s.Type, s.Keyword = lookupTables().types["FD"], "FD", ""
			s.Params = []string{kw}
		case strings.Contains(kw, "/"):
			s.def, s.Type, s.Keyword = lookupTables().types["GOPEN"], "GOPEN", ""
			s.Params = []string{kw}
		case kw == "":
			return nil, pos, errors.New("empty address")
		default:
			return nil, pos, fmt.Errorf("unknown address type %q", clip(kw))
		}
	}
	for pos < len(raw) && raw[pos] == ':' {
		var p string
		p, pos, warn, err = addrLexer.nextWarn(raw, pos+1, addrEnds)
		if err != nil {
			return nil, pos, err
		}
		s.warn(warn)
		s.Params = append(s.Params, p)
	}
	for pos < len(raw) && !strings.HasPrefix(raw[pos:], "!!") {
		for pos < len(raw) && raw[pos] == ',' {
			pos++
		}
		var name string
		name, pos, warn, err = optLexer.nextWarn(raw, pos, keyEnds)
		if err != nil {
			return nil, pos, err
		}
		s.warn(warn)
		if name == "" {
			break
		}
		o := Option{Name: name, Canon: strings.ToLower(name)}
		if d := lookupTables().options[strings.ToLower(name)]; d != nil {
			o.Canon, o.Known = d.name, true
		}
		if pos < len(raw) && raw[pos] == '=' {
			o.Value, pos, warn, err = optLexer.nextWarn(raw, pos+1, valueEnds)
			if err != nil {
				return nil, pos, err
			}
			s.warn(warn)
			o.HasValue = true
		}
		s.Options = append(s.Options, o)
	}
	s.Raw = raw[start:pos]
	return s, pos, s.checkParams()
}

func (s *Single) warn(w string) {
	if w != "" {
		s.Warnings = append(s.Warnings, w)
	}
}

// Warnings lists what socat would not do predictably in the whole
// command.
func (c *Command) Warnings() []string {
	var out []string
	for _, s := range c.Singles() {
		out = append(out, s.Warnings...)
	}
	return out
}

// checkParams applies socat's "wrong number of parameters" check. SYSTEM
// and SHELL ignore extra parameters (their command was cut at a ':').
func (s *Single) checkParams() error {
	want, opt := len(s.def.params), s.def.optional
	got := len(s.Params)
	if got >= want-opt && got <= want {
		return nil
	}
	if got > want && (s.Type == "SYSTEM" || s.Type == "SHELL") {
		s.Ignored, s.Params = s.Params[want:], s.Params[:want]
		return nil
	}
	if want == 0 {
		return fmt.Errorf("%s takes no parameters, got %d", s.Type, got)
	}
	return fmt.Errorf("%s needs %s (%d instead of %d)", s.Type, strings.Join(s.def.params, ":"), got, want)
}

// Option returns the last value of the option with canonical name canon
// (socat applies the last one), and whether it is present.
func (s *Single) Option(canon string) (Option, bool) {
	var found Option
	ok := false
	for _, o := range s.Options {
		if o.Canon == canon {
			found, ok = o, true
		}
	}
	return found, ok
}

// Has reports whether the option is present.
func (s *Single) Has(canon string) bool {
	_, ok := s.Option(canon)
	return ok
}

// Groups returns socat's option groups of the type.
func (s *Single) Groups() []string { return strings.Split(s.def.groups, ",") }

// inGroup reports whether the type is in the option group.
func (s *Single) inGroup(g string) bool {
	for _, x := range s.Groups() {
		if x == g {
			return true
		}
	}
	return false
}

// Base is the program's name without its directory.
func (c *Command) Base() string { return path.Base(c.Program) }

// String renders the parsed address canonically: TYPE:param:param,option=value
// with canonical names, "!!" between the parts of a dual address.
func (a *Address) String() string {
	parts := make([]string, len(a.Parts))
	for i, s := range a.Parts {
		parts[i] = s.String()
	}
	return strings.Join(parts, "!!")
}

func (s *Single) String() string {
	var b strings.Builder
	b.WriteString(s.Type)
	for _, p := range s.Params {
		b.WriteString(":" + quoteIfNeeded(p))
	}
	for _, o := range s.Options {
		b.WriteString("," + o.Canon)
		if o.HasValue {
			b.WriteString("=" + quoteIfNeeded(o.Value))
		}
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, ":,!'\"\\ ()[]{}") || s == "" {
		return strconv.Quote(s)
	}
	return s
}

// String renders the command canonically (for tests and -vv output).
func (c *Command) String() string {
	g := c.Globals
	var parts []string
	if g.Debug > 0 {
		parts = append(parts, "-d"+strconv.Itoa(g.Debug))
	}
	if g.HasInactivity {
		parts = append(parts, "-T"+strconv.FormatFloat(g.Inactivity, 'f', -1, 64))
	}
	if g.LogFile != "" {
		parts = append(parts, "-lf "+quoteIfNeeded(g.LogFile))
	}
	if g.Unidir == 1 {
		parts = append(parts, "-u")
	} else if g.Unidir == 2 {
		parts = append(parts, "-U")
	}
	if g.PreferFamily != 0 {
		parts = append(parts, "-"+strconv.Itoa(g.PreferFamily))
	}
	parts = append(parts, c.Addresses[0].String(), c.Addresses[1].String())
	return strings.Join(parts, " ")
}

// Package flags parses a check's command line into a struct of flags
// described by field tags, and prints the help, manual page and Icinga 2
// arguments from the same description.
//
// It replaces kong on the run path. kong builds a whole model of the
// command at every start (struct tags read character by character,
// help strings interpolated with regular expressions, go/doc linked in)
// and its packages' initialisation runs before main: together about a
// third of a short check's start-up on the machines we measured, for a
// command line of a dozen flags. The tags are kong's (name, short,
// default, placeholder, enum, sep:"none", type:"counter", hidden, group)
// and a test parses the same command lines with kong and with this
// package and requires the same result, so the behaviour users learnt
// stays.
//
// What a monitoring plugin needs and kong's defaults do not give is the
// default here: a flag's value may start with a hyphen ("-w -5:-1", also
// of a repeated flag: "-e -ERR"), a value flag given last is an error
// naming it (not an empty value), and every error names the flag. Whole
// numbers are decimal: kong read "010" as 8 and "0x1bb" as 443, which no
// port or byte count means.
package flags

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
)

// Kind is how a flag takes its value.
type Kind int

// The kinds of flags.
const (
	Value    Kind = iota // takes one value: --port 80, --port=80, -p80
	Bool                 // a switch: --tls; --tls=false switches it off
	Counter              // counts: -vvv, -v -v; --verbose=2 sets it
	Repeated             // a value per occurrence, collected in order: -e a -e b
)

// Flag is one flag of a command.
type Flag struct {
	Name    string // long name, without "--"
	Short   rune   // 0 when there is none
	Kind    Kind
	Default string // as given in the tag, variables expanded
	// given: set on the command line (a repeated flag's first value
	// replaces its default).
	given       bool
	Placeholder string // for help: --port=PORT
	Enum        []string
	Hidden      bool
	Group       string // "" for the common flags
	// Help is the text printed for the flag; the command fills it in
	// only when help, a manual page or Icinga arguments are printed.
	Help string

	field reflect.Value
}

// Set is the flags of one command, in the order of the struct's fields
// (embedded structs in place), led by --help.
type Set struct {
	Flags   []*Flag
	byName  map[string]*Flag
	byShort map[rune]*Flag
}

// HelpFlag is the name of the flag every Set has: Parse reports it as an
// action.
const HelpFlag = "help"

// New describes the flags of the struct target points to. vars expands
// ${name} in default tags. An error here is a mistake in the struct (a
// tag or type the parser does not know), not a user's.
func New(target any, vars map[string]string) (*Set, error) {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("flags: %T is not a pointer to a struct", target)
	}
	s := &Set{byName: map[string]*Flag{}, byShort: map[rune]*Flag{}}
	s.add(&Flag{Name: HelpFlag, Short: 'h', Kind: Bool})
	if err := s.walk(v.Elem(), vars); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Set) add(f *Flag) error {
	if s.byName[f.Name] != nil {
		return fmt.Errorf("flags: --%s is defined twice", f.Name)
	}
	s.byName[f.Name] = f
	if f.Short != 0 {
		if s.byShort[f.Short] != nil {
			return fmt.Errorf("flags: -%c is defined twice", f.Short)
		}
		s.byShort[f.Short] = f
	}
	s.Flags = append(s.Flags, f)
	return nil
}

var unmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (s *Set) walk(v reflect.Value, vars map[string]string) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		fv := v.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := s.walk(fv, vars); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f := &Flag{Name: sf.Tag.Get("name"), Placeholder: sf.Tag.Get("placeholder"), Group: sf.Tag.Get("group"), field: fv}
		if f.Name == "" {
			f.Name = dashed(sf.Name)
		}
		if short := sf.Tag.Get("short"); short != "" {
			r := []rune(short)
			if len(r) != 1 {
				return fmt.Errorf("flags: --%s: short %q is not one character", f.Name, short)
			}
			f.Short = r[0]
		}
		_, f.Hidden = sf.Tag.Lookup("hidden")
		if enum := sf.Tag.Get("enum"); enum != "" {
			f.Enum = strings.Split(enum, ",")
		}
		var err error
		if f.Default, err = expand(sf.Tag.Get("default"), vars); err != nil {
			return fmt.Errorf("flags: --%s: %w", f.Name, err)
		}
		switch {
		case sf.Tag.Get("type") == "counter":
			if fv.Kind() != reflect.Int {
				return fmt.Errorf("flags: --%s: a counter must be an int", f.Name)
			}
			f.Kind = Counter
		case fv.Kind() == reflect.Bool:
			f.Kind = Bool
		case fv.Kind() == reflect.Slice:
			if sf.Tag.Get("sep") != "none" {
				return fmt.Errorf("flags: --%s: a repeated flag needs sep:\"none\" (one value per occurrence)", f.Name)
			}
			f.Kind = Repeated
		}
		if !settable(fv.Type()) {
			return fmt.Errorf("flags: --%s: type %s is not supported", f.Name, fv.Type())
		}
		if err := s.add(f); err != nil {
			return err
		}
		if f.Default != "" {
			if err := f.set(f.Default); err != nil {
				return fmt.Errorf("flags: --%s: default %q: %w", f.Name, f.Default, err)
			}
		}
	}
	return nil
}

// settable reports whether set can store into a value of type t.
func settable(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Slice:
		return settable(t.Elem())
	case reflect.Pointer: // *int: "given or not"; a *bool would be a switch kong reads differently
		return t.Elem().Kind() != reflect.Bool && settable(t.Elem())
	}
	return false
}

// expand replaces ${name} with vars[name]; an unknown name is an error.
func expand(s string, vars map[string]string) (string, error) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s, nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s, nil
		}
		v, ok := vars[s[i+2:i+j]]
		if !ok {
			return "", fmt.Errorf("default %q: no variable %s", s, s[i+2:i+j])
		}
		s = s[:i] + v + s[i+j+1:]
	}
}

// dashed turns a Go field name into a flag name as kong does:
// ExpectRegex -> expect-regex, CAFile -> ca-file.
func dashed(name string) string {
	var parts []string
	var cur []rune
	class := func(r rune) int {
		switch {
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		case unicode.IsDigit(r):
			return 3
		}
		return 4
	}
	rs := []rune(name)
	for i, r := range rs {
		if i > 0 && class(r) != class(rs[i-1]) {
			// An upper case run followed by lower case: the last upper
			// case letter starts the next word (CAFile: CA, File).
			if class(rs[i-1]) == 2 && class(r) == 1 && len(cur) > 1 {
				parts = append(parts, string(cur[:len(cur)-1]))
				cur = cur[len(cur)-1:]
			} else if !(class(rs[i-1]) == 2 && class(r) == 1) {
				parts = append(parts, string(cur))
				cur = nil
			}
		}
		cur = append(cur, r)
	}
	parts = append(parts, string(cur))
	return strings.ToLower(strings.Join(parts, "-"))
}

// Lookup returns the flag of a long name, or nil.
func (s *Set) Lookup(name string) *Flag { return s.byName[name] }

// ErrMissing is the error of a value flag given last on the line.
var ErrMissing = errors.New("needs a value")

// Parse sets the flags from args. When an action flag (Bool, Hidden or
// help, listed in actions) is met, parsing stops and Parse returns its
// name: --help and --version answer even on an otherwise wrong line, as
// long as what precedes them parsed. Otherwise it returns "" and the
// first error, which names the flag.
func (s *Set) Parse(args []string, actions ...string) (string, error) {
	isAction := func(f *Flag) bool {
		if f.Name == HelpFlag {
			return true
		}
		for _, a := range actions {
			if f.Name == a {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		// next returns the value of a flag that takes one: the next
		// argument, whatever it looks like (-w -5:-1).
		next := func(f *Flag) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("--%s: %w", f.Name, ErrMissing)
			}
			i++ // the loop goes on after the value
			return args[i], nil
		}
		switch {
		case arg == "--":
			if i+1 < len(args) {
				return "", fmt.Errorf("unexpected argument %s", args[i+1])
			}
			return "", nil
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			f := s.byName[name]
			if f == nil {
				return "", s.unknown("--" + name)
			}
			if isAction(f) {
				return f.Name, nil
			}
			switch f.Kind {
			case Bool, Counter:
				if !hasValue {
					value = ""
				}
				if err := f.flag(value, hasValue); err != nil {
					return "", err
				}
				continue
			}
			if !hasValue {
				var err error
				if value, err = next(f); err != nil {
					return "", err
				}
			}
			if err := f.setChecked(value); err != nil {
				return "", err
			}
		case len(arg) > 1 && arg[0] == '-':
			// Short flags: switches may be combined (-vvv, -46); a
			// value flag takes the rest of the argument (-t10) or the
			// next one (-t 10).
			rs := []rune(arg[1:])
			for j := 0; j < len(rs); j++ {
				f := s.byShort[rs[j]]
				if f == nil {
					return "", s.unknown("-" + string(rs[j]))
				}
				if isAction(f) {
					return f.Name, nil
				}
				if f.Kind == Bool || f.Kind == Counter {
					if err := f.flag("", false); err != nil {
						return "", err
					}
					continue
				}
				value := string(rs[j+1:])
				if value == "" {
					var err error
					if value, err = next(f); err != nil {
						return "", err
					}
				}
				if err := f.setChecked(value); err != nil {
					return "", err
				}
				break
			}
		default:
			return "", fmt.Errorf("unexpected argument %s", arg)
		}
	}
	return "", nil
}

// unknown is the error of a flag that does not exist, with the flags
// that name could mean, as kong said it: those it begins (--crit) and
// those at most two edits away (--hots).
func (s *Set) unknown(flag string) error {
	near := s.near(strings.TrimLeft(flag, "-"))
	switch {
	case len(near) == 1:
		return fmt.Errorf("unknown flag %s, did you mean %s?", flag, near[0])
	case len(near) > 1:
		return fmt.Errorf("unknown flag %s, did you mean one of %s?", flag, strings.Join(near, ", "))
	}
	return fmt.Errorf("unknown flag %s", flag)
}

// near lists the visible long names name may mean.
func (s *Set) near(name string) []string {
	var out []string
	for _, f := range s.Flags {
		if f.Hidden || name == "" {
			continue
		}
		if strings.HasPrefix(f.Name, name) || distance(name, f.Name) <= 2 {
			out = append(out, "--"+f.Name)
		}
	}
	return out
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flag applies a switch or a counter, with its =value when given.
func (f *Flag) flag(value string, hasValue bool) error {
	if f.Kind == Counter {
		if !hasValue {
			f.field.SetInt(f.field.Int() + 1)
			return nil
		}
		n, err := strconv.Atoi(value)
		if b, berr := parseBool(value); err != nil && berr == nil {
			// true/false from a configuration written when the flag was a
			// switch (Icinga's vars.socat_verbose = true): 1 and 0.
			n, err = map[bool]int{true: 1, false: 0}[b], nil
		}
		if err != nil || n < 0 {
			return fmt.Errorf("--%s=%s: give a count (0, 1, 2...), or repeat the flag", f.Name, value)
		}
		f.field.SetInt(int64(n))
		return nil
	}
	if !hasValue {
		f.field.SetBool(true)
		return nil
	}
	b, err := parseBool(value)
	if err != nil {
		return fmt.Errorf("--%s=%s: a switch takes true or false (yes, no, 1, 0), or nothing", f.Name, value)
	}
	f.field.SetBool(b)
	return nil
}

// parseBool reads the words kong read: true, yes, 1, false, no, 0, in
// any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// setChecked sets a value given on the command line: within the enum,
// and with the flag named in any error.
func (f *Flag) setChecked(value string) error {
	if len(f.Enum) > 0 && !contains(f.Enum, value) {
		return fmt.Errorf("--%s must be one of %s, not %q", f.Name, strings.Join(f.Enum, ", "), value)
	}
	if f.Kind == Repeated && !f.given {
		f.field.SetLen(0) // the first value given replaces the default
	}
	f.given = true
	if err := f.set(value); err != nil {
		return fmt.Errorf("--%s: %w", f.Name, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// set stores value into the flag's field.
func (f *Flag) set(value string) error {
	v := f.field
	if f.Kind == Repeated {
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := store(elem, value); err != nil {
			return err
		}
		v.Set(reflect.Append(v, elem))
		return nil
	}
	return store(v, value)
}

func store(v reflect.Value, value string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(value))
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := store(p.Elem(), value); err != nil {
			return err
		}
		v.Set(p)
	case reflect.String:
		v.SetString(value)
	case reflect.Bool:
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", value)
		}
		if v.OverflowInt(n) {
			return fmt.Errorf("%q is too large", value)
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		v.SetFloat(x)
	default:
		return fmt.Errorf("type %s is not supported", v.Type())
	}
	return nil
}

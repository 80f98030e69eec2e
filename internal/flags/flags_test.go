package flags

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// upper is a value type that parses its own text.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("is empty")
	}
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

type common struct {
	Timeout string `short:"t" default:"10s"`
	Verbose int    `short:"v" type:"counter"`
	State   string `default:"${state}"`
	Version bool   `short:"V"`
	Man     bool   `name:"man-page" hidden:""`
}

type cmd struct {
	common
	Host       string   `short:"H" placeholder:"HOST" group:"Target"`
	Port       int      `short:"p" group:"Target"`
	UDP        bool     `name:"udp" short:"u"`
	IPv4       bool     `short:"4" name:"use-ipv4"`
	Expect     []string `short:"e" sep:"none"`
	Warning    upper    `short:"w"`
	Ratio      float64  `default:"0.5"`
	Count      *int
	Output     string `default:"nagios" enum:"nagios,json"`
	CAFile     string
	MaxBytes   int64
	unexported int //lint:ignore U1000 an unexported field is not a flag
}

func parse(args ...string) (*cmd, string, error) {
	c := &cmd{}
	s, err := New(c, map[string]string{"state": "critical"})
	if err != nil {
		panic(err)
	}
	action, err := s.Parse(args, "version", "man-page")
	return c, action, err
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"ExpectRegex": "expect-regex", "CAFile": "ca-file", "SNI": "sni",
		"MaxOutput": "max-output", "RequireClientAuth": "require-client-auth", "IPv4": "i-pv-4", "A": "a", "HTTPStatus": "http-status"} {
		if got := dashed(in); got != want {
			t.Errorf("dashed(%q) = %q, want %q", in, got, want)
		}
	}
	c := &cmd{}
	s, err := New(c, map[string]string{"state": "critical"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Flags {
		names = append(names, f.Name)
	}
	want := "help timeout verbose state version man-page host port udp use-ipv4 expect warning ratio count output ca-file max-bytes"
	if strings.Join(names, " ") != want {
		t.Errorf("flags %v, want %s", names, want)
	}
}

func TestParse(t *testing.T) {
	three := 3
	for _, tt := range []struct {
		args []string
		want cmd
	}{
		{nil, cmd{common: common{Timeout: "10s", State: "critical"}, Ratio: 0.5, Output: "nagios"}},
		{[]string{"-H", "db", "-p", "80"}, cmd{Host: "db", Port: 80}},
		{[]string{"--host=db", "--port", "80"}, cmd{Host: "db", Port: 80}},
		{[]string{"-Hdb", "-p80", "-t5"}, cmd{Host: "db", Port: 80, common: common{Timeout: "5"}}},
		{[]string{"-vvv"}, cmd{common: common{Verbose: 3}}},
		{[]string{"-v", "--verbose", "-vu4"}, cmd{common: common{Verbose: 3}, UDP: true, IPv4: true}},
		{[]string{"--verbose=2"}, cmd{common: common{Verbose: 2}}},
		{[]string{"-w", "-5:-1"}, cmd{Warning: "-5:-1"}},
		{[]string{"-w", "--help"}, cmd{Warning: "--HELP"}}, // a value is a value, whatever it looks like
		{[]string{"-e", "a", "--expect=b", "-ec"}, cmd{Expect: []string{"a", "b", "c"}}},
		{[]string{"--udp=false", "--udp", "--use-ipv4=0"}, cmd{UDP: true}},
		{[]string{"--udp=YES", "--use-ipv4=no"}, cmd{UDP: true}},
		{[]string{"-e", "-ERR", "-e-x"}, cmd{Expect: []string{"-ERR", "-x"}}},
		{[]string{"-p", "010"}, cmd{Port: 10}}, // decimal, not octal
		{[]string{"--count", "3", "--ratio=2.5"}, cmd{Count: &three, Ratio: 2.5}},
		{[]string{"--output", "json", "--ca-file", "", "--max-bytes", "1099511627776"}, cmd{Output: "json", MaxBytes: 1 << 40}},
		{[]string{"-H", "a", "-H", "b"}, cmd{Host: "b"}}, // the last one counts
		{[]string{"-p", "80", "--"}, cmd{Port: 80}},
	} {
		got, action, err := parse(tt.args...)
		if err != nil || action != "" {
			t.Errorf("%q: action %q, error %v", tt.args, action, err)
			continue
		}
		// Defaults the case does not mention are the defaults.
		want := tt.want
		def, _, _ := parse()
		for _, f := range []struct{ got, def any }{{&want.Timeout, def.Timeout}, {&want.State, def.State}, {&want.Output, def.Output}} {
			if p := f.got.(*string); *p == "" {
				*p = f.def.(string)
			}
		}
		if want.Ratio == 0 {
			want.Ratio = def.Ratio
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, *got, want)
		}
	}
}

func TestActions(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		action string
		err    string
	}{
		{[]string{"--help"}, "help", ""},
		{[]string{"-h", "--bogus"}, "help", ""},
		{[]string{"-p", "80", "-V"}, "version", ""},
		{[]string{"-vV"}, "version", ""},
		{[]string{"--man-page"}, "man-page", ""},
		{[]string{"--bogus", "--help"}, "", "unknown flag --bogus"},
		{[]string{"-p", "x", "--version"}, "", `--port: "x" is not a whole number`},
	} {
		_, action, err := parse(tt.args...)
		if action != tt.action || (err == nil) != (tt.err == "") || err != nil && !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("%q: action %q, error %v; want %q, %q", tt.args, action, err, tt.action, tt.err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--hots", "x"}, "unknown flag --hots, did you mean --host?"},
		{[]string{"--rat", "1"}, "unknown flag --rat, did you mean --ratio?"},
		{[]string{"--u"}, "unknown flag --u, did you mean one of --udp, --use-ipv4?"},
		{[]string{"-p", "0x1bb"}, `--port: "0x1bb" is not a whole number`},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"-vx"}, "unknown flag -x"},
		{[]string{"extra"}, "unexpected argument extra"},
		{[]string{"--", "extra"}, "unexpected argument extra"},
		{[]string{"-p"}, "--port: needs a value"},
		{[]string{"-v", "--host"}, "--host: needs a value"},
		{[]string{"-e"}, "--expect: needs a value"},
		{[]string{"-p", "eighty"}, `--port: "eighty" is not a whole number`},
		{[]string{"-p", "99999999999999999999"}, `--port: "99999999999999999999" is not a whole number`},
		{[]string{"--ratio", "half"}, `--ratio: "half" is not a number`},
		{[]string{"--count", "x"}, `--count: "x" is not a whole number`},
		{[]string{"-w", ""}, "--warning: is empty"},
		{[]string{"--output", "xml"}, `--output must be one of nagios, json, not "xml"`},
		{[]string{"--udp=maybe"}, "--udp=maybe: a switch takes true or false (yes, no, 1, 0), or nothing"},
		{[]string{"--verbose=lots"}, "--verbose=lots: give a count"},
		{[]string{"--man"}, "unknown flag --man"}, // hidden flags are not suggested
	} {
		_, _, err := parse(tt.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, _, err := parse("-p"); !errors.Is(err, ErrMissing) {
		t.Errorf("a missing value is not ErrMissing: %v", err)
	}
}

// Mistakes in a command's struct are found when it is described, not
// when a user meets them.
func TestBadStructs(t *testing.T) {
	for name, target := range map[string]any{
		"not a pointer":     cmd{},
		"comma-split slice": &struct{ A []string }{},
		"map":               &struct{ A map[string]string }{},
		"bad default": &struct {
			A int `default:"x"`
		}{},
		"twice": &struct {
			A, B string `short:"a"`
		}{},
		"long short": &struct {
			A string `short:"ab"`
		}{},
		"help clash": &struct{ Help bool }{},
		"counter not int": &struct {
			V string `type:"counter"`
		}{},
		"pointer to bool": &struct{ B *bool }{},
		"unknown variable": &struct {
			S string `default:"${nope}"`
		}{},
	} {
		if _, err := New(target, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A repeated flag's default is replaced by what is given, not added to.
func TestRepeatedDefault(t *testing.T) {
	var c struct {
		Peer []string `sep:"none" default:"127.0.0.1/32"`
	}
	s, err := New(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Peer, []string{"127.0.0.1/32"}) {
		t.Fatalf("default %q", c.Peer)
	}
	if _, err := s.Parse([]string{"--peer", "a", "--peer", "b"}); err != nil || !reflect.DeepEqual(c.Peer, []string{"a", "b"}) {
		t.Errorf("given a, b: %q %v", c.Peer, err)
	}
}

func TestHelp(t *testing.T) {
	c := &cmd{}
	s, err := New(c, map[string]string{"state": "critical"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Flags {
		f.Help = "Help of " + f.Name + strings.Repeat(" and more words", 6) + "."
	}
	var b bytes.Buffer
	s.WriteHelp(&b, "check_x", "Check x: a first paragraph.\n\nA second one.")
	out := b.String()
	for _, want := range []string{"Usage: check_x [flags]\n\nCheck x: a first paragraph.\n\nA second one.\n\nFlags:\n",
		"  -h, --help ", "  -t, --timeout=TIMEOUT ", "      --ratio=RATIO ", "\nTarget:\n  -H, --host=HOST ", "  -u, --udp "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "man-page") {
		t.Errorf("a hidden flag is in the help:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > Width {
			t.Errorf("line longer than %d: %q", Width, line)
		}
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("aa bb cc dddddddddd e", 5)
	want := []string{"aa bb", "cc", "dddddddddd", "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
}

// Any command line: a result or an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"-H db -p 80", "-vvv -w -5:-1", "--count=3 -e a -e b", "-- x", "--output=xml", "-p", "-Hx -u4v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		_, _, _ = parse(strings.Fields(line)...)
	})
}

// A counter takes a count with =, and true/false from configurations
// written when it was a switch (Icinga's vars.socat_verbose = true).
func TestCounterLevels(t *testing.T) {
	for in, want := range map[string]int{"--verbose=2": 2, "--verbose=true": 1, "--verbose=yes": 1, "--verbose=false": 0, "-vvv": 3, "--verbose=0": 0} {
		c, _, err := parse(in)
		if err != nil || c.Verbose != want {
			t.Errorf("%s: %d, %v; want %d", in, c.Verbose, err, want)
		}
	}
	for _, in := range []string{"--verbose=-1", "--verbose=lots"} {
		if _, _, err := parse(in); err == nil || !strings.Contains(err.Error(), "--verbose") {
			t.Errorf("%s: %v", in, err)
		}
	}
}

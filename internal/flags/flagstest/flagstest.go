// Package flagstest checks a command's flags against a second parser:
// kong, which the binaries used before internal/flags and whose
// behaviour users learnt. Only tests import it; the binaries do not link
// kong.
package flagstest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/check-socat/check-socat/internal/flags"
)

// Samples are valid values by flag name. Every flag with a default needs
// one that differs from it (else a parser that dropped the value would
// pass); an enum's is chosen among its other values, a flag without a
// default gets a word.
type Samples map[string]string

// CommandLines returns command lines that exercise every flag of the
// command newCmd returns, in every form kong and internal/flags both
// accept: --flag value, --flag=value, -s value, -svalue, repeated, a
// value starting with a hyphen; and some that both must refuse.
func CommandLines(t *testing.T, newCmd func() any, vars map[string]string, samples Samples) [][]string {
	t.Helper()
	set, err := flags.New(newCmd(), vars)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	var all []string
	var switches string // short switches and counters, to combine
	for _, f := range set.Flags {
		if f.Name == flags.HelpFlag || f.Hidden || f.Name == "version" {
			continue
		}
		v, ok := sample(f, samples)
		if !ok {
			t.Errorf("--%s has the default %q: give flagstest a sample value that differs", f.Name, f.Default)
		}
		if f.Short != 0 && !f.TakesValue() {
			switches += string(f.Short)
		}
		switch f.Kind {
		case flags.Bool:
			lines = append(lines, []string{"--" + f.Name}, []string{"--" + f.Name + "=false"}, []string{"--" + f.Name + "=true"})
			all = append(all, "--"+f.Name)
		case flags.Counter:
			lines = append(lines, []string{"--" + f.Name}, []string{"--" + f.Name, "--" + f.Name})
			all = append(all, "--"+f.Name)
		case flags.Repeated:
			lines = append(lines, []string{"--" + f.Name, v}, []string{"--" + f.Name, v, "--" + f.Name + "=" + v + "2"}, []string{"--" + f.Name, "-" + v})
			all = append(all, "--"+f.Name, v)
		default:
			lines = append(lines, []string{"--" + f.Name, v}, []string{"--" + f.Name + "=" + v})
			all = append(all, "--"+f.Name, v)
			if len(f.Enum) == 0 {
				// A value for every flag of the wrong kind: a word
				// where a number or a state belongs; empty.
				lines = append(lines, []string{"--" + f.Name, "not-a-" + strings.ToLower(f.ValueName())}, []string{"--" + f.Name + "="})
			} else {
				lines = append(lines, []string{"--" + f.Name, "not-one-of-them"})
			}
		}
		if f.Short != 0 {
			switch f.Kind {
			case flags.Bool:
				lines = append(lines, []string{"-" + string(f.Short)})
			case flags.Counter:
				lines = append(lines, []string{"-" + strings.Repeat(string(f.Short), 3)})
			default:
				lines = append(lines, []string{"-" + string(f.Short), v}, []string{"-" + string(f.Short) + v})
			}
		}
	}
	// Short switches combined, then with a value flag last (-vvt5).
	if switches != "" {
		lines = append(lines, []string{"-" + switches})
		for _, f := range set.Flags {
			if f.Short != 0 && f.TakesValue() && !f.Hidden {
				v, _ := sample(f, samples)
				lines = append(lines, []string{"-" + switches + string(f.Short), v}, []string{"-" + switches + string(f.Short) + v})
			}
		}
	}
	lines = append(lines, all, nil, []string{"--bogus"}, []string{"-Z"}, []string{"stray"}, []string{"--", "stray"}, []string{"--timeout", "5", "--"})
	return lines
}

// sample is a valid value of f other than its default; false when the
// caller must give one.
func sample(f *flags.Flag, samples Samples) (string, bool) {
	if v, ok := samples[f.Name]; ok {
		return v, v != f.Default
	}
	for _, e := range f.Enum {
		if e != f.Default {
			return e, true
		}
	}
	if f.Default != "" {
		return f.Default, false
	}
	return "value-of-" + f.Name, true
}

// Agree parses each command line with kong (configured as the binaries
// configured it: hyphen-prefixed values allowed, the same variables) and
// with internal/flags, and fails unless both refuse it or both give the
// same struct.
//
// Where internal/flags differs on purpose, what it does is checked
// against what kong does with the spelling kong asks for: kong refuses a
// repeated flag's value that starts with a hyphen (-e -ERR, a Redis
// error) and suggests --expect=-ERR; internal/flags takes it as every
// other flag's value. (A value flag last on the line, which kong gives
// "" and internal/flags refuses, is not in the lines: the binaries'
// own tests hold it.)
func Agree(t *testing.T, newCmd func() any, vars map[string]string, lines [][]string) {
	t.Helper()
	for _, args := range lines {
		theirs := newCmd()
		kerr := kongParse(theirs, vars, args)
		if kerr != nil && strings.Contains(kerr.Error(), "perhaps try --") {
			theirs = newCmd()
			kerr = kongParse(theirs, vars, joinHyphenValues(args))
		}
		ours := newCmd()
		set, err := flags.New(ours, vars)
		if err != nil {
			t.Fatal(err)
		}
		action, oerr := set.Parse(args)
		if action != "" {
			t.Errorf("%q: action %q", args, action)
			continue
		}
		switch {
		case (kerr == nil) != (oerr == nil):
			t.Errorf("%q: kong says %v, internal/flags %v", args, kerr, oerr)
		case kerr == nil && !reflect.DeepEqual(theirs, ours):
			t.Errorf("%q: kong parsed\n%+v\ninternal/flags\n%+v", args, theirs, ours)
		}
	}
}

// joinHyphenValues writes "--flag -value" as "--flag=-value".
func joinHyphenValues(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "--") && !strings.Contains(args[i], "=") && i+1 < len(args) && strings.HasPrefix(args[i+1], "-") {
			out = append(out, args[i]+"="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func kongParse(cmd any, vars map[string]string, args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("kong: %v", v)
		}
	}()
	parser, err := kong.New(cmd, kong.Vars(vars), kong.WithHyphenPrefixedParameters(true),
		kong.Exit(func(code int) { panic(fmt.Sprintf("exit %d", code)) }))
	if err != nil {
		return err
	}
	_, err = parser.Parse(args)
	return err
}

package flags

import (
	"fmt"
	"io"
	"strings"
)

// Width is the width --help wraps its text to.
const Width = 80

// Visible returns the flags help shows: all but the hidden ones.
func (s *Set) Visible() []*Flag {
	var out []*Flag
	for _, f := range s.Flags {
		if !f.Hidden {
			out = append(out, f)
		}
	}
	return out
}

// Groups returns the visible flags by group, in the order the groups
// first appear; the common flags (group "") come first, as "Flags".
func (s *Set) Groups() (titles []string, byTitle map[string][]*Flag) {
	byTitle = map[string][]*Flag{}
	for _, f := range s.Visible() {
		g := f.Group
		if g == "" {
			g = "Flags"
		}
		if _, ok := byTitle[g]; !ok {
			titles = append(titles, g)
		}
		byTitle[g] = append(byTitle[g], f)
	}
	return titles, byTitle
}

// TakesValue reports whether the flag is given with a value.
func (f *Flag) TakesValue() bool { return f.Kind == Value || f.Kind == Repeated }

// Usage is the flag as help shows it: "-p, --port=PORT".
func (f *Flag) Usage() string {
	var b strings.Builder
	if f.Short != 0 {
		fmt.Fprintf(&b, "-%c, ", f.Short)
	} else {
		b.WriteString("    ")
	}
	b.WriteString("--" + f.Name)
	if f.TakesValue() {
		b.WriteString("=" + f.ValueName())
	}
	return b.String()
}

// ValueName is the placeholder of the flag's value: its placeholder
// tag, else its name in capitals.
func (f *Flag) ValueName() string {
	if f.Placeholder != "" {
		return f.Placeholder
	}
	return strings.ToUpper(f.Name)
}

// WriteHelp prints the help of a command: usage, the description
// (paragraphs separated by blank lines) and each group of flags with
// its help text, wrapped to Width.
func (s *Set) WriteHelp(w io.Writer, name, description string) {
	fmt.Fprintf(w, "Usage: %s [flags]\n", name)
	for _, p := range strings.Split(strings.TrimSpace(description), "\n\n") {
		fmt.Fprintf(w, "\n%s\n", strings.Join(Wrap(p, Width), "\n"))
	}
	titles, groups := s.Groups()
	for _, title := range titles {
		fmt.Fprintf(w, "\n%s:\n", title)
		col := 0
		for _, f := range groups[title] {
			col = max(col, len(f.Usage()))
		}
		col += 2 + 4 // indent, and a gap of four
		for _, f := range groups[title] {
			lines := Wrap(f.Help, Width-col)
			if len(lines) == 0 {
				lines = []string{""}
			}
			fmt.Fprintf(w, "  %-*s%s\n", col-2, f.Usage(), lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(w, "%*s%s\n", col, "", l)
			}
		}
	}
}

// Wrap breaks text into lines of at most width characters at spaces
// (a longer word gets a line of its own).
func Wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

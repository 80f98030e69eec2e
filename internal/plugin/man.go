package plugin

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/check-socat/check-socat/internal/version"
)

// manFlag is the hidden --man-page: it prints the binary's manual page
// (roff) from the same flag definitions and help texts as --help, so the
// two cannot drift, and exits 3 like --help. `make package` uses it.
type manFlag bool

// BeforeReset writes the page and ends the run.
func (manFlag) BeforeReset(app *kong.Kong, o *Options) error {
	applyHelp(app.Model.Node, o.Help)
	writeMan(app.Stdout, app.Model.Node, *o)
	app.Exit(3)
	return nil
}

// roff escapes text for a man page: backslashes, hyphens, and a dot or
// quote at the start of a line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			b.WriteString(`\&`)
		}
		b.WriteString(line)
	}
	return b.String()
}

func writeMan(w io.Writer, node *kong.Node, o Options) {
	name := o.Name
	desc := strings.TrimSpace(o.Description)
	summary := desc
	if i := strings.Index(summary, ": "); i > 0 && i < 80 {
		summary = summary[:i]
	} else if i := strings.Index(summary, ". "); i > 0 {
		summary = summary[:i]
	}
	fmt.Fprintf(w, ".TH %s 1 \"\" \"check_socat %s\" \"Monitoring plugins\"\n", strings.ToUpper(roff(name)), roff(version.Version))
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", roff(name), roff(strings.ToLower(summary[:1])+summary[1:]))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B %s\n[\\fIOPTIONS\\fR]\n", roff(name))
	fmt.Fprintf(w, ".SH DESCRIPTION\n")
	for _, p := range strings.Split(desc, "\n\n") {
		fmt.Fprintf(w, ".PP\n%s\n", roff(strings.Join(strings.Fields(p), " ")))
	}
	fmt.Fprintf(w, ".SH OPTIONS\n")
	groups := map[string][]*kong.Flag{}
	var order []string
	for _, f := range node.Flags {
		if f.Hidden || f.Name == "help" {
			continue
		}
		g := "General"
		if f.Group != nil {
			g = f.Group.Title
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], f)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] != "General" && order[j] == "General" })
	for _, g := range order {
		fmt.Fprintf(w, ".SS \"%s\"\n", roff(g))
		for _, f := range groups[g] {
			fmt.Fprintf(w, ".TP\n")
			var head []string
			if f.Short != 0 {
				head = append(head, fmt.Sprintf("\\fB\\-%c\\fR", f.Short))
			}
			long := fmt.Sprintf("\\fB\\-\\-%s\\fR", roff(f.Name))
			if !f.IsBool() && !f.IsCounter() {
				ph := f.PlaceHolder
				if ph == "" {
					ph = strings.ToUpper(f.Name)
				}
				long += fmt.Sprintf(" \\fI%s\\fR", roff(ph))
			}
			head = append(head, long)
			fmt.Fprintf(w, "%s\n%s\n", strings.Join(head, ", "), roff(f.Help))
		}
	}
	fmt.Fprintf(w, ".SH EXIT STATUS\n0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad arguments, \\-\\-help and \\-\\-version), and nothing else.\n")
	fmt.Fprintf(w, ".SH OUTPUT\nThe first line is STATE: summary | perfdata; the lines after it are the long output, one item per line, worst first. Text from outside is sanitized: a | becomes \\ex7c and control characters are escaped.\n")
	fmt.Fprintf(w, ".SH SEE ALSO\n")
	var others []string
	for _, b := range []string{"check_socat_endpoint", "check_socat_tls", "check_socat_procs", "check_socat_logs"} {
		if b != name {
			others = append(others, fmt.Sprintf(".BR %s (1)", b))
		}
	}
	fmt.Fprintf(w, "%s,\n.BR socat (1)\n", strings.Join(others, ",\n"))
}

package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/check-socat/check-socat/internal/flags"
	"github.com/check-socat/check-socat/internal/version"
)

// The hidden --man-page prints the binary's manual page (roff) from the
// same flag definitions and help texts as --help, so the two cannot
// drift, and exits 3 like --help. `make package` uses it.

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

func writeMan(w io.Writer, set *flags.Set, o Options) {
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
	order, groups := set.Groups()
	// The common flags last, as "General": a reader looks for the
	// binary's own first.
	if len(order) > 0 && order[0] == "Flags" {
		order = append(order[1:], "General")
		groups["General"] = groups["Flags"]
	}
	for _, g := range order {
		fmt.Fprintf(w, ".SS \"%s\"\n", roff(g))
		for _, f := range groups[g] {
			if f.Name == flags.HelpFlag {
				continue
			}
			fmt.Fprintf(w, ".TP\n")
			var head []string
			if f.Short != 0 {
				head = append(head, fmt.Sprintf("\\fB\\-%c\\fR", f.Short))
			}
			long := fmt.Sprintf("\\fB\\-\\-%s\\fR", roff(f.Name))
			if f.TakesValue() {
				long += fmt.Sprintf(" \\fI%s\\fR", roff(f.ValueName()))
			}
			head = append(head, long)
			fmt.Fprintf(w, "%s\n%s\n", strings.Join(head, ", "), roff(f.Help))
		}
	}
	if o.Man != nil {
		for _, sec := range o.Man() {
			fmt.Fprintf(w, ".SH %s\n", strings.ToUpper(roff(sec.Title)))
			for _, p := range sec.Paragraphs {
				fmt.Fprintf(w, ".PP\n%s\n", roff(p))
			}
			for _, e := range sec.Entries {
				fmt.Fprintf(w, ".TP\n\\fB%s\\fR\n%s\n", roff(e[0]), roff(e[1]))
			}
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

// RuntimeFindings are the findings the runtime itself makes, in every
// binary, for the manual pages.
var RuntimeFindings = [][2]string{
	{"timeout (--timeout-state)", "The deadline (-t) passed before the check ended; the subject names the stage it was at (DNS, connect, first byte, a log source...). What was read of a log is read again next run."},
	{"stopped (--timeout-state)", "SIGTERM or SIGINT ended the run, usually the caller's own timeout, shorter than -t."},
}

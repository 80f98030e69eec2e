// Package output renders a checks.Result as Nagios plugin output:
//
//	STATE: summary | perfdata
//	long output line
//	...
//
// Performance data goes on the first line, so that it survives any
// truncation further down the line (NRPE, --max-output). The whole output
// is bounded; what is cut is said.
package output

import (
	"fmt"
	"strings"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/sanitize"
)

// MinSize is the smallest --max-output accepted: room for a state word, a
// useful summary and the perfdata of a typical run.
const MinSize = 256

// Render returns the plugin output for r, at most max bytes (0: no bound),
// ending in a newline.
func Render(r checks.Result, max int) string {
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	head := r.State.String() + ": "
	summary := sanitize.Line(strings.TrimSpace(r.Summary))

	// Perfdata survives: metrics are kept in order while they fit in what
	// is left after the state word, a short summary and the note that says
	// what was cut.
	const perfNote = "... %d more performance data items cut by --max-output\n"
	const subjectNote = "... %d performance data items of single %s left out: --max-output %d holds only the check's own (NRPE 2 takes 1024 bytes, NRPE 4 65536)\n"
	room := max - len(head) - len(" | ") - 40 - 1
	all := r.Perf()
	perf, cutPerf := fitPerf(all, room)
	note := ""
	switch {
	case cutPerf == 0:
	case r.SubjectLabel != "":
		// Every item or the check's own: a line never ends in the middle
		// of the items of one instance.
		own := r.PerfWithout(r.SubjectLabel)
		n := fmt.Sprintf(subjectNote, len(all)-len(own), strings.TrimPrefix(r.SubjectLabel, "socat_")+"s", max)
		if p, cut := fitPerf(own, room-len(n)); cut == 0 {
			perf, note = p, n
			break
		}
		fallthrough
	default:
		perf, cutPerf = fitPerf(all, room-len(perfNote))
		note = fmt.Sprintf(perfNote, cutPerf)
	}
	tail := ""
	if perf != "" {
		tail = " | " + perf
	}
	// One detail is one line: a newline inside it (text from outside that
	// escaped sanitizing) is escaped, never a new line of output.
	lines := LongOutput(r)

	// The summary gets what is left after perfdata, the note, and room to
	// say that long output was cut.
	budget := max - len(head) - len(tail) - 1 - len(note)
	if len(lines) > 0 {
		budget -= len(moreLine(len(lines)))
	}
	if len(summary) > budget {
		summary = cutString(summary, budget-len(sanitize.Ellipsis)) + sanitize.Ellipsis
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(summary)
	b.WriteString(tail)
	b.WriteByte('\n')
	b.WriteString(note)

	for i, l := range lines {
		l = sanitize.Line(l)
		need := len(l) + 1
		if left := len(lines) - i - 1; left > 0 {
			need += len(moreLine(left))
		}
		if b.Len()+need > max {
			b.WriteString(moreLine(len(lines) - i))
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// LongOutput is the lines under the first one: each finding (and the
// evidence under it), then the details.
func LongOutput(r checks.Result) []string {
	var lines []string
	for _, f := range r.Findings {
		if f.Quiet {
			continue
		}
		lines = append(lines, f.NagiosLine())
		lines = append(lines, f.Evidence...)
	}
	return append(lines, r.Details...)
}

func moreLine(n int) string { return fmt.Sprintf("... %d more\n", n) }

// fitPerf joins as many metrics as fit in room bytes and says how many
// were left out.
func fitPerf(ms []perfdata.Metric, room int) (string, int) {
	var b strings.Builder
	for i, m := range ms {
		s := m.String()
		if b.Len() > 0 {
			s = " " + s
		}
		if b.Len()+len(s) > room {
			return b.String(), len(ms) - i
		}
		b.WriteString(s)
	}
	return b.String(), 0
}

// cutString cuts s to at most n bytes without splitting a UTF-8 sequence
// or an escape (\x7c, \u202e, \n) that sanitize wrote.
func cutString(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	s = s[:n]
	// An escape is a backslash and up to 5 more bytes; drop a partial one.
	if i := strings.LastIndexByte(s, '\\'); i >= 0 && len(s)-i < 6 {
		want := map[byte]int{'x': 4, 'u': 6}[safeByte(s, i+1)]
		if want == 0 {
			want = 2
		}
		if backslashes(s, i)%2 == 1 && len(s)-i < want {
			s = s[:i]
		}
	}
	return s
}

func safeByte(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// backslashes counts the run of backslashes ending at i, so that an
// escaped backslash (\\) is not taken for the start of an escape.
func backslashes(s string, i int) int {
	n := 0
	for ; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

package endpoint

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/sanitize"
)

type verdict int

const (
	matchPending verdict = iota // not yet: more data may complete it
	matchAll                    // every expectation is met: stop reading
	matchNever                  // cannot be met any more (--expect-bytes differs)
	matchReject                 // a --reject string or --reject-regex was found
	matchUntil                  // the --until marker arrived: the response is complete
)

// matcher tracks the expectations over a growing response. Substrings are
// searched only in the part that could hold a new match, so a response
// read in many small pieces costs linear time.
type matcher struct {
	subs    [][]byte
	found   []bool
	scanned []int // per substring: where the next search starts
	re      *regexp.Regexp
	reOK    bool
	// The regex cannot resume where it stopped: it runs over the whole
	// response again. reTried is the length it last ran on and reWork the
	// bytes it has run over; runs are skipped while that work would pass
	// 4x the response plus 1 MiB, so a large response costs linear time,
	// and finish gives it a last run before the response is judged.
	reTried  int
	reWork   int
	reTook   time.Duration // the last run's time
	prefix   []byte
	prefixOK bool
	// shown is each --expect as the user typed it.
	shown []string

	rejects   [][]byte
	rejectAt  []int // per reject string: where the next search starts
	rejectRes []*regexp.Regexp
	rejTried  int // the length the reject regexes last ran on
	rejWork   int
	rejected  string // what was found, for the output
	until     []byte
	untilAt   int
	untilSeen bool
}

func newMatcher(c *Config) *matcher {
	return &matcher{
		subs:      c.Expect,
		shown:     c.ExpectShown,
		found:     make([]bool, len(c.Expect)),
		scanned:   make([]int, len(c.Expect)),
		re:        c.ExpectRegex,
		prefix:    c.ExpectBytes,
		rejects:   c.Reject,
		rejectAt:  make([]int, len(c.Reject)),
		rejectRes: c.RejectRegex,
		until:     c.Until,
	}
}

// feed looks at the response so far. A rejected response is judged
// before anything else: "-NOAUTH" after a "+PONG" is still a refusal.
func (m *matcher) feed(buf []byte) verdict {
	if m.rejectedIn(buf, false) {
		return matchReject
	}
	v := m.expect(buf)
	if v == matchNever {
		return v
	}
	if len(m.until) > 0 {
		// The response is read to --until, whatever the expectations
		// say so far: what comes before it is judged whole (a --reject
		// near the end of a page is seen).
		if bytes.Contains(buf[m.untilAt:], m.until) {
			m.untilSeen = true
			return matchUntil
		}
		m.untilAt = max(0, len(buf)-len(m.until)+1)
		return matchPending
	}
	if v == matchAll && m.total() == 0 {
		v = matchPending // only rejections: read to the end
	}
	return v
}

// rejectedIn looks for the --reject strings in what is new, and runs the
// --reject-regex (over the whole response: within the regex's work
// budget, and always when final).
func (m *matcher) rejectedIn(buf []byte, final bool) bool {
	if m.rejected != "" {
		return true
	}
	for i, r := range m.rejects {
		if bytes.Contains(buf[m.rejectAt[i]:], r) {
			m.rejected = fmt.Sprintf("--reject \"%s\"", sanitize.Bytes(r, 40))
			return true
		}
		m.rejectAt[i] = max(0, len(buf)-len(r)+1)
	}
	if len(m.rejectRes) > 0 && len(buf) > m.rejTried && (final || m.rejWork+len(buf)*len(m.rejectRes) <= 4*len(buf)+1<<20) {
		m.rejTried, m.rejWork = len(buf), m.rejWork+len(buf)*len(m.rejectRes)
		for _, re := range m.rejectRes {
			if re.Match(buf) {
				m.rejected = fmt.Sprintf("--reject-regex \"%s\"", sanitize.Text(re.String(), 40))
				return true
			}
		}
	}
	return false
}

// rejectWhy says what was rejected and what was received.
func (m *matcher) rejectWhy(buf []byte) string {
	return fmt.Sprintf("the response matches %s; received %d B: \"%s\"", m.rejected, len(buf), sanitize.Bytes(buf, 60))
}

// expect looks at the expectations.
func (m *matcher) expect(buf []byte) verdict {
	for i, s := range m.subs {
		if m.found[i] {
			continue
		}
		from := m.scanned[i]
		if bytes.Contains(buf[from:], s) {
			m.found[i] = true
		} else {
			m.scanned[i] = max(0, len(buf)-len(s)+1)
		}
	}
	if m.re != nil && !m.reOK && len(buf) > m.reTried && m.reWork+len(buf) <= 4*len(buf)+1<<20 {
		m.tryRegex(buf)
	}
	if len(m.prefix) > 0 {
		n := min(len(buf), len(m.prefix))
		if !bytes.Equal(buf[:n], m.prefix[:n]) {
			return matchNever
		}
		m.prefixOK = n == len(m.prefix)
	}
	if m.met() == m.total() {
		return matchAll
	}
	return matchPending
}

func (m *matcher) tryRegex(buf []byte) {
	start := time.Now()
	m.reOK = m.re.Match(buf)
	m.reTried, m.reWork, m.reTook = len(buf), m.reWork+len(buf), time.Since(start)
}

// deferred reports that the regex skipped bytes it has not run over, and
// how long to wait for more data before giving it a run anyway: four
// times its last run, so that a peer that pauses often cannot make it
// take more than a fifth of the time.
func (m *matcher) deferred(buf []byte) (time.Duration, bool) {
	if m.re == nil || m.reOK || len(buf) <= m.reTried {
		return 0, false
	}
	return max(4*m.reTook, time.Millisecond), true
}

// finish looks at the whole response once more before it is judged: the
// regex may not have run on its last bytes.
func (m *matcher) finish(buf []byte) verdict {
	if m.rejectedIn(buf, true) {
		return matchReject
	}
	if m.re != nil && !m.reOK && len(buf) > m.reTried {
		m.tryRegex(buf)
	}
	if m.met() == m.total() {
		return matchAll
	}
	return matchPending
}

func (m *matcher) total() int {
	n := len(m.subs)
	if m.re != nil {
		n++
	}
	if len(m.prefix) > 0 {
		n++
	}
	return n
}

// met counts the expectations met so far.
func (m *matcher) met() int {
	n := 0
	for _, f := range m.found {
		if f {
			n++
		}
	}
	if m.reOK {
		n++
	}
	if len(m.prefix) > 0 && m.prefixOK {
		n++
	}
	return n
}

// why says which expectations failed and what was received.
func (m *matcher) why(buf []byte, scope string) string {
	var missing []string
	for i, s := range m.subs {
		if !m.found[i] {
			text := sanitize.Bytes(s, 40)
			if i < len(m.shown) && typedSafe(m.shown[i]) {
				text = m.shown[i] // as typed: \x0a\x09, not \n\t
			}
			missing = append(missing, fmt.Sprintf("\"%s\" not found", text))
		}
	}
	if m.re != nil && !m.reOK {
		missing = append(missing, fmt.Sprintf("regex \"%s\" did not match", sanitize.Text(m.re.String(), 40)))
	}
	if len(m.prefix) > 0 && !m.prefixOK {
		got := buf[:min(len(buf), len(m.prefix))]
		missing = append(missing, fmt.Sprintf("does not start with %x (got %x)", m.prefix, got))
	}
	if len(missing) == 0 && len(m.until) > 0 && !m.untilSeen {
		missing = append(missing, fmt.Sprintf("--until \"%s\" did not arrive", sanitize.Bytes(m.until, 40)))
	}
	if len(missing) == 0 {
		missing = append(missing, "the response was not complete")
	}
	return fmt.Sprintf("%s in %s; received %d B: \"%s\"", strings.Join(missing, ", "), scope, len(buf), sanitize.Bytes(buf, 60))
}

// typedSafe reports whether a flag's text can be shown as typed: short
// printable ASCII without Nagios' perfdata separator.
func typedSafe(s string) bool {
	if len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '|' {
			return false
		}
	}
	return true
}

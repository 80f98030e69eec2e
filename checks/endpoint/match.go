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
}

func newMatcher(c *Config) *matcher {
	return &matcher{
		subs:    c.Expect,
		found:   make([]bool, len(c.Expect)),
		scanned: make([]int, len(c.Expect)),
		re:      c.ExpectRegex,
		prefix:  c.ExpectBytes,
	}
}

// feed looks at the response so far.
func (m *matcher) feed(buf []byte) verdict {
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
			missing = append(missing, fmt.Sprintf("\"%s\" not found", sanitize.Bytes(s, 40)))
		}
	}
	if m.re != nil && !m.reOK {
		missing = append(missing, fmt.Sprintf("regex \"%s\" did not match", sanitize.Text(m.re.String(), 40)))
	}
	if len(m.prefix) > 0 && !m.prefixOK {
		got := buf[:min(len(buf), len(m.prefix))]
		missing = append(missing, fmt.Sprintf("does not start with %x (got %x)", m.prefix, got))
	}
	return fmt.Sprintf("%s in %s; received %d B: \"%s\"", strings.Join(missing, ", "), scope, len(buf), sanitize.Bytes(buf, 60))
}

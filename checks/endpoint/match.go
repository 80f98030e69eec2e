package endpoint

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

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
	subs     [][]byte
	found    []bool
	scanned  []int // per substring: where the next search starts
	re       *regexp.Regexp
	reOK     bool
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
	if m.re != nil && !m.reOK {
		m.reOK = m.re.Match(buf)
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

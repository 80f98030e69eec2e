// Package sanitize makes text from outside (server banners, log lines,
// command lines, certificate fields) safe to print in plugin output: no '|'
// (which would start performance data), no control characters (which would
// start a new line or drive a terminal), no invalid UTF-8, and a bounded
// length.
package sanitize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks text that was cut.
const Ellipsis = "..."

// Text escapes s for output and cuts it to at most max bytes of escaped
// text (max <= 0: no limit) plus the "..." that marks a cut; an escape is
// never split. Backslashes are
// doubled so that the escaping is unambiguous: a peer cannot fake an
// escape sequence.
func Text(s string, max int) string {
	return escape(s, max, true)
}

// Bytes is Text for raw bytes.
func Bytes(b []byte, max int) string {
	return escape(string(b), max, true)
}

// Line makes one line of our own output safe: it escapes '|' and control
// characters but leaves backslashes alone, so text that Text already
// escaped passes unchanged. The renderer applies it to every line as a last
// line of defence.
func Line(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '|' || c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return escape(s, 0, false)
}

func escape(s string, max int, backslash bool) string {
	var b strings.Builder
	if max > 0 {
		b.Grow(min(len(s), max) + len(Ellipsis))
	} else {
		b.Grow(len(s))
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size <= 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '|':
			piece = `\x7c`
		case r == '\\' && backslash:
			piece = `\\`
		case r == '\n':
			piece = `\n`
		case r == '\r':
			piece = `\r`
		case r == '\t':
			piece = `\t`
		case r < 0x20 || r == 0x7f:
			piece = fmt.Sprintf(`\x%02x`, r)
		case r >= 0x80 && !unicode.IsPrint(r):
			// C1 controls, bidi overrides, line/paragraph separators...
			piece = fmt.Sprintf(`\u%04x`, r)
		default:
			piece = s[i : i+size]
		}
		if max > 0 && b.Len()+len(piece) > max {
			b.WriteString(Ellipsis)
			return b.String()
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}

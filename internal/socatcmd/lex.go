package socatcmd

import "strings"

// maxToken is socat's buffer for one keyword, parameter or option value
// (char token[512], the last byte for the terminating NUL).
const maxToken = 511

// lexer reproduces socat's nestlex(): it scans s from pos and returns the
// text up to the first unescaped, unquoted, unnested end pattern.
//
//   - a backslash escapes the next character; \0 \a \b \f \n \r \t \v are
//     C escapes (socat calls nestlex with c_esc = true);
//   - '...' is a hard quote (no nesting inside), "..." a soft quote (nesting
//     and hard quotes inside); at the top level both quote characters are
//     dropped, inside a nest or a quote they are kept;
//   - ( ) [ ] { } (and for addresses ' ') nest: ends are not recognised
//     inside, and the brackets themselves are kept.
type lexer struct {
	hquotes, squotes []string
	nests            []string // pairs: open, close
}

var (
	// The address keyword and its parameters (xioparse_single).
	addrLexer = &lexer{hquotes: []string{"'"}, squotes: []string{`"`}, nests: []string{"'", "'", "(", ")", "[", "]", "{", "}"}}
	// Option names and values (parseopts_table).
	optLexer = &lexer{hquotes: []string{"'"}, squotes: []string{`"`}, nests: []string{"(", ")", "[", "]", "{", "}"}}
)

// errTooLong is returned when a token exceeds socat's limit.
type errTooLong struct{}

func (errTooLong) Error() string { return "a token is longer than socat's 511-byte limit" }

// unterminated describes an opening quote or bracket without its end:
// socat then reads past the end of its argument (into the environment),
// so what it runs is uncertain. The model closes it at the end and keeps
// going, and says so.
func unterminated(open string) string {
	return "unterminated " + open + " (socat reads past the end of the argument)"
}

// nextWarn scans one token. It returns the token, the position of the end
// pattern (or len(s)), a warning for an unterminated quote or bracket
// (closed at the end of the input), and errTooLong when socat would refuse
// the token.
func (l *lexer) nextWarn(s string, pos int, ends []string) (string, int, string, error) {
	var out strings.Builder
	var warn string
	p, err := l.scan(s, pos, &out, ends, l.hquotes, l.squotes, l.nests, true, &warn)
	if err == nil && out.Len() > maxToken {
		err = errTooLong{}
	}
	tok := out.String()
	// socat's token is a C string: a \0 escape ends it, whatever follows
	// (TCP-LISTEN\0x is TCP-LISTEN to socat).
	if i := strings.IndexByte(tok, 0); i >= 0 {
		tok = tok[:i]
	}
	return tok, p, warn, err
}

func hasPrefixAny(s string, pos int, pats []string) int {
	for i, p := range pats {
		if strings.HasPrefix(s[pos:], p) {
			return i
		}
	}
	return -1
}

// quoted scans a quoted part opened by q at pos, up to its close; done
// is true when the input ended inside it (socat closes it there: a
// warning).
func (l *lexer) quoted(s string, pos int, out *strings.Builder, q string, hquotes, squotes, nests []string, dropquotes bool, warn *string) (int, bool, error) {
	if !dropquotes {
		out.WriteString(q)
	}
	pos += len(q)
	pos, err := l.scan(s, pos, out, []string{q}, hquotes, squotes, nests, false, warn)
	if err != nil {
		return pos, true, err
	}
	if pos >= len(s) {
		if *warn == "" {
			*warn = unterminated(q)
		}
		return pos, true, nil
	}
	if !dropquotes {
		out.WriteString(q) // the closing quote
	}
	return pos + len(q), false, nil
}

func (l *lexer) scan(s string, pos int, out *strings.Builder, ends, hquotes, squotes, nests []string, dropquotes bool, warn *string) (int, error) {
	for pos < len(s) {
		if out.Len() > 4*maxToken {
			return pos, errTooLong{} // bound the work on hostile input
		}
		if hasPrefixAny(s, pos, ends) >= 0 {
			return pos, nil
		}
		// A hard quote protects everything up to its close; a soft quote
		// still lets nested quotes and brackets work inside it.
		if i := hasPrefixAny(s, pos, hquotes); i >= 0 {
			var done bool
			var err error
			if pos, done, err = l.quoted(s, pos, out, hquotes[i], nil, nil, nil, dropquotes, warn); err != nil || done {
				return pos, err
			}
			continue
		}
		if i := hasPrefixAny(s, pos, squotes); i >= 0 {
			var done bool
			var err error
			if pos, done, err = l.quoted(s, pos, out, squotes[i], hquotes, squotes, nests, dropquotes, warn); err != nil || done {
				return pos, err
			}
			continue
		}
		nested := false
		for i := 0; i+1 < len(nests); i += 2 {
			if strings.HasPrefix(s[pos:], nests[i]) {
				open, close := nests[i], nests[i+1]
				out.WriteString(open)
				pos += len(open)
				var err error
				pos, err = l.scan(s, pos, out, []string{close}, hquotes, squotes, nests, false, warn)
				if err != nil {
					return pos, err
				}
				if pos >= len(s) {
					if *warn == "" {
						*warn = unterminated(open)
					}
					return pos, nil
				}
				out.WriteString(close)
				pos += len(close)
				nested = true
				break
			}
		}
		if nested {
			continue
		}
		c := s[pos]
		pos++
		if c == '\\' {
			if pos >= len(s) {
				break // a trailing backslash is dropped
			}
			c = s[pos]
			pos++
			switch c {
			case '0':
				c = 0
			case 'a':
				c = '\a'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'v':
				c = '\v'
			}
		}
		out.WriteByte(c)
	}
	return pos, nil
}

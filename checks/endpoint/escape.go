package endpoint

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Unescape decodes the escapes of --send and --expect: \n \r \t \\ \0 and
// \xHH. Any other backslash sequence is an error, so that a typo does not
// silently send something else.
func Unescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("ends in a lone backslash: write \\\\ for a backslash")
		}
		i++
		switch s[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '\\':
			out = append(out, '\\')
		case '0':
			out = append(out, 0)
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("\\x at offset %d needs two hex digits", i-1)
			}
			b, err := hex.DecodeString(s[i+1 : i+3])
			if err != nil {
				return nil, fmt.Errorf("\\x at offset %d needs two hex digits, got %q", i-1, s[i+1:i+3])
			}
			out = append(out, b[0])
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c at offset %d: use \\n \\r \\t \\\\ \\0 or \\xHH", s[i], i-1)
		}
	}
	return out, nil
}

// ParseHex decodes --expect-bytes: hex digits, with spaces, colons, commas
// or dashes between bytes and an optional 0x on each ("16 03 03",
// "16:03:03", "0x16 0x03").
func ParseHex(s string) ([]byte, error) {
	var digits strings.Builder
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' || r == '-' || r == ',' }) {
		digits.WriteString(strings.TrimPrefix(strings.TrimPrefix(tok, "0x"), "0X"))
	}
	if digits.Len() == 0 {
		return nil, fmt.Errorf("%q holds no bytes: give hex digits such as 16030300", s)
	}
	out, err := hex.DecodeString(digits.String())
	if err != nil {
		return nil, fmt.Errorf("%q is not hex bytes: give pairs of hex digits such as 16030300", s)
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

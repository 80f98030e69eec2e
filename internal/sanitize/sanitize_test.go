package sanitize

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"HTTP/1.1 200 OK", 0, "HTTP/1.1 200 OK"},
		{"a|b", 0, `a\x7cb`},
		{"line1\r\nline2\x00\x1b[31m", 0, `line1\r\nline2\x00\x1b[31m`},
		{`C:\x7c`, 0, `C:\\x7c`},
		{"caf\xc3\xa9 \xff", 0, `café \xff`},
		{"rtl\u202eevil", 0, `rtl\u202eevil`},
		{"abcdefghij", 5, "abcde..."},
		{"ab|cd", 4, "ab..."},
		{"tab\there", 0, `tab\there`},
		{"del\x7f", 0, `del\x7f`},
	}
	for _, tt := range tests {
		if got := Text(tt.in, tt.max); got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestLineLeavesEscapedTextAlone(t *testing.T) {
	s := Text("x|y\\z\n", 0)
	if got := Line(s); got != s {
		t.Errorf("Line(%q) = %q", s, got)
	}
	if got := Line("own|text\nmore"); got != `own\x7ctext\nmore` {
		t.Errorf("Line = %q", got)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a|b", "\x00\xff\n", "\u2028|\\"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		for _, out := range []string{Text(s, max), Line(s)} {
			if strings.ContainsAny(out, "|\n\r\x00") {
				t.Fatalf("unsafe output %q for %q", out, s)
			}
		}
		if max > 0 && len(Text(s, max)) > max+len(Ellipsis) {
			t.Fatalf("Text(%q, %d) too long", s, max)
		}
	})
}

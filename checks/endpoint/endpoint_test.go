package endpoint

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/internal/state"
)

func TestUnescape(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{`GET / HTTP/1.0\r\n\r\n`, []byte("GET / HTTP/1.0\r\n\r\n")},
		{`a\tb\\c\0d`, []byte("a\tb\\c\x00d")},
		{`\x16\x03\x01`, []byte{0x16, 3, 1}},
		{`\xfF`, []byte{0xff}},
		{`plain`, []byte("plain")},
		{``, []byte{}},
	}
	for _, tt := range tests {
		got, err := Unescape(tt.in)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`\`, `a\q`, `\x`, `\x1`, `\xZZ`, `C:\path`} {
		if _, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) accepted", bad)
		}
	}
}

func TestParseHex(t *testing.T) {
	for in, want := range map[string][]byte{"16030300": {0x16, 3, 3, 0}, "16:03:03": {0x16, 3, 3}, "0x5353 48": {0x53, 0x53, 0x48}, "de-ad": {0xde, 0xad}} {
		got, err := ParseHex(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseHex(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0x", "abc", "zz", "12 3"} {
		if _, err := ParseHex(bad); err == nil {
			t.Errorf("ParseHex(%q) accepted", bad)
		}
	}
}

func TestMatcher(t *testing.T) {
	cfg := &Config{Expect: [][]byte{[]byte("OK"), []byte("ready")}, ExpectRegex: regexp.MustCompile(`v\d+`)}
	m := newMatcher(cfg)
	steps := []struct {
		buf  string
		want verdict
	}{
		{"+O", matchPending},
		{"+OK v", matchPending}, // "OK" split across reads is still found
		{"+OK v2 rea", matchPending},
		{"+OK v2 ready", matchAll},
	}
	for _, s := range steps {
		if got := m.feed([]byte(s.buf)); got != s.want {
			t.Errorf("feed(%q) = %v, want %v", s.buf, got, s.want)
		}
	}
	prefix := newMatcher(&Config{ExpectBytes: []byte{0x16, 0x03}})
	if got := prefix.feed([]byte{0x16}); got != matchPending {
		t.Errorf("partial prefix: %v", got)
	}
	if got := prefix.feed([]byte{0x16, 0x03, 0x01}); got != matchAll {
		t.Errorf("prefix: %v", got)
	}
	wrong := newMatcher(&Config{ExpectBytes: []byte("SSH")})
	if got := wrong.feed([]byte("HT")); got != matchNever {
		t.Errorf("a wrong prefix must fail at once: %v", got)
	}
	if why := wrong.why([]byte("HT"), "x"); !strings.Contains(why, "does not start with 535348 (got 4854)") {
		t.Errorf("why = %q", why)
	}
}

// The regex runs over the whole response each time: over a large
// response read in many pieces its work stays linear (it runs less
// often), and finish still judges the whole response.
func TestMatcherRegexWorkIsLinear(t *testing.T) {
	m := newMatcher(&Config{ExpectRegex: regexp.MustCompile(`[A-Z]{3}`)})
	const piece, size = 4 << 10, 8 << 20
	buf := make([]byte, 0, size+3)
	for len(buf) < size {
		buf = append(buf, bytes.Repeat([]byte("a"), piece)...)
		if m.feed(buf) != matchPending {
			t.Fatal("matched lowercase")
		}
	}
	if m.reWork > 4*len(buf)+1<<20 {
		t.Errorf("the regex ran over %d MiB for a %d MiB response", m.reWork>>20, len(buf)>>20)
	}
	buf = append(buf, "END"...)
	m.feed(buf) // may skip the run: its budget is spent
	if got := m.finish(buf); got != matchAll {
		t.Errorf("finish on the whole response: %v", got)
	}
	// A small response is looked at on every read: the match ends the
	// read at once.
	small := newMatcher(&Config{ExpectRegex: regexp.MustCompile(`v\d`)})
	if small.feed([]byte("version v")) != matchPending || small.feed([]byte("version v2")) != matchAll {
		t.Error("a small response was not matched on the read that completed it")
	}
}

func validConfig() Config {
	return Config{Host: "127.0.0.1", Port: 1, MaxBytes: 65536, Connections: 1, RefusedState: state.Critical, MismatchState: state.Critical}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no target", func(c *Config) { c.Host = "" }, "no target"},
		{"no port", func(c *Config) { c.Port = 0 }, "-p/--port is missing"},
		{"port range", func(c *Config) { c.Port = 70000 }, "-p/--port 70000 is not a port"},
		{"unix and host", func(c *Config) { c.Unix = "/x" }, "--unix cannot be combined"},
		{"unix and udp", func(c *Config) { c.Host, c.Port, c.Unix, c.UDP = "", 0, "/x", true }, "--udp cannot be combined with --unix"},
		{"udp without payload", func(c *Config) { c.UDP = true }, "--udp needs --send or --echo-bytes"},
		{"udp and tls", func(c *Config) { c.UDP, c.Send, c.TLS = true, []byte("x"), &TLSConfig{} }, "--tls cannot be combined with --udp"},
		{"echo and send", func(c *Config) { c.EchoBytes, c.Send = 10, []byte("x") }, "--echo-bytes cannot be combined"},
		{"connections", func(c *Config) { c.Connections = 0 }, "--connections 0 is out of range"},
		{"too many connections", func(c *Config) { c.Connections = MaxConnections + 1 }, "--connections 4097"},
		{"retries", func(c *Config) { c.Retries = -1 }, "--retries -1"},
		{"max-bytes", func(c *Config) { c.MaxBytes = 0 }, "--max-bytes 0"},
		{"source not ip", func(c *Config) { c.Source = "eth0" }, `--source "eth0" is not an IP address`},
		{"source family", func(c *Config) { c.Source, c.Family = "::1", 4 }, "--source ::1 does not match -4"},
		{"host family", func(c *Config) { c.Family = 6 }, "-H 127.0.0.1 is not an IPv6 address"},
		{"key without cert", func(c *Config) { c.TLS = &TLSConfig{KeyFile: "k"} }, "--key needs --cert"},
		{"unix tls without name", func(c *Config) { c.Host, c.Port, c.Unix, c.TLS = "", 0, "/x", &TLSConfig{} }, "--tls with --unix needs --sni"},
	}
	for _, tt := range tests {
		c := validConfig()
		tt.mutate(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// The echo checker regenerates the sender's stream from the seed in
// differently sized pieces; the stream must not depend on the piece size.
func TestStreamIsChunkIndependent(t *testing.T) {
	seed := newSeed()
	a := make([]byte, 100000)
	_, _ = stream(seed).Read(a)
	b := make([]byte, 0, len(a))
	s := stream(seed)
	for _, n := range []int{1, 7, 8, 13, 4096, 32768, 100000} {
		n = min(n, len(a)-len(b))
		piece := make([]byte, n)
		_, _ = s.Read(piece)
		b = append(b, piece...)
	}
	if len(b) != len(a) || !bytes.Equal(a[:len(b)], b) {
		t.Fatal("the stream depends on how it is read")
	}
}

package tlscheck

import (
	"strings"
	"testing"
)

func TestQuoteAnswer(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", `: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"`},
		{"HTTP/1.1 400 Bad Request\r\nServer: x\r\n", `: "HTTP/1.1 400 Bad Request"`},
		{"a | b", `: "a \x7c b"`}, // no perfdata separator reaches the summary
		{"\xff\xfb\x01\xff\xfb\x03", ": bytes ff fb 01 ff fb 03"},
		{"\r\nlater", ": bytes 0d 0a 6c 61 74 65 72"},
		{"", ""},
		{"Grüße aus Köln\r\n", `: "Grüße aus Köln"`},
		{strings.Repeat("x", 64), `: "` + strings.Repeat("x", 64) + `..."`},
	} {
		if got := quoteAnswer([]byte(c.in)); got != c.want {
			t.Errorf("quoteAnswer(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

package endpoint

import (
	"strings"
	"testing"
)

func TestHTTPStatusLine(t *testing.T) {
	for _, c := range []struct {
		in       string
		code     int
		complete bool
		err      string
	}{
		{"HTTP/1.1 200 OK\r\n", 200, true, ""},
		{"HTTP/1.0 404 Not Found\n", 404, true, ""},
		{"HTTP/1.1 5", 0, false, ""},
		{"HTTP/1.1 500 Internal Server Error", 0, false, ""}, // no line end yet
		{"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\n", 200, true, ""},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\n", 500, true, ""},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 5", 0, false, ""},
		{"HTTP/1.1 100 Continue\r\nX: y\r\n", 0, false, ""}, // the interim block goes on
		{"HTTP/1.1 101 Switching Protocols\r\n", 101, true, ""},
		{"SSH-2.0-OpenSSH_9.2\r\n", 0, true, "not an HTTP"},
		{"GET / HTTP/1.1\r\n", 0, true, "not an HTTP"},
		{"HTTP/1.1 2000 OK\r\n", 0, true, "not an HTTP status line"},
	} {
		code, _, complete, err := httpStatus([]byte(c.in))
		if code != c.code || complete != c.complete || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: code %d complete %v err %v; want %d %v %q", c.in, code, complete, err, c.code, c.complete, c.err)
		}
	}
}

func TestHTTPHostHeader(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		host string
		want string
	}{
		{Config{Host: "127.0.0.1", Port: 8080}, "", "Host: 127.0.0.1:8080\r\n"},
		{Config{Host: "relay.example", Port: 80}, "", "Host: relay.example\r\n"},
		{Config{Host: "::1", Port: 80}, "", "Host: [::1]\r\n"},
		{Config{Host: "::1", Port: 8080}, "", "Host: [::1]:8080\r\n"},
		{Config{Host: "10.0.0.1", Port: 443, TLS: &TLSConfig{}}, "", "Host: 10.0.0.1\r\n"},
		{Config{Host: "10.0.0.1", Port: 8443, TLS: &TLSConfig{SNI: "app.example"}}, "", "Host: app.example:8443\r\n"},
		{Config{Host: "10.0.0.1", Port: 443, TLS: &TLSConfig{SNI: "app.example"}}, "", "Host: app.example\r\n"},
		{Config{Unix: "/run/app.sock"}, "", "Host: localhost\r\n"},
		{Config{Host: "10.0.0.1", Port: 8080}, "vhost.example", "Host: vhost.example\r\n"},
	} {
		h := &HTTPCheck{Path: "/", Host: c.host}
		if got := string(h.request(&c.cfg)); !strings.Contains(got, c.want) || !strings.HasPrefix(got, "GET / HTTP/1.1\r\n") || !strings.Contains(got, "Connection: close\r\n") {
			t.Errorf("%+v: %q, want %q", c.cfg, got, c.want)
		}
	}
}

package endpoint

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/check-socat/check-socat/internal/sanitize"
)

// HTTPCheck is --http-status with --http-path and --http-host: an
// HTTP/1.1 request through the relay, its status line judged.
type HTTPCheck struct {
	Status []StatusRange // accepted codes
	Path   string        // default "/"
	Host   string        // the Host header; default the target name
	Text   string        // --http-status as given, for the output
}

// StatusRange is an inclusive range of status codes.
type StatusRange struct{ Lo, Hi int }

// ParseStatusRanges reads "200-299,301": codes and ranges of codes, 100
// to 599.
func ParseStatusRanges(s string) ([]StatusRange, error) {
	var out []StatusRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if part == "" || err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("%q is not a status code or range of codes (100-599): give e.g. 200-299,301", part)
		}
		out = append(out, StatusRange{a, b})
	}
	return out, nil
}

func (h *HTTPCheck) allows(code int) bool {
	for _, r := range h.Status {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// request is the HTTP/1.1 request: the Host header as curl writes it
// (the port when it is not the scheme's), and Connection: close so that
// the server ends the response.
func (h *HTTPCheck) request(c *Config) []byte {
	host := h.Host
	if host == "" && c.TLS != nil && c.TLS.SNI != "" {
		// The name sent in SNI is the virtual host's.
		host = c.TLS.SNI
		if c.Port != 443 && c.Unix == "" {
			host = net.JoinHostPort(host, strconv.Itoa(c.Port))
		}
	}
	if host == "" {
		switch {
		case c.Unix != "":
			host = "localhost"
		case (c.TLS == nil && c.Port == 80) || (c.TLS != nil && c.Port == 443):
			host = c.Host
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		default:
			host = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
		}
	}
	return []byte("GET " + h.Path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: check_socat_endpoint\r\nAccept: */*\r\nConnection: close\r\n\r\n")
}

// status reads the status line from the start of a response: the code,
// the line (sanitized) for the output, and whether the line is complete
// yet. A response that is not HTTP is an error.
func httpStatus(buf []byte) (int, string, bool, error) {
	code, line, complete, err := statusLine(buf)
	// An interim response (100 Continue, 103 Early Hints) comes before
	// the final one: skip its header block (not 101, which switches).
	for err == nil && complete && code >= 100 && code < 200 && code != 101 {
		end := bytes.Index(buf, []byte("\r\n\r\n"))
		n := 4
		if e := bytes.Index(buf, []byte("\n\n")); e >= 0 && (end < 0 || e < end) {
			end, n = e, 2
		}
		if end < 0 {
			return 0, "", false, nil // the rest of the interim block
		}
		buf = buf[end+n:]
		code, line, complete, err = statusLine(buf)
	}
	return code, line, complete, err
}

// statusLine reads one status line.
func statusLine(buf []byte) (int, string, bool, error) {
	if len(buf) == 0 {
		return 0, "", false, nil
	}
	end := bytes.IndexByte(buf, '\n')
	if end < 0 {
		if len(buf) >= 8 && !bytes.HasPrefix(buf, []byte("HTTP/")) {
			return 0, "", true, fmt.Errorf("not an HTTP response: it starts \"%s\"", sanitize.Bytes(buf, 40))
		}
		if len(buf) > 8192 {
			return 0, "", true, fmt.Errorf("no HTTP status line in the first %d bytes", len(buf))
		}
		return 0, "", false, nil
	}
	line := strings.TrimRight(string(buf[:end]), "\r")
	shown := sanitize.Text(line, 80)
	f := strings.SplitN(line, " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") || len(f[1]) != 3 {
		return 0, shown, true, fmt.Errorf("not an HTTP status line: \"%s\"", shown)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 599 {
		return 0, shown, true, fmt.Errorf("not an HTTP status line: \"%s\"", shown)
	}
	return code, shown, true, nil
}

package endpoint

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
)

// Real services behind real socat relays (issue 17): each scenario with
// the state and the words an operator gets.

// dnsQuery is a DNS query for name, type A, as --send escapes.
func dnsQuery(name string) string {
	q := `\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00`
	for _, label := range strings.Split(name, ".") {
		q += fmt.Sprintf(`\x%02x`, len(label)) + label
	}
	return q + `\x00\x00\x01\x00\x01`
}

func escaped(t *testing.T, s string) []byte {
	t.Helper()
	b, err := Unescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An answer that can be judged is judged when it arrives: redis' -NOAUTH
// with --reject, at once (the read timeout here is 10 s, which a verdict
// that waited for it would show).
func TestRedisBehindARelay(t *testing.T) {
	redis := testlab.StartRedis(t, "s3cret")
	relay := relayTo(t, redis.Addr())
	slowRead := func(c *Config) { c.ReadTimeout = 10 * time.Second }
	reject := func(c *Config) { c.Reject = [][]byte{[]byte("-NOAUTH")} }
	r := runCheck(t, 15*time.Second, cfgFor(relay.Port, send("PING\r\n"), expectText("+PONG"), reject, slowRead))
	expect(t, r, state.Critical, `failed at expectation: the response matches --reject "-NOAUTH"; received 34 B: "-NOAUTH Authentication required.\r\n"`)
	if tm, _ := perf(r, "time"); tm >= 10 {
		t.Errorf("the rejected answer waited for --read-timeout: time=%v", tm)
	}
	r = runCheck(t, 15*time.Second, cfgFor(relay.Port, send("AUTH s3cret\r\nPING\r\n"), expectText("+PONG"), reject, slowRead))
	expect(t, r, state.OK, "1 of 1 expectations met")
	// Without --reject the refusal is still a mismatch, after the read
	// timeout (as check_tcp): the reason to give --reject.
	r = runCheck(t, 15*time.Second, cfgFor(relay.Port, send("PING\r\n"), expectText("+PONG"), func(c *Config) { c.ReadTimeout = time.Second }))
	expect(t, r, state.Critical, `"+PONG" not found in the response (nothing more came for 1s)`)
}

// One UDP datagram is one DNS answer: judged when it arrives, right or
// wrong, not after --read-timeout (check_dig answers in 0.06 s; we took
// 2 s). socat -T ends the relay's per-client children.
func TestDNSBehindAUDPRelay(t *testing.T) {
	dns := testlab.StartDnsmasq(t, "relay.test", "192.0.2.7")
	relay := testlab.Start(t, "-T", "5", "UDP4-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", fmt.Sprintf("UDP4:127.0.0.1:%d", dns.Port))
	query := func(c *Config) {
		c.UDP, c.Send, c.ReadTimeout = true, escaped(t, dnsQuery("relay.test")), 10*time.Second
	}
	r := runCheck(t, 15*time.Second, cfgFor(relay.Port, query, func(c *Config) { c.Expect = [][]byte{{192, 0, 2, 7}} }))
	expect(t, r, state.OK, "1 of 1 expectations met (44 B)") // (the answer to a 10-byte name)
	r = runCheck(t, 15*time.Second, cfgFor(relay.Port, query, func(c *Config) {
		c.Expect, c.ExpectShown = [][]byte{{192, 0, 2, 8}}, []string{`\xc0\x00\x02\x08`}
	}))
	expect(t, r, state.Critical, `failed at expectation: "\xc0\x00\x02\x08" not found in the datagram (over UDP one datagram is the response: give --until for more)`)
	if tm, _ := perf(r, "time"); tm >= 10 {
		t.Errorf("the datagram waited for --read-timeout: time=%v", tm)
	}
}

// --until ends a response the server keeps the connection open after:
// memcached's "stats" ends with END, and only rejections are looked for.
func TestMemcachedUntil(t *testing.T) {
	mc := testlab.StartMemcached(t)
	relay := relayTo(t, mc.Addr())
	r := runCheck(t, 15*time.Second, cfgFor(relay.Port, send("stats\r\n"), func(c *Config) {
		c.Until, c.Reject, c.ReadTimeout = []byte("END\r\n"), [][]byte{[]byte("ERROR")}, 10*time.Second
	}))
	expect(t, r, state.OK, "answered in")
	if tm, _ := perf(r, "time"); tm >= 10 {
		t.Errorf("--until did not end the response: time=%v", tm)
	}
	r = runCheck(t, 15*time.Second, cfgFor(relay.Port, send("bogus\r\n"), func(c *Config) {
		c.Until, c.Reject, c.ReadTimeout = []byte("END\r\n"), [][]byte{[]byte("ERROR")}, 10*time.Second
	}))
	expect(t, r, state.Critical, `the response matches --reject "ERROR"`)
}

// OpenSSH's banner through a relay.
func TestSSHBannerBehindARelay(t *testing.T) {
	sshd := testlab.StartSSHD(t)
	relay := relayTo(t, sshd.Addr())
	r := runCheck(t, 10*time.Second, cfgFor(relay.Port, expectText("SSH-2.0-OpenSSH"), func(c *Config) { c.Until = []byte("\n") }))
	expect(t, r, state.OK, "1 of 1 expectations met")
}

// HTTP through a relay: the README's old example (-s 'GET / HTTP/1.0',
// -e HTTP/1.) passed a 500. --http-status sends an HTTP/1.1 request and
// judges the status line when it arrives.
func TestHTTPStatusThroughARelay(t *testing.T) {
	nginx := testlab.StartNginxHTTP(t, `location = /broken { return 500; }
		location = /moved { return 301 /; }
		location = /host { return 200 "$host\n"; }`)
	relay := relayTo(t, nginx.Addr())
	status := func(ranges, path, host string) func(*Config) {
		return func(c *Config) {
			r, err := ParseStatusRanges(ranges)
			if err != nil {
				t.Fatal(err)
			}
			c.HTTP = &HTTPCheck{Status: r, Path: path, Host: host, Text: ranges}
		}
	}
	r := runCheck(t, 10*time.Second, cfgFor(relay.Port, status("200-299", "/", "")))
	expect(t, r, state.OK, `"HTTP/1.1 200 OK"`)
	if code, _ := perf(r, "http_status"); code != 200 {
		t.Errorf("http_status = %v", code)
	}
	r = runCheck(t, 10*time.Second, cfgFor(relay.Port, status("200-299,301", "/broken", "")))
	expect(t, r, state.Critical, `failed at expectation: HTTP status 500, not in --http-status 200-299,301: "HTTP/1.1 500 Internal Server Error"`)
	if code, _ := perf(r, "http_status"); code != 500 {
		t.Errorf("http_status = %v", code)
	}
	r = runCheck(t, 10*time.Second, cfgFor(relay.Port, status("200-299,301", "/moved", "")))
	expect(t, r, state.OK, `"HTTP/1.1 301 Moved Permanently"`)
	// The Host header: --http-host, and the body judged as well.
	r = runCheck(t, 10*time.Second, cfgFor(relay.Port, status("200", "/host", "relay.example"), expectText("relay.example\n")))
	expect(t, r, state.OK, "1 of 1 expectations met")
	// The old example, for the record: a 500 passes it.
	r = runCheck(t, 10*time.Second, cfgFor(relay.Port, send("GET /broken HTTP/1.0\r\n\r\n"), expectText("HTTP/1.")))
	expect(t, r, state.OK, "1 of 1 expectations met")
	// Not HTTP at all: said as such, at once.
	echo := echoServer(t)
	r = runCheck(t, 10*time.Second, cfgFor(echo.Port, status("200", "/", "")))
	expect(t, r, state.Critical, `failed at expectation: not an HTTP status line: "GET / HTTP/1.1"`)
}

// Certificate days on a TLS relay, without a second check (as check_tcp
// -D): --warning-days/--critical-days with days_left; -v with --insecure
// says when the certificate has expired.
func TestTLSRelayCertificateDays(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	now := time.Now()
	san := "DNS:localhost,IP:127.0.0.1"
	soon := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, End: now.Add(5*24*time.Hour + time.Hour)})
	expired := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, Start: now.Add(-30 * 24 * time.Hour), End: now.Add(-2*24*time.Hour - time.Hour)})
	backend := echoServer(t)
	relay := func(cert string) *testlab.Socat {
		return testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+cert, "TCP:"+backend.Addr())
	}
	days := func(warn, crit float64) func(*Config) {
		return func(c *Config) {
			c.TLS = &TLSConfig{CAFile: ca.Cert, WarningDays: &warn, CriticalDays: &crit}
		}
	}
	r := runCheck(t, 10*time.Second, cfgFor(relay(soon).Port, send("x"), expectText("x"), days(30, 7)))
	expect(t, r, state.Critical, "1 of 1 expectations met (1 B) (certificate localhost expires in 5.0 days (--critical-days 7))")
	if d, _ := perf(r, "days_left"); d < 4.9 || d > 5.1 || r.Findings[0].ID != "cert-expiring" {
		t.Errorf("days_left = %v, finding %v", d, r.Findings)
	}
	r = runCheck(t, 10*time.Second, cfgFor(relay(soon).Port, send("x"), expectText("x"), days(4, 2)))
	expect(t, r, state.OK, "1 of 1 expectations met")
	// --insecure: the handshake does not refuse an expired certificate;
	// the days say it, and -v names it.
	r = runCheck(t, 10*time.Second, cfgFor(relay(expired).Port, send("x"), expectText("x"), func(c *Config) { c.TLS = &TLSConfig{Insecure: true} }),
		func(e *checks.Env) { e.Verbose = 1 })
	expect(t, r, state.OK, "1 of 1 expectations met")
	if !strings.Contains(strings.Join(r.Details, "\n"), "(EXPIRED 2.0 days ago)") {
		t.Errorf("-v does not say the certificate expired:\n%s", strings.Join(r.Details, "\n"))
	}
	r = runCheck(t, 10*time.Second, cfgFor(relay(expired).Port, send("x"), expectText("x"), func(c *Config) {
		crit := 7.0
		c.TLS = &TLSConfig{Insecure: true, CriticalDays: &crit}
	}))
	expect(t, r, state.Critical, "(certificate localhost expired 2.0 days ago)")
}

// What the review of issue 17 found, each on a Go server that behaves as
// described (behind a real socat relay): a verdict is never given on a
// part of the response that skips what was asked.
func TestJudgedOnTheWholeAnswer(t *testing.T) {
	serve := func(parts ...string) func(c net.Conn) {
		return func(c net.Conn) {
			_, _ = c.Read(make([]byte, 4096)) // the request
			for i, p := range parts {
				if i > 0 {
					time.Sleep(300 * time.Millisecond) // the server's pause, its behaviour
				}
				if p == "<close>" {
					return
				}
				if _, err := c.Write([]byte(p)); err != nil {
					return
				}
			}
			_, _ = c.Read(make([]byte, 1)) // hold the connection open
		}
	}
	via := func(behave func(net.Conn)) int {
		return relayTo(t, fmt.Sprintf("127.0.0.1:%d", testlab.Hostile(t, behave))).Port
	}
	status := func(c *Config) {
		c.HTTP = &HTTPCheck{Status: []StatusRange{{200, 299}}, Path: "/", Text: "200-299"}
		c.ReadTimeout = 2 * time.Second
	}
	// A status line split over two reads, an expectation met by the
	// first: the status is still judged.
	r := runCheck(t, 10*time.Second, cfgFor(via(serve("HTTP/1.1 5", "00 Internal Server Error\r\n\r\n")), status, expectText("HTTP/1.1")))
	expect(t, r, state.Critical, `HTTP status 500, not in --http-status 200-299`)
	// No line end at all, then the close: no status line, whatever else.
	r = runCheck(t, 10*time.Second, cfgFor(via(serve("HTTP/1.1 500 Internal Server Error", "<close>")), status, func(c *Config) { c.Reject = [][]byte{[]byte("foo")} }))
	expect(t, r, state.Critical, `no complete HTTP status line`)
	// --reject-regex past its work budget: still run before an OK.
	big := strings.Repeat(strings.Repeat("a", 8192), 40)
	r = runCheck(t, 10*time.Second, cfgFor(via(serve(big+"-ERROR x\r\n+PONG\r\n")), send("x"), expectText("PONG"), func(c *Config) {
		c.RejectRegex, c.MaxBytes, c.ReadTimeout = []*regexp.Regexp{regexp.MustCompile("ERROR")}, 8<<20, 2*time.Second
	}))
	expect(t, r, state.Critical, `the response matches --reject-regex "ERROR"`)
	// With --until, the response is read to it: a rejection after the
	// expectation is seen.
	r = runCheck(t, 10*time.Second, cfgFor(via(serve("+PONG\r\n", "-ERR boom\r\nEND\r\n")), send("x"), expectText("+PONG"), func(c *Config) {
		c.Reject, c.Until, c.ReadTimeout = [][]byte{[]byte("-ERR")}, []byte("END"), 2*time.Second
	}))
	expect(t, r, state.Critical, `the response matches --reject "-ERR"`)
	// --until that never comes, nothing else asked: the deadline cuts the
	// wait, and what did not arrive is named.
	r = runCheck(t, time.Second, cfgFor(via(serve("partial")), send("x"), func(c *Config) { c.Until, c.ReadTimeout = []byte("END"), 5*time.Second }))
	expect(t, r, state.Critical, `timed out at expectation: --until "END" did not arrive in what arrived before the deadline`)
	// A missing marker is not a failure of its own: the response ends at
	// --read-timeout (as at the peer's close or --max-bytes) and is
	// judged on what was asked.
	r = runCheck(t, 10*time.Second, cfgFor(via(serve("+PONG\r\n")), send("x"), expectText("+PONG"), func(c *Config) { c.Until, c.ReadTimeout = []byte("END"), time.Second }))
	expect(t, r, state.OK, "1 of 1 expectations met")
}

// Retries do not cut a healthy service short where its share allows it
// (the reviews of issue 17): a service that takes a second passes with
// --retries 9 (the delays do not eat the shares), a retry delay no retry
// could fit in leaves the one attempt all the time, and a mismatch stays
// a mismatch (its --read-timeout is not cut by an attempt's share).
func TestRetriesAreNotStricter(t *testing.T) {
	slow := relayTo(t, fmt.Sprintf("127.0.0.1:%d", testlab.Hostile(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 4096))
		time.Sleep(time.Second) // a slow service: its behaviour
		_, _ = c.Write([]byte("pong\n"))
		_, _ = c.Read(make([]byte, 1))
	})))
	r := runCheck(t, 10*time.Second, cfgFor(slow.Port, send("ping"), expectText("pong"), func(c *Config) { c.Retries, c.ReadTimeout = 9, 2*time.Second }))
	expect(t, r, state.OK, "1 of 1 expectations met")
	// Nine retry delays of 1 s would leave each attempt 0.1 s: the share
	// ignores them instead (the second review: a bare TLS handshake or
	// an echo of 0.6 s failed every attempt).
	slower := relayTo(t, fmt.Sprintf("127.0.0.1:%d", testlab.Hostile(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 4096))
		time.Sleep(600 * time.Millisecond) // its behaviour
		_, _ = c.Write([]byte("pong\n"))
		_, _ = c.Read(make([]byte, 1))
	})))
	r = runCheck(t, 10*time.Second, cfgFor(slower.Port, send("ping"), func(c *Config) { c.Retries, c.ReadTimeout = 9, 0 }))
	expect(t, r, state.OK, "5 B received")
	// Slower than its share: said, with the bound to raise.
	r = runCheck(t, 1500*time.Millisecond, cfgFor(slow.Port, send("ping"), func(c *Config) { c.Retries, c.ReadTimeout, c.RetryDelay = 1, 0, 0 }))
	if r.State != state.Critical || !regexp.MustCompile(`\(attempts within \d+ms each: --attempt-timeout, by default -t shared among the attempts; give it for a slower service\)`).MatchString(r.Summary) {
		t.Errorf("slower than its share:\n%s: %s", r.State, r.Summary)
	}
	r = runCheck(t, 2*time.Second, cfgFor(slow.Port, send("ping"), expectText("pong"), func(c *Config) {
		c.Retries, c.RetryDelay, c.ReadTimeout = 2, 5*time.Second, 2*time.Second
	}))
	expect(t, r, state.OK, "1 of 1 expectations met")
	wrong := relayTo(t, fmt.Sprintf("127.0.0.1:%d", testlab.Hostile(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 4096))
		_, _ = c.Write([]byte("-ERR nope\r\n"))
		_, _ = c.Read(make([]byte, 1))
	})))
	r = runCheck(t, 10*time.Second, cfgFor(wrong.Port, send("PING\r\n"), expectText("PANG"), func(c *Config) {
		c.Retries, c.ReadTimeout, c.MismatchState = 3, 2*time.Second, state.Warning
	}))
	if r.State != state.Warning || !strings.Contains(r.Summary, `"PANG" not found in the response (nothing more came for 2s)`) {
		t.Errorf("a mismatch with --retries 3:\n%s: %s", r.State, r.Summary)
	}
}

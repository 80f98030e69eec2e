// Command check_socat_endpoint checks that the service behind a socat
// relay is reachable, correct, fast and intact end to end.
package main

import (
	"fmt"
	"regexp"

	"github.com/check-socat/check-socat/checks/endpoint"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

const description = `Check the service behind a socat relay: connect (TCP, UDP or a UNIX socket, optionally TLS), send a request, and check the response, an echo of pseudo-random bytes, N connections at once and the response time.

A bare connect (no --send, --expect or --echo-bytes) proves little behind socat, which accepts connections even when its backend is down: the check then waits --settle for the peer to close. Give --send/--expect or --echo-bytes to prove the whole path.`

type cli struct {
	plugin.Common

	Host   string `short:"H" placeholder:"HOST" group:"Target"`
	Port   int    `short:"p" placeholder:"PORT" group:"Target"`
	Unix   string `placeholder:"PATH" group:"Target"`
	UDP    bool   `name:"udp" group:"Target"`
	IPv4   bool   `short:"4" name:"use-ipv4" group:"Target"`
	IPv6   bool   `short:"6" name:"use-ipv6" group:"Target"`
	Source string `placeholder:"ADDR" group:"Target"`

	Send        string              `short:"s" placeholder:"STRING" group:"Request and response"`
	Expect      []string            `short:"e" sep:"none" placeholder:"STRING" group:"Request and response"`
	ExpectRegex string              `placeholder:"RE" group:"Request and response"`
	ExpectBytes string              `placeholder:"HEX" group:"Request and response"`
	Reject      []string            `sep:"none" placeholder:"STRING" group:"Request and response"`
	RejectRegex []string            `sep:"none" placeholder:"RE" group:"Request and response"`
	Until       *string             `placeholder:"STRING" group:"Request and response"`
	HTTPStatus  string              `name:"http-status" placeholder:"RANGES" group:"HTTP"`
	HTTPPath    string              `name:"http-path" default:"/" placeholder:"PATH" group:"HTTP"`
	HTTPHost    string              `name:"http-host" placeholder:"NAME" group:"HTTP"`
	MaxBytes    Size                `default:"65536" placeholder:"N" group:"Request and response"`
	ReadTimeout plugin.ZeroDuration `default:"2s" placeholder:"DURATION" group:"Request and response"`

	TLS          bool     `name:"tls" group:"TLS"`
	SNI          string   `placeholder:"NAME" group:"TLS"`
	CAFile       string   `placeholder:"PATH" group:"TLS"`
	Cert         string   `placeholder:"PATH" group:"TLS"`
	Key          string   `placeholder:"PATH" group:"TLS"`
	Insecure     bool     `group:"TLS"`
	WarningDays  *float64 `placeholder:"N" group:"TLS"`
	CriticalDays *float64 `placeholder:"N" group:"TLS"`

	EchoBytes      Size                `placeholder:"N" group:"Integrity and load"`
	Connections    *int                `placeholder:"N" group:"Integrity and load"`
	Retries        int                 `default:"0" placeholder:"N" group:"Integrity and load"`
	RetryDelay     plugin.ZeroDuration `default:"1s" placeholder:"DURATION" group:"Integrity and load"`
	AttemptTimeout plugin.ZeroDuration `placeholder:"DURATION" group:"Integrity and load"`
	Settle         plugin.ZeroDuration `default:"50ms" placeholder:"DURATION" group:"Integrity and load"`

	RefusedState  state.State     `default:"critical" placeholder:"STATE" group:"States and thresholds"`
	MismatchState state.State     `default:"critical" placeholder:"STATE" group:"States and thresholds"`
	Warning       threshold.Range `short:"w" placeholder:"RANGE" group:"States and thresholds"`
	Critical      threshold.Range `short:"c" placeholder:"RANGE" group:"States and thresholds"`
}

// help returns the --help text of each flag, built only when help is
// printed; defaults are added then.
func help() map[string]string {
	return map[string]string{
		"host":            "Host name or IP address of the socat endpoint.",
		"port":            "TCP or UDP port of the socat endpoint (1-65535).",
		"unix":            "Connect to this UNIX stream socket instead of -H/-p.",
		"udp":             "Use UDP (needs --send or --echo-bytes: a UDP service is only seen through its answer).",
		"use-ipv4":        "Use IPv4 only (resolve A records).",
		"use-ipv6":        "Use IPv6 only (resolve AAAA records).",
		"source":          "Bind the local end to this IP address of this host (its family picks the target's).",
		"send":            "Send STRING after connecting (and after the TLS handshake); escapes \\n \\r \\t \\\\ \\0 \\xHH. With --send and no expectation, any answer passes but one is required.",
		"expect":          "The response must contain STRING (same escapes as --send); repeat for several, all must match.",
		"expect-regex":    "The response must match this Go regular expression (RE2 syntax), e.g. '^HTTP/1\\.[01] 200'.",
		"expect-bytes":    "The response must start with these bytes, in hex (16030300, 16:03:03).",
		"reject":          "The response must not contain STRING (same escapes as --send); repeatable. Found, it is --mismatch-state at once, without waiting for the rest (redis' -NOAUTH, an error page).",
		"reject-regex":    "The response must not match this Go regular expression; repeatable. Found, it is --mismatch-state at once.",
		"http-status":     "Send an HTTP/1.1 GET (Host, Connection: close) and require its status code in RANGES, e.g. 200-299,301; another code is --mismatch-state, judged when the status line arrives. Perfdata http_status.",
		"http-path":       "The path of the --http-status request.",
		"http-host":       "The Host header of the --http-status request (default: --sni with --tls, else -H; with the port when it is not 80, or 443 with --tls).",
		"until":           "The response is complete when STRING arrives (same escapes as --send): it is judged then, instead of after --read-timeout. Over UDP one datagram is the response unless --until is given.",
		"max-bytes":       "Read at most N bytes of response (suffixes K, M; at most 8M); reading stops earlier once every expectation matched.",
		"read-timeout":    "When a response has arrived but does not meet the expectations yet, wait at most this long for more (as check_tcp does); then it is complete and a missing expectation is --mismatch-state. 0: judge the first data.",
		"tls":             "Speak TLS first, as to an OPENSSL-LISTEN address. The server is verified against the system roots or --ca-file unless --insecure.",
		"sni":             "Server name to send and to verify (default: -H when it is a name; an IP is checked against IP SANs).",
		"ca-file":         "Trust the CA certificates in this PEM file instead of the system store.",
		"cert":            "Client certificate (PEM) to present; socat's OPENSSL-LISTEN asks for one by default (verify=1). May hold the key too.",
		"key":             "Private key (PEM) of --cert, when it is not in the same file.",
		"warning-days":    "With --tls: WARNING when the server's certificate (or an intermediate it serves) expires within N days, as check_tcp -D does. Perfdata days_left.",
		"critical-days":   "With --tls: CRITICAL when the server's certificate (or an intermediate it serves) expires within N days; an expired one is always CRITICAL with these flags.",
		"insecure":        "Do not verify the server certificate (the handshake and everything after it still are).",
		"echo-bytes":      "Send N pseudo-random bytes (suffixes K, M, G: powers of 1024) and require the same bytes back from an echo service behind the relay: proves integrity end to end and measures throughput.",
		"connections":     "Open N connections at once (default: 1; 1 to 4096), each doing the whole probe and held open until all ended; all must succeed. Finds exhausted max-children, backlog and fd limits (give --send/--expect or --echo-bytes so that being served is proven).",
		"retries":         "Retry a failed probe up to N times within the deadline (each retry repeats all --connections); success after a retry is WARNING and says after how many. time is the last attempt's.",
		"retry-delay":     "Wait this long between retries (10, 2.5, 500ms, 0).",
		"attempt-timeout": "Bound each attempt to this long (with --retries). Default: the deadline shared evenly among the attempts and the delays between them, so that an attempt that hangs (a relay whose only child slot is taken) leaves the retries their time. The output says when a retry was due but -t left no time for it.",
		"settle":          "After a bare connect, wait up to this long (at least 3x the connect time) for the peer to close, as socat does when its backend is down; 0 switches it off.",
		"refused-state":   "State when the connection is refused: ok, warning, critical or unknown. 'ok' turns the check into 'this port must be closed': an open port is then CRITICAL.",
		"mismatch-state":  "State when the complete response fails an expectation or the echo differs.",
		"warning":         "Nagios range on the total response time in seconds, e.g. 0.5 (WARNING above 0.5 s).",
		"critical":        "Nagios range on the total response time in seconds, e.g. 2.",
	}
}

// config turns the flags into the check's configuration; errors name the
// flag.
// Config turns the flags into the check's configuration; errors name the
// flag (the runtime says them as UNKNOWN).
func (c *cli) Config() (endpoint.Config, error) {
	if c.MaxBytes > endpoint.MaxReadBytes { // said here: the Config field is an int, clamped below
		return endpoint.Config{}, fmt.Errorf("--max-bytes %d is out of range: give 1 to %d (8M)", int64(c.MaxBytes), endpoint.MaxReadBytes)
	}
	cfg := endpoint.Config{
		Host: c.Host, Port: c.Port, Unix: c.Unix, UDP: c.UDP, Source: c.Source,
		MaxBytes: int(min(int64(c.MaxBytes), endpoint.MaxReadBytes+1)), EchoBytes: int64(c.EchoBytes), Connections: 1,
		Retries: c.Retries, RetryDelay: c.RetryDelay.D(), AttemptTimeout: c.AttemptTimeout.D(), Settle: c.Settle.D(), ReadTimeout: c.ReadTimeout.D(),
		RefusedState: c.RefusedState, MismatchState: c.MismatchState,
		Warn: c.Warning, Crit: c.Critical,
	}
	if c.Connections != nil {
		cfg.Connections, cfg.ReportConnections = *c.Connections, true
	}
	switch {
	case c.IPv4 && c.IPv6:
		return cfg, fmt.Errorf("-4 and -6 exclude each other: give one")
	case c.IPv4:
		cfg.Family = 4
	case c.IPv6:
		cfg.Family = 6
	}
	var err error
	if cfg.Send, err = endpoint.Unescape(c.Send); err != nil {
		return cfg, fmt.Errorf("--send: %v", err)
	}
	for _, e := range c.Expect {
		b, err := endpoint.Unescape(e)
		if err != nil {
			return cfg, fmt.Errorf("--expect %q: %v", e, err)
		}
		if len(b) == 0 {
			return cfg, fmt.Errorf("--expect is empty: give the text the response must contain")
		}
		cfg.Expect = append(cfg.Expect, b)
		cfg.ExpectShown = append(cfg.ExpectShown, e)
	}
	for _, e := range c.Reject {
		b, err := endpoint.Unescape(e)
		if err != nil {
			return cfg, fmt.Errorf("--reject %q: %v", e, err)
		}
		if len(b) == 0 {
			return cfg, fmt.Errorf("--reject is empty: give the text the response must not contain")
		}
		cfg.Reject = append(cfg.Reject, b)
	}
	for _, e := range c.RejectRegex {
		if e == "" {
			return cfg, fmt.Errorf("--reject-regex is empty: it would reject every response; give the pattern the response must not match")
		}
		re, err := regexp.Compile(e)
		if err != nil {
			return cfg, fmt.Errorf("--reject-regex: %v", err)
		}
		cfg.RejectRegex = append(cfg.RejectRegex, re)
	}
	if c.Until != nil {
		if cfg.Until, err = endpoint.Unescape(*c.Until); err != nil {
			return cfg, fmt.Errorf("--until: %v", err)
		}
		if len(cfg.Until) == 0 {
			return cfg, fmt.Errorf("--until is empty: give the text that ends the response")
		}
	}
	if c.ExpectRegex != "" {
		if cfg.ExpectRegex, err = regexp.Compile(c.ExpectRegex); err != nil {
			return cfg, fmt.Errorf("--expect-regex: %v", err)
		}
	}
	if c.ExpectBytes != "" {
		if cfg.ExpectBytes, err = endpoint.ParseHex(c.ExpectBytes); err != nil {
			return cfg, fmt.Errorf("--expect-bytes: %v", err)
		}
	}
	if c.HTTPStatus != "" {
		ranges, err := endpoint.ParseStatusRanges(c.HTTPStatus)
		if err != nil {
			return cfg, fmt.Errorf("--http-status: %v", err)
		}
		cfg.HTTP = &endpoint.HTTPCheck{Status: ranges, Path: c.HTTPPath, Host: c.HTTPHost, Text: c.HTTPStatus}
	} else if c.HTTPHost != "" || c.HTTPPath != "/" {
		return cfg, fmt.Errorf("--http-path and --http-host need --http-status: give the accepted codes, e.g. --http-status 200-299")
	}
	if c.TLS {
		cfg.TLS = &endpoint.TLSConfig{SNI: c.SNI, CAFile: c.CAFile, CertFile: c.Cert, KeyFile: c.Key, Insecure: c.Insecure,
			WarningDays: c.WarningDays, CriticalDays: c.CriticalDays}
	} else if c.SNI != "" || c.CAFile != "" || c.Cert != "" || c.Key != "" || c.Insecure || c.WarningDays != nil || c.CriticalDays != nil {
		return cfg, fmt.Errorf("--sni, --ca-file, --cert, --key, --insecure, --warning-days and --critical-days need --tls")
	}
	return cfg, cfg.Validate()
}

func main() { program.Run(&cli{}) }

// program describes the binary to the runtime (and to the tests).
var program = plugin.Binary[endpoint.Config]{Check: endpoint.Run, Options: plugin.Options{
	Name:         "check_socat_endpoint",
	Description:  description,
	TimeoutState: state.Critical,
	Help:         help,
	Man:          man,
}}

// man is the manual page beyond the flags.
func man() []plugin.ManSection {
	return []plugin.ManSection{
		{Title: "Findings", Paragraphs: []string{"One finding per run, for machines (JSON, OpenMetrics): its ID names the outcome and its state is the run's."},
			Entries: append([][2]string{
				{"port-open (CRITICAL)", "With --refused-state ok (this port must be closed): the port accepted the connection."},
				{"retried (WARNING)", "It worked only after a retry (CRITICAL when the time also breaches -c)."},
				{"slow (-w/-c)", "It worked, but the response time is outside a -w/-c range."},
				{"refused (--refused-state, default CRITICAL)", "The connection was refused (UDP: an ICMP port unreachable came back)."},
				{"mismatch (--mismatch-state, default CRITICAL)", "The complete response failed an expectation, or the echo came back different."},
				{"cert-expiring (--warning-days/--critical-days)", "With --tls: the server's certificate, or an intermediate it serves, expires within the days given, or has expired."},
				{"backend-down (CRITICAL)", "socat accepted the connection and closed it before any byte: its backend is unreachable."},
				{"connect-failed (CRITICAL)", "Any other failure: a name that does not resolve, no UNIX socket, a full backlog, a reset, a TLS error or rejection."},
			}, plugin.RuntimeFindings...)},
		{Title: "Performance data", Paragraphs: []string{
			"time (the whole attempt), connect_time, tls_time (with --tls), first_byte_time, bytes_received (B), throughput (with --echo-bytes), connections_ok (with --connections), attempts (with --retries), http_status (with --http-status), days_left (with --tls and --warning-days or --critical-days, with their N: ranges). A value that could not be measured is left out, and said."}},
		{Title: "Examples", Entries: [][2]string{
			{"check_socat_endpoint -H relay01 -p 8080 -s 'PING\\r\\n' -e PONG -w 0.5 -c 2", "The service behind a relay answers PONG, within 0.5 s (WARNING) or 2 s (CRITICAL)."},
			{"check_socat_endpoint -H relay01 -p 8443 --tls --ca-file /etc/ssl/ca.pem", "Through socat's TLS side, the certificate verified."},
			{"check_socat_endpoint -H relay01 -p 5353 --udp -s ping -e ping", "A UDP relay."},
			{"check_socat_endpoint -H relay01 -p 8080 --http-status 200-299 --http-host app.example", "An HTTP service behind a relay: its status code."},
			{"check_socat_endpoint -H relay01 -p 6379 -s 'PING\\r\\n' -e +PONG --reject -NOAUTH", "redis behind a relay, its refusal judged at once."},
		}},
	}
}

// Package endpoint probes the service behind a socat relay: reachable
// (connect, TLS), correct (expectations on the response), intact (an echo
// of pseudo-random bytes), fast (stage timings and thresholds) and able to
// take N connections at once.
package endpoint

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/flagval"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

// Limits that keep a run bounded in memory and file descriptors.
const (
	MaxConnections = 4096
	MaxReadBytes   = 8 << 20
	MaxEchoBytes   = 1 << 40
	MaxRetries     = 100
	// MaxBuffered bounds --connections x --max-bytes: every connection
	// may keep its whole response.
	MaxBuffered = 64 << 20
)

// chunkSize is the read/write size per connection: 32 KiB, less with many
// connections, so that buffers stay within a few tens of MiB.
func (c *Config) chunkSize() int {
	return min(32<<10, max(4<<10, (48<<20)/(3*max(1, c.Connections))))
}

// Config is one endpoint check, as plain values.
type Config struct {
	Host   string
	Port   int
	Unix   string // UNIX socket path instead of Host/Port
	UDP    bool
	Family int    // 0 any, 4 or 6
	Source string // local address to bind

	Send        []byte
	Expect      [][]byte
	ExpectShown []string // each --expect as typed, for the output
	ExpectRegex *regexp.Regexp
	ExpectBytes []byte
	MaxBytes    int
	// Reject and RejectRegex: found in the response, it is
	// --mismatch-state at once (redis' "-NOAUTH", an HTTP 500 page).
	Reject      [][]byte
	RejectRegex []*regexp.Regexp
	// Until: the response is complete when this arrives (judge then,
	// rather than after --read-timeout).
	Until []byte
	// HTTP: --http-status, the request built and its status line judged.
	HTTP *HTTPCheck

	TLS *TLSConfig // nil: plaintext

	EchoBytes   int64
	Connections int
	Retries     int
	RetryDelay  time.Duration
	// AttemptTimeout bounds each attempt; 0: with --retries, the deadline
	// shared evenly among the attempts.
	AttemptTimeout time.Duration
	// Settle is how long a bare connect (nothing to send or read) waits
	// for the peer to close; 0 switches it off.
	Settle time.Duration
	// ReadTimeout is how long to wait for more of a response that has not
	// met its expectations yet; after it the response is complete.
	ReadTimeout time.Duration
	// ReportConnections adds connections_ok to perfdata even for one
	// connection (--connections given explicitly).
	ReportConnections bool

	RefusedState  state.State
	MismatchState state.State
	Warn, Crit    threshold.Range
}

// TLSConfig is the client side of --tls.
type TLSConfig struct {
	SNI      string
	CAFile   string
	CertFile string
	KeyFile  string
	Insecure bool
	// WarningDays and CriticalDays judge the days left of the server's
	// certificate (and chain), as check_tcp -D does; nil: not judged.
	WarningDays, CriticalDays *float64
}

// hasExpectations reports whether the response is checked.
func (c *Config) hasExpectations() bool {
	return len(c.Expect) > 0 || c.ExpectRegex != nil || len(c.ExpectBytes) > 0
}

// rejects reports whether the response is searched for what must not be
// in it.
func (c *Config) rejects() bool { return len(c.Reject) > 0 || len(c.RejectRegex) > 0 }

// readsResponse reports whether the probe reads a response (as opposed to
// a bare connect or an echo).
func (c *Config) readsResponse() bool {
	return c.EchoBytes == 0 && (len(c.Send) > 0 || c.hasExpectations() || c.rejects() || len(c.Until) > 0 || c.HTTP != nil)
}

// readsToTheEnd reports whether the whole response is read (up to
// --until, the peer's close, --max-bytes or --read-timeout) rather than
// its first data: expectations to meet, or rejections to look for.
func (c *Config) readsToTheEnd() bool {
	return c.hasExpectations() || c.rejects() || len(c.Until) > 0
}

// Validate rejects contradictory or incomplete configurations with a
// message that names the flags and says what to do.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	switch {
	case c.Unix != "":
		if c.Host != "" || c.Port != 0 {
			bad("--unix cannot be combined with -H/--host or -p/--port: give one target")
		}
		if c.UDP {
			bad("--udp cannot be combined with --unix: UNIX datagram sockets are not supported")
		}
		if c.Family != 0 {
			bad("-4/-6 do not apply to --unix")
		}
		if c.Source != "" {
			bad("--source does not apply to --unix")
		}
	case c.Host == "":
		bad("no target: give -H/--host and -p/--port, or --unix PATH")
	case c.Port == 0:
		bad("-p/--port is missing: give the port of %s", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("-p/--port %d is not a port: give 1-65535", c.Port)
	}
	if c.Family != 0 && c.Family != 4 && c.Family != 6 {
		bad("-4 and -6 exclude each other: give one")
	}
	if c.Source != "" {
		a, err := netip.ParseAddr(c.Source)
		switch {
		case err != nil:
			bad("--source %q is not an IP address: give an address of this host such as 127.0.0.1 or ::1", c.Source)
		case c.Family == 4 && !a.Unmap().Is4(), c.Family == 6 && a.Is4():
			bad("--source %s does not match -%d", c.Source, c.Family)
		}
	}
	if c.Host != "" {
		if p := flagval.Host(c.Host); p != "" {
			bad("%s", p)
		}
		if a, err := netip.ParseAddr(c.Host); err == nil {
			if (c.Family == 4 && !a.Unmap().Is4()) || (c.Family == 6 && a.Is4()) {
				bad("-H %s is not an IPv%d address (-%d)", c.Host, c.Family, c.Family)
			}
		}
	}
	if c.MaxBytes < 1 || c.MaxBytes > MaxReadBytes {
		bad("--max-bytes %d is out of range: give 1 to %d", c.MaxBytes, MaxReadBytes)
	}
	if c.EchoBytes < 0 || c.EchoBytes > MaxEchoBytes {
		bad("--echo-bytes %d is out of range: give 1 to %d", c.EchoBytes, int64(MaxEchoBytes))
	}
	if h := c.HTTP; h != nil {
		switch {
		case len(c.Send) > 0:
			bad("--http-status cannot be combined with --send: it sends its own request (give --http-path and --http-host)")
		case c.UDP:
			bad("--http-status cannot be combined with --udp")
		case len(h.Status) == 0:
			bad("--http-status is empty: give the accepted codes, e.g. 200-299,301")
		case !strings.HasPrefix(h.Path, "/") || !headerSafe(h.Path):
			bad("--http-path %q must start with / and hold no spaces or control characters", h.Path)
		case !headerSafe(h.Host):
			bad("--http-host %q must hold no spaces or control characters", h.Host)
		}
	}
	if c.EchoBytes > 0 && (len(c.Send) > 0 || c.hasExpectations() || c.rejects() || len(c.Until) > 0 || c.HTTP != nil) {
		bad("--echo-bytes cannot be combined with --send, --expect*, --reject* or --until: the echo is the request and the expectation")
	}
	if c.UDP {
		if len(c.Send) == 0 && c.EchoBytes == 0 {
			bad("--udp needs --send or --echo-bytes: a UDP service can only be seen through its answer")
		}
		if c.TLS != nil {
			bad("--tls cannot be combined with --udp (DTLS is not supported)")
		}
	}
	if c.Connections < 1 || c.Connections > MaxConnections {
		bad("--connections %d is out of range: give 1 to %d", c.Connections, MaxConnections)
	} else if c.readsResponse() && int64(c.Connections)*int64(c.MaxBytes) > MaxBuffered {
		bad("--connections %d x --max-bytes %d could buffer more than %d MiB: lower one of them", c.Connections, c.MaxBytes, MaxBuffered>>20)
	}
	if c.Retries < 0 || c.Retries > MaxRetries {
		bad("--retries %d is out of range: give 0 to %d", c.Retries, MaxRetries)
	}
	if c.RetryDelay < 0 {
		bad("--retry-delay must not be negative")
	}
	if c.AttemptTimeout < 0 || c.AttemptTimeout > 0 && c.AttemptTimeout < 10*time.Millisecond {
		bad("--attempt-timeout %s is too short: give at least 10ms", c.AttemptTimeout)
	}
	if c.Settle < 0 {
		bad("--settle must not be negative")
	}
	if c.ReadTimeout < 0 {
		bad("--read-timeout must not be negative")
	}
	if t := c.TLS; t != nil {
		if t.KeyFile != "" && t.CertFile == "" {
			bad("--key needs --cert: give the client certificate too")
		}
		if c.Unix != "" && t.SNI == "" && !t.Insecure {
			bad("--tls with --unix needs --sni NAME (the name to verify) or --insecure")
		}
		if w, c := t.WarningDays, t.CriticalDays; w != nil && (*w < 0 || math.IsNaN(*w) || math.IsInf(*w, 0)) || c != nil && (*c < 0 || math.IsNaN(*c) || math.IsInf(*c, 0)) {
			bad("--warning-days and --critical-days take a number of days, 0 or more")
		} else if w != nil && c != nil && *c > *w {
			bad("--critical-days %g is more than --warning-days %g: give the critical one the fewer days", *c, *w)
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// headerSafe reports whether s can go into an HTTP request line or header
// as it is: no spaces, no control characters.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

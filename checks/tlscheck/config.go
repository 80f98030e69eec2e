// Package tlscheck audits the TLS side of socat: the certificate chain a
// live OPENSSL-LISTEN presents (or the PEM files its cert= names), the
// protocol versions and cipher suites it accepts, and whether it demands
// client certificates.
package tlscheck

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/flagval"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/threshold"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// Policy says which accepted suites are weak.
type Policy int

// The --cipher-policy values.
const (
	PolicyDefault Policy = iota
	PolicyStrict
	PolicyLegacy
)

// ParsePolicy reads strict, default or legacy.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "default", "":
		return PolicyDefault, nil
	case "strict":
		return PolicyStrict, nil
	case "legacy":
		return PolicyLegacy, nil
	}
	return PolicyDefault, fmt.Errorf("%q is not a cipher policy: give strict, default or legacy", s)
}

// ParseProtocol reads TLS1.0 .. TLS1.3 (also TLSv1.2, tls12, 1.2).
func ParseProtocol(s string) (uint16, error) {
	t := strings.ToUpper(strings.NewReplacer("V", "", "_", ".", " ", "").Replace(strings.ToUpper(strings.TrimSpace(s))))
	t = strings.TrimPrefix(t, "TLS")
	switch t {
	case "1", "1.0", "10":
		return tlswire.VersionTLS10, nil
	case "1.1", "11":
		return tlswire.VersionTLS11, nil
	case "1.2", "12":
		return tlswire.VersionTLS12, nil
	case "1.3", "13":
		return tlswire.VersionTLS13, nil
	}
	return 0, fmt.Errorf("%q is not a protocol: give TLS1.0, TLS1.1, TLS1.2 or TLS1.3", s)
}

// Config is one TLS check, as plain values.
type Config struct {
	Host string
	Port int

	CertFile, KeyFile string // file mode when CertFile is set

	SNI      string // name to send
	Hostname string // name to verify
	CAFile   string

	ClientCert, ClientKey string

	WarningDays, CriticalDays float64
	MinProtocol               uint16
	Policy                    Policy
	AllowCiphers              map[uint16]bool
	RequireClientAuth         bool
	MinKeyBits                int // RSA; EC keys need 256
	InsecureChain             bool
	CertOnly                  bool
	Warn, Crit                threshold.Range // handshake time

	// Parallel bounds the connections at once during the scan.
	Parallel int
	// Settle is how long, after a TLS 1.3 server accepted the client's
	// certificate (or its absence) with a session ticket, to look for a
	// close that follows (socat's backend down). The wait for the
	// verdict itself is bounded by afterBound (see settle13).
	Settle time.Duration
}

// Validate rejects contradictions with a message naming the flags.
func (c *Config) Validate() error {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	live := c.Host != "" || c.Port != 0
	switch {
	case c.CertFile != "" && live:
		bad("--cert-file audits a file, -H/-p a live endpoint: give one")
	case c.CertFile == "" && !live:
		bad("no target: give -H/--host and -p/--port, or --cert-file PATH")
	case live && c.Host == "":
		bad("-H/--host is missing")
	case live && (c.Port < 1 || c.Port > 65535):
		bad("-p/--port %d is not a port: give 1-65535", c.Port)
	}
	if live && c.Host != "" {
		if p := flagval.Host(c.Host); p != "" {
			bad("%s", p)
		}
	}
	for _, n := range []struct{ flag, v string }{{"--hostname", c.Hostname}, {"--sni", c.SNI}} {
		if n.v != "" && !nameLike(n.v) {
			bad("%s %q is not a host name: give a DNS name (relay.example.com) or an IP address", n.flag, sanitize.Text(n.v, 80))
		}
	}
	if c.KeyFile != "" && c.CertFile == "" {
		bad("--key-file needs --cert-file")
	}
	if c.ClientKey != "" && c.ClientCert == "" {
		bad("--client-key needs --client-cert")
	}
	if c.CertFile != "" && (c.ClientCert != "" || c.RequireClientAuth || c.CertOnly || c.SNI != "") {
		bad("--client-cert, --require-client-auth, --cert-only and --sni need a live endpoint (-H/-p), not --cert-file")
	}
	if math.IsNaN(c.WarningDays) || math.IsInf(c.WarningDays, 0) || math.IsNaN(c.CriticalDays) || math.IsInf(c.CriticalDays, 0) {
		bad("--warning-days and --critical-days take a number of days, e.g. 30 and 7")
	}
	if c.WarningDays < 0 || c.CriticalDays < 0 {
		bad("--warning-days and --critical-days must not be negative")
	}
	if c.CriticalDays > c.WarningDays {
		bad("--critical-days %g is more than --warning-days %g: give critical <= warning", c.CriticalDays, c.WarningDays)
	}
	if c.Parallel < 1 || c.Parallel > 5 {
		bad("--parallel %d is out of range: give 1 to 5 (socat's listen backlog is 5)", c.Parallel)
	}
	if c.MinKeyBits < 0 || c.MinKeyBits > 16384 {
		bad("--min-key-bits %d is out of range: give 0 to 16384", c.MinKeyBits)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// nameLike reports whether s can be a host name or an IP address (what a
// certificate names): letters, digits, dots, dashes, underscores, and the
// colons of an IPv6 address; no spaces.
func nameLike(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

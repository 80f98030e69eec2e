// Command check_socat_tls audits the TLS side of socat: certificates,
// protocol versions, cipher suites and client authentication of an
// OPENSSL-LISTEN endpoint, or the PEM files its cert= names.
package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/check-socat/check-socat/checks/tlscheck"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
	"github.com/check-socat/check-socat/internal/tlswire"
)

const description = `Audit socat's TLS side: the certificate chain an OPENSSL-LISTEN endpoint presents (expiry, trust, name, key, signature), every protocol version from SSLv2 to TLS 1.3 and every cipher suite it accepts (written by hand, so NULL, EXPORT, anonymous, RC4 and DES suites that crypto/tls cannot offer are seen too), and whether it demands client certificates. Or audit the PEM files socat's cert= names (--cert-file).`

type cli struct {
	plugin.Common

	Host     string `short:"H" placeholder:"HOST" group:"Target"`
	Port     int    `short:"p" placeholder:"PORT" group:"Target"`
	CertFile string `placeholder:"PATH" group:"Target"`
	KeyFile  string `placeholder:"PATH" group:"Target"`

	SNI        string `name:"sni" placeholder:"NAME" group:"Identity"`
	Hostname   string `placeholder:"NAME" group:"Identity"`
	CAFile     string `placeholder:"PATH" group:"Identity"`
	ClientCert string `placeholder:"PATH" group:"Identity"`
	ClientKey  string `placeholder:"PATH" group:"Identity"`

	WarningDays       float64         `default:"30" placeholder:"DAYS" group:"Policy"`
	CriticalDays      float64         `default:"7" placeholder:"DAYS" group:"Policy"`
	MinProtocol       string          `default:"TLS1.2" placeholder:"VERSION" group:"Policy"`
	CipherPolicy      string          `default:"default" placeholder:"POLICY" group:"Policy"`
	AllowCipher       []string        `placeholder:"NAME" sep:"none" group:"Policy"`
	RequireClientAuth bool            `group:"Policy"`
	MinKeyBits        int             `default:"2048" placeholder:"BITS" group:"Policy"`
	InsecureChain     bool            `group:"Policy"`
	CertOnly          bool            `group:"Policy"`
	Parallel          int             `default:"4" placeholder:"N" group:"Policy"`
	Warning           threshold.Range `short:"w" placeholder:"RANGE" group:"Policy"`
	Critical          threshold.Range `short:"c" placeholder:"RANGE" group:"Policy"`
}

// help returns the --help text of each flag, built only when help is
// printed; defaults are added then.
func help() map[string]string {
	return map[string]string{
		"host":                "Host name or IP address of the OPENSSL-LISTEN endpoint.",
		"port":                "Port of the endpoint (1-65535).",
		"cert-file":           "Audit this PEM file instead of a live endpoint: the file socat's cert= names, with its chain (and key, if it holds one).",
		"key-file":            "The private key of --cert-file when it is a separate file (socat's key=): its permissions and that it matches.",
		"sni":                 "Server name to send (default: --hostname when it is a name, else -H when it is a name; none for an IP). The output names the server name sent.",
		"hostname":            "Name the certificate must be valid for (default: --sni, else -H; an IP is checked against IP SANs).",
		"ca-file":             "Trust the CA certificates in this PEM file instead of the system store.",
		"client-cert":         "Client certificate (PEM) to present: socat's OPENSSL-LISTEN asks for one by default (verify=1). May hold the key too.",
		"client-key":          "Private key of --client-cert when it is a separate file.",
		"warning-days":        "WARNING when the leaf or an intermediate expires within this many days.",
		"critical-days":       "CRITICAL when the leaf or an intermediate expires within this many days (or has expired).",
		"min-protocol":        "Lowest acceptable version: TLS1.0, TLS1.1, TLS1.2 or TLS1.3. Every version the endpoint accepts below it is CRITICAL.",
		"cipher-policy":       "Which accepted suites are weak: default (NULL, anonymous, EXPORT, RC4, DES, 3DES, MD5 are CRITICAL), strict (also CBC with SHA-1 and no forward secrecy as WARNING) or legacy (only NULL, anonymous, EXPORT).",
		"allow-cipher":        "Do not count this suite as weak: an IANA (TLS_RSA_WITH_NULL_SHA) or OpenSSL (NULL-SHA) name. Repeatable.",
		"require-client-auth": "CRITICAL unless the endpoint rejects clients that present no certificate.",
		"min-key-bits":        "Smallest acceptable RSA key (EC keys need 256 bits).",
		"insecure-chain":      "Report chain and name problems as WARNING instead of CRITICAL (self-signed or private CAs you accept).",
		"cert-only":           "One handshake: certificate, chain, name and client-auth checks, without protocol and suite enumeration. With --client-cert, whether clients without a certificate are turned away is tried (a second handshake, which socat logs as an SSL_accept error) only with --require-client-auth.",
		"parallel":            "Connections open at once during the scan (1-5). socat listens with a backlog of 5 and a forking listener with max-children=N accepts N at a time: give at most N, or connections wait a second for a TCP retransmit.",
		"warning":             "Nagios range on the handshake time in seconds, e.g. 0.5.",
		"critical":            "Nagios range on the handshake time in seconds, e.g. 2.",
	}
}

// Config turns the flags into the check's configuration; errors name the
// flag (the runtime says them as UNKNOWN).
func (c *cli) Config() (tlscheck.Config, error) {
	cfg := tlscheck.Config{Host: c.Host, Port: c.Port, CertFile: c.CertFile, KeyFile: c.KeyFile, SNI: c.SNI, Hostname: c.Hostname,
		CAFile: c.CAFile, ClientCert: c.ClientCert, ClientKey: c.ClientKey, WarningDays: c.WarningDays, CriticalDays: c.CriticalDays,
		RequireClientAuth: c.RequireClientAuth, MinKeyBits: c.MinKeyBits, InsecureChain: c.InsecureChain, CertOnly: c.CertOnly,
		Warn: c.Warning, Crit: c.Critical, Parallel: c.Parallel, Settle: 100 * time.Millisecond,
		AllowCiphers: map[uint16]bool{}}
	var err error
	if cfg.MinProtocol, err = tlscheck.ParseProtocol(c.MinProtocol); err != nil {
		return cfg, fmt.Errorf("--min-protocol: %v", err)
	}
	if cfg.Policy, err = tlscheck.ParsePolicy(c.CipherPolicy); err != nil {
		return cfg, fmt.Errorf("--cipher-policy: %v", err)
	}
	for _, name := range c.AllowCipher {
		s, ok := tlswire.Suites().ByName(name)
		if !ok {
			if n, perr := strconv.ParseUint(name, 0, 16); perr == nil {
				cfg.AllowCiphers[uint16(n)] = true
				continue
			}
			return cfg, fmt.Errorf("--allow-cipher %q is not a cipher suite: give an IANA name (TLS_RSA_WITH_NULL_SHA), an OpenSSL name (NULL-SHA) or a code (0x0002)", name)
		}
		cfg.AllowCiphers[s.Code] = true
	}
	return cfg, cfg.Validate()
}

func main() { program.Run(&cli{}) }

// program describes the binary to the runtime (and to the tests).
var program = plugin.Binary[tlscheck.Config]{Check: tlscheck.Run, Options: plugin.Options{
	Name:         "check_socat_tls",
	Description:  description,
	TimeoutState: state.Critical,
	Help:         help,
	Man:          man,
}}

// man is the manual page beyond the flags.
func man() []plugin.ManSection {
	return []plugin.ManSection{
		{Title: "Findings", Paragraphs: []string{"Each finding has a stable ID (JSON, OpenMetrics); the state in parentheses is its default."},
			Entries: append([][2]string{
				{"unresolvable (CRITICAL)", "The -H name does not resolve."},
				{"refused (CRITICAL)", "Nothing listens on the port."},
				{"not-tls (CRITICAL)", "The port answers in plaintext (its first bytes quoted), or echoes the ClientHello back."},
				{"handshake-failed (CRITICAL)", "No TLS handshake succeeds at all."},
				{"no-certificate (CRITICAL)", "The server presents no certificate."},
				{"cert-not-yet-valid (CRITICAL)", "A certificate of the chain is not valid yet."},
				{"cert-expired (CRITICAL)", "The leaf or an intermediate has expired."},
				{"cert-expiring (WARNING, CRITICAL)", "A certificate expires within --warning-days (WARNING) or --critical-days (CRITICAL)."},
				{"weak-signature (CRITICAL)", "A certificate is signed with MD2, MD5 or SHA-1."},
				{"weak-key (CRITICAL)", "A DSA key, an RSA key below --min-key-bits or an EC key below 256 bits."},
				{"chain-untrusted (CRITICAL; WARNING with --insecure-chain)", "The chain does not verify against the system roots or --ca-file."},
				{"name-mismatch (CRITICAL; WARNING with --insecure-chain)", "The certificate is not valid for the expected name (--hostname, --sni, -H)."},
				{"client-cert-rejected (CRITICAL)", "The server rejected the --client-cert presented."},
				{"client-auth-not-requested (CRITICAL)", "With --require-client-auth: the server never asks for a client certificate."},
				{"client-auth-optional (CRITICAL)", "With --require-client-auth: the server asks for one but accepts clients without."},
				{"cert-unreadable (UNKNOWN)", "The server sent a certificate Go's crypto/x509 cannot parse (a brainpool or secp256k1 key): its dates, name, key and chain are not checked; the protocol and suite scan stands."},
				{"client-auth-unknown (UNKNOWN)", "With --require-client-auth, where Go cannot complete a handshake: the server asks for a certificate, and its answer to our own hello's empty certificate does not tell whether it requires one."},
				{"weak-protocol (CRITICAL)", "A protocol version below --min-protocol is accepted."},
				{"weak-cipher (CRITICAL; WARNING for what --cipher-policy strict adds)", "Weak suites are accepted: one finding per kind of weakness."},
				{"scan-incomplete (UNKNOWN)", "The protocol and suite scan failed part-way: the counts are not complete."},
				{"slow-handshake (-w/-c)", "The handshake time is outside a -w/-c range."},
				{"key-file-exposed (CRITICAL)", "With --cert-file: the private key is readable by its group or others."},
				{"key-file-owner (WARNING)", "With --cert-file: the key file's owner is not the certificate file's."},
				{"key-mismatch (CRITICAL)", "With --cert-file: the key does not belong to the certificate."},
				{"key-encrypted (WARNING)", "With --cert-file: the key has a passphrase, which socat cannot give when it runs as a service."},
			}, plugin.RuntimeFindings...)},
		{Title: "Performance data", Paragraphs: []string{
			"days_left (with the N: ranges of --warning-days/--critical-days), cert_age (s: the time since the first-expiring certificate became valid, max its lifetime, the same points as plain numbers: lifetime minus the days; Icinga 2 keeps them, graphers draw them), handshake_time, protocols_accepted, protocols_weak, ciphers_accepted, ciphers_weak, chain_length, key_bits, time."}},
		{Title: "Examples", Entries: [][2]string{
			{"check_socat_tls -H relay01 -p 8443 --cert-only", "One handshake: certificate, chain, name and client auth (for every check interval)."},
			{"check_socat_tls -H relay01 -p 8443 --min-protocol TLS1.2", "The full audit: every protocol and cipher suite (dozens of connections: a few times a day)."},
			{"check_socat_tls --cert-file /etc/socat/relay.pem", "The PEM file socat's cert= names, without a connection."},
		}},
	}
}

package tlscheck

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
)

// An IPv6 target: a socat listener on ::1, audited in full, the address
// checked against the certificate's IP SANs, and the counts equal
// sslscan's.
func TestIPv6Target(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		ln.Close()
	}
	ca := testlab.NewOpenSSLCA(t)
	cert := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:::1"})
	srv := testlab.Start(t, "OPENSSL-LISTEN:0,pf=ip6,bind=[::1],fork,reuseaddr,verify=0,cert="+cert, "PIPE")
	cfg := baseConfig(srv.Port)
	cfg.Host, cfg.CAFile = "::1", ca.Cert
	r := audit(t, 20*time.Second, cfg)
	want := fmt.Sprintf("tls://[::1]:%d TLS1.3, certificate localhost valid", srv.Port)
	if r.State != state.OK || !has(r, want) {
		t.Errorf("want OK with %q:\n%s", want, dump(r))
	}
	protocols, pairs := sslscan(t, fmt.Sprintf("[::1]:%d", srv.Port))
	if got, _ := perfValue(r, "protocols_accepted"); int(got) != protocols {
		t.Errorf("protocols_accepted = %v, sslscan says %d", got, protocols)
	}
	if got, _ := perfValue(r, "ciphers_accepted"); int(got) != pairs {
		t.Errorf("ciphers_accepted = %v, sslscan says %d", got, pairs)
	}
	// The certificate names ::1, not 127.0.0.1: on IPv4 the name fails.
	cfg.Host = "127.0.0.1"
	v4 := testlab.Start(t, tlsListen+",verify=0,cert="+cert, "PIPE")
	cfg.Port, cfg.CertOnly = v4.Port, true
	if r := audit(t, 10*time.Second, cfg); r.State != state.Critical || !has(r, "the certificate is not valid for 127.0.0.1 (an IP is checked against IP SANs): it names localhost, ::1") {
		t.Errorf("IPv4 address, certificate for ::1:\n%s", dump(r))
	}
}

// An intermediate signed with SHA-1 under a SHA-256 leaf: the weak
// signature is named on the intermediate, and the chain does not verify
// (Go refuses SHA-1 signatures), with Go's own hint.
func TestSHA1Intermediate(t *testing.T) {
	root := testlab.NewOpenSSLCA(t)
	inter := root.IntermediateDigest(t, "check_socat sha1 intermediate", 365, "sha1")
	leaf := inter.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	data, err := os.ReadFile(leaf)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "-----BEGIN PRIVATE KEY")
	interPEM, _ := os.ReadFile(inter.Cert)
	chain := filepath.Join(t.TempDir(), "chain.pem")
	if err := os.WriteFile(chain, bytes.Join([][]byte{data[:i], interPEM, data[i:]}, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	// (OpenSSL 3 refuses to load a SHA-1 signed chain at its default
	// security level: socat runs with level 0, as legacy deployments do.)
	srv := testlab.StartEnv(t, []string{testlab.LegacyOpenSSLConf(t)}, tlsListen+",verify=0,cert="+chain, "PIPE")
	cfg := baseConfig(srv.Port)
	cfg.CAFile, cfg.CertOnly = root.Cert, true
	r := audit(t, 10*time.Second, cfg)
	for _, w := range []string{"certificate check_socat sha1 intermediate is signed with SHA1-RSA", "the chain does not verify: certificate check_socat sha1 intermediate is signed with SHA1-RSA, which verifiers (Go, browsers, OpenSSL at its default level) refuse: reissue it with SHA-256"} {
		if r.State != state.Critical || !has(r, w) {
			t.Errorf("want CRITICAL with %q:\n%s", w, dump(r))
		}
	}
	// The same chain in --cert-file: the same words.
	cfg = baseConfig(0)
	cfg.Host, cfg.CertFile, cfg.CAFile, cfg.Hostname = "", chain, root.Cert, "localhost"
	if r := audit(t, 10*time.Second, cfg); r.State != state.Critical || !has(r, "certificate check_socat sha1 intermediate is signed with SHA1-RSA") {
		t.Errorf("--cert-file:\n%s", dump(r))
	}
	// The wrong intermediate (same name, another key), SHA-1 signed too:
	// the chain fails for the key, and reissuing with SHA-256 would not
	// mend it; Go's words stay (the review of issue 16).
	wrong := root.IntermediateDigest(t, "check_socat sha1 intermediate", 365, "sha1")
	wrongPEM, _ := os.ReadFile(wrong.Cert)
	mixed := filepath.Join(t.TempDir(), "mixed.pem")
	if err := os.WriteFile(mixed, bytes.Join([][]byte{data[:i], wrongPEM, data[i:]}, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CertFile = mixed
	if r := audit(t, 10*time.Second, cfg); r.State != state.Critical || has(r, "reissue it with SHA-256") || !has(r, "the chain does not verify: x509: certificate signed by unknown authority (possibly because of") {
		t.Errorf("the wrong intermediate, SHA-1 signed:\n%s", dump(r))
	}
}

// A server that speaks only TLS 1.3 with what crypto/tls lacks (only the
// CCM suites; an Ed448 key): the certificate is read from our own TLS
// 1.3 hello, decrypting the server's flight with its key share. It was
// CRITICAL "no TLS handshake succeeds" although the scan listed its
// suites.
func TestTLS13OnlyWithoutGo(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	san := "DNS:localhost,IP:127.0.0.1"
	rsa := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: san})
	ed448 := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, KeyAlg: "ed448"})
	for _, c := range []struct {
		name     string
		args     []string
		certOnly bool
		require  bool
		state    state.State
		want     []string
	}{
		{"CCM only, full audit", []string{"-cert", rsa, "-key", rsa, "-ciphersuites", "TLS_AES_128_CCM_SHA256"}, false, false, state.OK,
			[]string{"no handshake of Go's own (the certificate read from our own hello), certificate localhost valid 365.0 days", "1 protocols, 1 protocol/suite pairs, none weak"}},
		{"CCM_8 only", []string{"-cert", rsa, "-key", rsa, "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"}, true, false, state.OK,
			[]string{"no handshake of Go's own (the certificate read from our own hello), certificate localhost valid 365.0 days"}},
		{"an Ed448 key", []string{"-cert", ed448, "-key", ed448}, true, false, state.OK,
			[]string{"no handshake of Go's own", "key Ed448 456 bits"}},
		// Our own TLS 1.3 hello answers the CertificateRequest without a
		// certificate (encrypted with the client's handshake keys, CCM
		// here) and reads the alert (with the server's application keys).
		{"CCM only, -Verify, --require-client-auth", []string{"-cert", rsa, "-key", rsa, "-ciphersuites", "TLS_AES_128_CCM_SHA256", "-Verify", "1", "-CAfile", ca.Cert}, true, true, state.OK,
			[]string{"client certificate required", "refused without one (alert certificate_required)"}},
		{"CCM_8 only, -verify, --require-client-auth", []string{"-cert", rsa, "-key", rsa, "-ciphersuites", "TLS_AES_128_CCM_8_SHA256", "-verify", "1", "-CAfile", ca.Cert}, true, true, state.Critical,
			[]string{"the server asks for a client certificate but accepts clients without one at the TLS layer", "an empty certificate accepted"}},
		{"an Ed448 key, -Verify, --require-client-auth", []string{"-cert", ed448, "-key", ed448, "-Verify", "1", "-CAfile", ca.Cert}, true, true, state.OK,
			[]string{"client certificate required", "refused without one (alert certificate_required)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := testlab.StartOpenSSLServer(t, append(c.args, "-tls1_3", "-www")...)
			cfg := baseConfig(srv.Port)
			cfg.CAFile, cfg.CertOnly, cfg.RequireClientAuth = ca.Cert, c.certOnly, c.require
			r := audit(t, 20*time.Second, cfg, verbose)
			if r.State != c.state {
				t.Errorf("state %s, want %s:\n%s", r.State, c.state, dump(r))
			}
			for _, w := range c.want {
				if !has(r, w) {
					t.Errorf("no %q in:\n%s", w, dump(r))
				}
			}
		})
	}
}

// A certificate crypto/x509 cannot parse (a brainpoolP256r1 key): the
// scan stands (TLS 1.2 and its ECDHE-ECDSA suites, as testssl.sh finds
// them) and the certificate is said to be unread, UNKNOWN. make oracles
// found it ending as "no TLS handshake succeeds" with nothing counted.
func TestUnreadableCertificate(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	cert := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1", KeyAlg: "brainpool"})
	srv := testlab.Start(t, tlsListen+",verify=0,cert="+cert, "PIPE")
	cfg := baseConfig(srv.Port)
	cfg.CAFile = ca.Cert
	r := audit(t, 20*time.Second, cfg, verbose)
	if r.State != state.Unknown || !has(r, "the server's certificate cannot be read by Go's crypto/x509 (x509: unsupported elliptic curve)") {
		t.Errorf("a brainpool certificate:\n%s", dump(r))
	}
	protocols, _ := perfValue(r, "protocols_accepted")
	pairs, _ := perfValue(r, "ciphers_accepted")
	if protocols != 1 || pairs < 10 || !has(r, "TLS1.2: ") {
		t.Errorf("the scan was dropped (protocols %v, pairs %v):\n%s", protocols, pairs, dump(r))
	}
	if _, ok := perfValue(r, "days_left"); ok {
		t.Errorf("days_left of a certificate not read:\n%s", dump(r))
	}
}

package tlscheck

import (
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
)

// A server with an RSA and an ECDSA certificate (openssl s_server -dcert,
// as nginx and stunnel allow): both are audited, and their number said.
// Issue 16 §3: only the one Go negotiated was, and an ECDSA certificate
// served without its intermediate passed beside a good RSA one.
func TestEveryCertificateServed(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	inter := ca.Intermediate(t, "check_socat test intermediate")
	san := "DNS:localhost,IP:127.0.0.1"
	now := time.Now()
	rsa := inter.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, End: now.Add(40*24*time.Hour + time.Hour)})
	ec := inter.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, KeyAlg: "ec", End: now.Add(20*24*time.Hour + time.Hour)})
	cases := []struct {
		name  string
		extra []string
		state state.State
		want  []string
		days  float64 // days_left: the first certificate to expire, whichever
	}{
		{name: "both chains served", extra: []string{"-dcert_chain", inter.Cert}, state: state.Warning,
			want: []string{"the EC P-256 certificate: certificate localhost expires in 20.0 days (--warning-days 30)",
				"certificate localhost, issued by check_socat test intermediate, valid until", "key EC P-256 256 bits"}, days: 20},
		{name: "the ECDSA one without its intermediate", state: state.Critical,
			want: []string{"the EC P-256 certificate: the chain does not verify: the issuer of localhost, check_socat test intermediate, is neither served nor a trusted root"}, days: 20},
		// TLS 1.3 does not select a certificate by suite: our own TLS 1.3
		// hello offers only the other kind's signature algorithms.
		{name: "TLS 1.3 only, the ECDSA one without its intermediate", extra: []string{"-tls1_3"}, state: state.Critical,
			want: []string{"the EC P-256 certificate: the chain does not verify: the issuer of localhost, check_socat test intermediate, is neither served nor a trusted root"}, days: 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-cert", rsa, "-key", rsa, "-cert_chain", inter.Cert, "-dcert", ec, "-dkey", ec, "-www"}, tc.extra...)
			srv := testlab.StartOpenSSLServer(t, args...)
			cfg := baseConfig(srv.Port)
			cfg.CAFile = ca.Cert
			r := audit(t, 30*time.Second, cfg, verbose)
			if r.State != tc.state {
				t.Errorf("state %s, want %s:\n%s", r.State, tc.state, dump(r))
			}
			for _, w := range tc.want {
				if !has(r, w) {
					t.Errorf("no %q in:\n%s", w, dump(r))
				}
			}
			if d, _ := perfValue(r, "days_left"); int(d+0.5) != int(tc.days) {
				t.Errorf("days_left = %v, want %v (the first to expire):\n%s", d, tc.days, dump(r))
			}
		})
	}
	// Both good: the summary counts and names them.
	ec2 := inter.Issue(t, testlab.Leaf{CN: "localhost", SAN: san, KeyAlg: "ec"})
	rsa2 := inter.Issue(t, testlab.Leaf{CN: "localhost", SAN: san})
	srv := testlab.StartOpenSSLServer(t, "-cert", rsa2, "-key", rsa2, "-cert_chain", inter.Cert, "-dcert", ec2, "-dkey", ec2, "-dcert_chain", inter.Cert, "-www")
	cfg := baseConfig(srv.Port)
	cfg.CAFile = ca.Cert
	r := audit(t, 30*time.Second, cfg)
	if r.State != state.OK || !has(r, "2 certificates: localhost (RSA 2048) valid 365.0 days, localhost (EC P-256) valid 365.0 days") {
		t.Errorf("two good certificates:\n%s", dump(r))
	}
	// One certificate: one probe fewer, the summary as before.
	one := testlab.StartOpenSSLServer(t, "-cert", rsa2, "-key", rsa2, "-cert_chain", inter.Cert, "-www")
	cfg = baseConfig(one.Port)
	cfg.CAFile = ca.Cert
	if r := audit(t, 30*time.Second, cfg); r.State != state.OK || !has(r, ", certificate localhost valid 365.0 days,") {
		t.Errorf("one certificate:\n%s", dump(r))
	}
}

func verbose(e *checks.Env) { e.Verbose = 1 }

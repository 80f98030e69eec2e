package tlscheck

import (
	"bytes"
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 identifying DSA keys is the point
	"crypto/ecdsa"
	"crypto/ed25519"
	_ "crypto/md5" // registers MD5 for checking roots that sign themselves with it
	"crypto/rsa"
	_ "crypto/sha1" // registers SHA-1 for checking roots that sign themselves with it
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/state"
)

// problem is a finding of this check.
type problem = checks.Finding

// finding is a problem with its stable ID.
func finding(id string, st state.State, text string) problem {
	return checks.Finding{ID: id, State: st, Text: text}
}

// certReport is what the certificate checks found.
type certReport struct {
	problems []problem
	daysLeft float64   // the first expiry in the chain, fractional days
	notAfter time.Time // that expiry
	// notBefore and age are that certificate's start and the time since
	// it (at the check).
	notBefore time.Time
	age       time.Duration
	chainLen  int
	keyBits   int
	lines     []string // details for -v
	leaf      *x509.Certificate
}

func subjectOf(c *x509.Certificate) string {
	s := c.Subject.CommonName
	if s == "" {
		s = c.Subject.String()
	}
	return sanitize.Text(s, 80)
}

// isSelfSigned reports a certificate that names itself as its issuer
// and whose signature its own key verifies: a root. Go refuses to check
// SHA-1 and MD5 signatures, and many long-lived roots sign themselves
// with SHA-1 (which is harmless: a root is trusted for being in the
// store, not for its signature), so those are checked here.
func isSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	err := c.CheckSignatureFrom(c)
	if err == nil {
		return true
	}
	// Only the algorithm refused: the constraints (a CA, allowed to sign
	// certificates) passed, as they are checked first.
	var insecure x509.InsecureAlgorithmError
	if !errors.As(err, &insecure) {
		return false
	}
	var h crypto.Hash
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		return false
	}
	if !h.Available() {
		return false
	}
	d := h.New()
	d.Write(c.RawTBSCertificate)
	sum := d.Sum(nil)
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, sum, c.Signature) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, sum, c.Signature)
	}
	return false
}

// weakSignature reports a signature made with MD2, MD5 or SHA-1.
func weakSignature(c *x509.Certificate) bool {
	switch c.SignatureAlgorithm {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

// untrustedWhy tells apart what "certificate signed by unknown authority"
// lumps together, following the issuers from the server's certificate
// through the certificates served (in any order): the first issuer that
// is not served (a missing intermediate, or a CA root the client does not
// have), a root served but not trusted, a self-signed certificate.
func untrustedWhy(chain []*x509.Certificate) string {
	cur := chain[0]
	if len(chain) == 1 && bytes.Equal(cur.RawIssuer, cur.RawSubject) || isSelfSigned(cur) {
		// (A certificate issued to itself that does not even sign as a CA
		// may is self-signed all the same to an operator.)
		return "it is self-signed and not in the trusted roots"
	}
	for range chain {
		if isSelfSigned(cur) {
			return fmt.Sprintf("its root %s (served) is not a trusted root: give --ca-file with it, or --insecure-chain", subjectOf(cur))
		}
		var next *x509.Certificate
		for _, c := range chain {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		cur = next
	}
	issuer := sanitize.Text(cur.Issuer.CommonName, 80)
	if issuer == "" {
		issuer = sanitize.Text(cur.Issuer.String(), 120)
	}
	return fmt.Sprintf("the issuer of %s, %s, is neither served nor a trusted root: if it is an intermediate, append it to socat's cert= file after the certificate (an incomplete chain); if it is your CA's root, give --ca-file with it",
		subjectOf(cur), issuer)
}

// keyInfo returns the key type and size of a certificate.
func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name, k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	}
	return spkiKey(c.RawSubjectPublicKeyInfo)
}

var (
	oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidEd448  = asn1.ObjectIdentifier{1, 3, 101, 113}
)

// spkiKey reads the keys crypto/x509 does not parse but OpenSSL serves:
// RSA-PSS (an RSA key restricted to PSS signatures: its size is its
// modulus's, and --min-key-bits applies as to RSA) and Ed448.
func spkiKey(raw []byte) (string, int) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(raw, &spki); err != nil {
		return "unknown", 0
	}
	switch oid := spki.Algorithm.Algorithm; {
	case oid.Equal(oidRSAPSS):
		var k struct {
			N *big.Int
			E int
		}
		if _, err := asn1.Unmarshal(spki.Key.Bytes, &k); err != nil || k.N == nil {
			return "RSA-PSS", 0
		}
		return "RSA-PSS", k.N.BitLen()
	case oid.Equal(oidEd448):
		return "Ed448", 456
	default:
		return "unknown (" + oid.String() + ")", 0
	}
}

// analyzeChain checks a chain as presented (leaf first). name is what the
// leaf must be valid for ("" in file mode without --hostname); roots nil
// means the system store.
func analyzeChain(chain []*x509.Certificate, cfg *Config, roots *x509.CertPool, name string, now time.Time) certReport {
	r := certReport{chainLen: len(chain), daysLeft: math.Inf(1)}
	if len(chain) == 0 {
		r.problems = append(r.problems, finding("no-certificate", state.Critical, "no certificate was presented"))
		r.daysLeft = 0
		return r
	}
	leaf := chain[0]
	r.leaf = leaf
	chainState := state.Critical
	if cfg.InsecureChain {
		chainState = state.Warning
	}

	// Expiry: the leaf and every certificate that is not a self-signed
	// root (a root's own dates matter in the local trust store, not here).
	first := ""
	for i, c := range chain {
		if i > 0 && isSelfSigned(c) {
			continue
		}
		days := c.NotAfter.Sub(now).Hours() / 24
		if days < r.daysLeft {
			r.daysLeft, r.notAfter, r.notBefore, r.age = days, c.NotAfter, c.NotBefore, now.Sub(c.NotBefore)
			first = subjectOf(c)
			if i > 0 {
				first = "intermediate " + first
			}
		}
		if now.Before(c.NotBefore) {
			r.problems = append(r.problems, finding("cert-not-yet-valid", state.Critical, fmt.Sprintf("certificate %s is not valid before %s", subjectOf(c), c.NotBefore.UTC().Format(time.RFC3339))))
		}
		if i == 0 || !isSelfSigned(c) {
			if weakSignature(c) {
				r.problems = append(r.problems, finding("weak-signature", state.Critical, fmt.Sprintf("certificate %s is signed with %s", subjectOf(c), c.SignatureAlgorithm)))
			}
		}
	}
	switch {
	case r.daysLeft < 0:
		r.problems = append(r.problems, finding("cert-expired", state.Critical, fmt.Sprintf("certificate %s expired %.1f days ago", first, -r.daysLeft)))
	case r.daysLeft < cfg.CriticalDays:
		r.problems = append(r.problems, finding("cert-expiring", state.Critical, fmt.Sprintf("certificate %s expires in %.1f days (--critical-days %g)", first, r.daysLeft, cfg.CriticalDays)))
	case r.daysLeft < cfg.WarningDays:
		r.problems = append(r.problems, finding("cert-expiring", state.Warning, fmt.Sprintf("certificate %s expires in %.1f days (--warning-days %g)", first, r.daysLeft, cfg.WarningDays)))
	}

	// Key.
	kt, bits := keyInfo(leaf)
	r.keyBits = bits
	switch {
	case kt == "DSA":
		r.problems = append(r.problems, finding("weak-key", state.Critical, fmt.Sprintf("the key is DSA %d bits: DSA is obsolete", bits)))
	case (kt == "RSA" || kt == "RSA-PSS") && bits < cfg.MinKeyBits:
		r.problems = append(r.problems, finding("weak-key", state.Critical, fmt.Sprintf("the key is %s %d bits, below --min-key-bits %d", kt, bits, cfg.MinKeyBits)))
	case strings.HasPrefix(kt, "EC") && bits < 256:
		r.problems = append(r.problems, finding("weak-key", state.Critical, fmt.Sprintf("the key is %s (%d bits), below 256", kt, bits)))
	}

	// Trust.
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// A live endpoint serves: its certificate must allow server auth. A
	// file may be a client's (socat's cert= on OPENSSL-CONNECT) too.
	usage := x509.ExtKeyUsageServerAuth
	if cfg.CertFile != "" {
		usage = x509.ExtKeyUsageAny
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := leaf.Verify(opts); err != nil {
		var inv x509.CertificateInvalidError
		if !(errors.As(err, &inv) && inv.Reason == x509.Expired) { // expiry is said above
			what := sanitize.Text(err.Error(), 160)
			var unknown x509.UnknownAuthorityError
			// (With a hint, Go found an authority whose signature it could
			// not check, e.g. SHA-1: its own words say that.)
			if errors.As(err, &unknown) && !strings.Contains(err.Error(), "possibly because of") {
				what = untrustedWhy(chain)
			} else if weak := weakLink(chain); errors.As(err, &unknown) && weak != nil && strings.Contains(err.Error(), "insecure algorithm") {
				// (Only when Go says so: a wrong intermediate that happens to
				// be SHA-1 signed fails for its key, which reissuing with
				// SHA-256 would not mend; Go's words say that.)
				what = fmt.Sprintf("certificate %s is signed with %s, which verifiers (Go, browsers, OpenSSL at its default level) refuse: reissue it with SHA-256", subjectOf(weak), weak.SignatureAlgorithm)
			} else if isSelfSigned(leaf) {
				what = "it is self-signed and not in the trusted roots"
			}
			r.problems = append(r.problems, finding("chain-untrusted", chainState, "the chain does not verify: "+what))
		}
	}
	if name != "" {
		if err := leaf.VerifyHostname(name); err != nil {
			ipNote := ""
			if net.ParseIP(name) != nil {
				ipNote = " (an IP is checked against IP SANs)"
			}
			r.problems = append(r.problems, finding("name-mismatch", chainState, fmt.Sprintf("the certificate is not valid for %s%s: it names %s", sanitize.Text(name, 80), ipNote, names(leaf))))
		}
	}
	if math.IsInf(r.daysLeft, 1) {
		r.daysLeft = 0
	}
	r.lines = append(r.lines, fmt.Sprintf("certificate %s, issued by %s, valid until %s (%.1f days), key %s %d bits, signed %s, chain of %d",
		subjectOf(leaf), sanitize.Text(leaf.Issuer.CommonName, 80), leaf.NotAfter.UTC().Format(time.RFC3339), leaf.NotAfter.Sub(now).Hours()/24,
		kt, bits, leaf.SignatureAlgorithm, len(chain)))
	return r
}

// names lists what the leaf is valid for.
func names(c *x509.Certificate) string {
	n := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 && c.Subject.CommonName != "" {
		n = append(n, "CN "+c.Subject.CommonName)
	}
	if len(n) == 0 {
		return "no name"
	}
	if len(n) > 4 {
		n = append(n[:4], fmt.Sprintf("+%d", len(n)-4))
	}
	return sanitize.Text(strings.Join(n, ", "), 160)
}

// certKind names a certificate by its key: "RSA 2048", "EC P-256",
// "Ed25519".
func certKind(c *x509.Certificate) string {
	kt, bits := keyInfo(c)
	if kt == "RSA" || kt == "RSA-PSS" || kt == "DSA" {
		return fmt.Sprintf("%s %d", kt, bits)
	}
	return kt
}

// weakLink is the first served certificate, other than a self-signed
// root, whose signature uses a weak algorithm: the link a verifier
// refuses.
func weakLink(chain []*x509.Certificate) *x509.Certificate {
	for i, c := range chain {
		if (i == 0 || !isSelfSigned(c)) && weakSignature(c) {
			return c
		}
	}
	return nil
}

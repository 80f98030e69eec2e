package tlscheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/smallfile"
	"github.com/check-socat/check-socat/internal/state"
)

// pemFile is what a PEM file holds: certificates, and the first private
// key (socat's cert= may hold both).
type pemFile struct {
	certs []*x509.Certificate
	key   crypto.PrivateKey
	// keyBlock is any PEM block whose type ends in PRIVATE KEY, parsed or
	// not (encrypted, DSA, OpenSSH): its permissions matter all the same.
	keyBlock  bool
	encrypted bool
}

func readPEM(path, flag string) (pemFile, error) {
	var out pemFile
	data, err := smallfile.Read(path, smallfile.PEMLimit)
	if err != nil {
		return out, fmt.Errorf("cannot read %s %s: %v", flag, sanitize.Text(path, 120), pathErr(err))
	}
	rest := data
	blocks := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return out, fmt.Errorf("%s %s: certificate %d does not parse: %s", flag, sanitize.Text(path, 120), len(out.certs)+1, sanitize.Text(err.Error(), 80))
			}
			out.certs = append(out.certs, c)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			out.keyBlock = true
			if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
				out.encrypted = true
				continue
			}
			if out.key != nil || (b.Type != "PRIVATE KEY" && b.Type != "RSA PRIVATE KEY" && b.Type != "EC PRIVATE KEY") {
				continue
			}
			k, err := parseKey(b)
			if err != nil {
				return out, fmt.Errorf("%s %s: the private key does not parse: %s", flag, sanitize.Text(path, 120), sanitize.Text(err.Error(), 80))
			}
			out.key = k
		}
	}
	if blocks == 0 {
		return out, fmt.Errorf("%s %s holds no PEM block: give a PEM certificate (and key)", flag, sanitize.Text(path, 120))
	}
	return out, nil
}

func parseKey(b *pem.Block) (crypto.PrivateKey, error) {
	switch b.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(b.Bytes)
	}
	return x509.ParsePKCS8PrivateKey(b.Bytes)
}

// keyMatches reports whether the private key belongs to the certificate.
func keyMatches(c *x509.Certificate, key crypto.PrivateKey) bool {
	type publicKeyer interface{ Public() crypto.PublicKey }
	pk, ok := key.(publicKeyer)
	if !ok {
		return false
	}
	switch pub := pk.Public().(type) {
	case *rsa.PublicKey:
		return pub.Equal(c.PublicKey)
	case *ecdsa.PublicKey:
		return pub.Equal(c.PublicKey)
	case ed25519.PublicKey:
		return pub.Equal(c.PublicKey)
	}
	return false
}

// keyFileProblems checks who may read the file holding a private key.
func keyFileProblems(path, flag string, certOwner int) []problem {
	info, err := os.Stat(path)
	if err != nil {
		return nil
	}
	var out []problem
	if m := info.Mode().Perm(); m&0o044 != 0 {
		who := "others"
		if m&0o040 != 0 && m&0o004 != 0 {
			who = "group and others"
		} else if m&0o040 != 0 {
			who = "its group"
		}
		out = append(out, fileFinding(path, "key-file-exposed", state.Critical, fmt.Sprintf("%s %s holds a private key and is readable by %s (mode %04o)", flag, sanitize.Text(path, 120), who, m)))
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && certOwner >= 0 && int(st.Uid) != certOwner && st.Uid != 0 {
		owner := strconv.Itoa(int(st.Uid))
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username
		}
		out = append(out, fileFinding(path, "key-file-owner", state.Warning, fmt.Sprintf("%s %s is owned by %s, not by the owner of the certificate", flag, sanitize.Text(path, 120), sanitize.Text(owner, 32))))
	}
	return out
}

func runFile(env checks.Env, cfg Config) checks.Result {
	start := time.Now()
	pf, err := readPEM(cfg.CertFile, "--cert-file")
	if err != nil {
		return checks.Unknownf("%v", err)
	}
	certs := pf.certs
	if len(certs) == 0 {
		return checks.Unknownf("--cert-file %s holds no certificate: give the PEM that socat's cert= names", sanitize.Text(cfg.CertFile, 120))
	}
	roots, _, err := loadTrust(&Config{CAFile: cfg.CAFile})
	if err != nil {
		return checks.Unknownf("%v", err)
	}
	var problems []problem
	owner := -1
	if info, err := os.Stat(cfg.CertFile); err == nil {
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			owner = int(st.Uid)
		}
	}
	// A key in the certificate file is exposed by its mode whether or not
	// socat uses it (with key=, socat takes the key file's).
	if pf.keyBlock {
		problems = append(problems, keyFileProblems(cfg.CertFile, "--cert-file", owner)...)
	}
	keyFlag := "--cert-file"
	if cfg.KeyFile != "" {
		kf, kerr := readPEM(cfg.KeyFile, "--key-file")
		if kerr != nil {
			return checks.Unknownf("%v", kerr)
		}
		if !kf.keyBlock {
			return checks.Unknownf("--key-file %s holds no private key: give the file socat's key= names", sanitize.Text(cfg.KeyFile, 120))
		}
		if !sameFile(cfg.CertFile, cfg.KeyFile) || !pf.keyBlock { // cert=X,key=X: one file, said once
			problems = append(problems, keyFileProblems(cfg.KeyFile, "--key-file", owner)...)
		}
		pf, keyFlag = kf, "--key-file"
	}
	switch {
	case pf.key != nil:
		if !keyMatches(certs[0], pf.key) {
			text := fmt.Sprintf("the private key in %s does not match the certificate %s", keyFlag, subjectOf(certs[0]))
			for _, c := range certs[1:] {
				if keyMatches(c, pf.key) {
					// The key is a later certificate's: the server's
					// certificate is not first (socat takes the first).
					text = fmt.Sprintf("the chain is in the wrong order: the private key in %s belongs to %s, which comes after %s; put the server's certificate first in socat's cert= file, then its intermediates",
						keyFlag, subjectOf(c), subjectOf(certs[0]))
					break
				}
			}
			problems = append(problems, finding("key-mismatch", state.Critical, text))
		}
	case pf.encrypted:
		problems = append(problems, finding("key-encrypted", state.Warning, fmt.Sprintf("the private key in %s is encrypted: socat asks for its passphrase on a terminal at start, which a service has not (and whether it matches is not checked)", keyFlag)))
	}
	cr := analyzeChain(certs, &cfg, roots, cfg.Hostname, time.Now())
	problems = append(problems, cr.problems...)

	res := checks.Result{}
	checks.Sort(problems)
	setSubject(problems, sanitize.Text(cfg.CertFile, 200))
	res.Findings = problems
	res.State = checks.Worst(res.State, problems)
	if env.Verbose >= 1 {
		res.Details = append(res.Details, cr.lines...)
	}
	what := "file " + sanitize.Text(cfg.CertFile, 100)
	if len(problems) > 0 {
		res.Summary = fmt.Sprintf("%s: %s", what, problems[0].Text) + checks.More(len(problems)-1, "problem")
	} else {
		res.Summary = fmt.Sprintf("%s: certificate %s valid %.1f days, chain of %d", what, subjectOf(certs[0]), time.Until(certs[0].NotAfter).Hours()/24, len(certs))
	}
	res.Metrics = append(certMetrics(cr, cfg.WarningDays, cfg.CriticalDays),
		chainMetric(cr), keyMetric(cr), durationMetric(start))
	return res
}

func sameFile(a, b string) bool {
	ia, err1 := os.Stat(a)
	ib, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}

// fileFinding is a finding about a file (its subject).
func fileFinding(path, id string, st state.State, text string) problem {
	f := finding(id, st, text)
	f.Subject = sanitize.Text(path, 200)
	return f
}

// setSubject gives the findings that name no subject of their own the
// audited one.
func setSubject(ps []problem, subject string) {
	for i := range ps {
		if ps[i].Subject == "" {
			ps[i].Subject = subject
		}
	}
}

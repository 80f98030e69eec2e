package testlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OpenSSLCA is a private CA made with the openssl command, which signs
// leaf certificates with any dates, key size and digest: expired ones,
// SHA-1 signed ones, 1024-bit ones, as real deployments have them.
type OpenSSLCA struct {
	Dir  string
	Cert string // the CA certificate (PEM), for --ca-file
	key  string
	conf string
	n    int
}

func runOpenSSL(t testing.TB, args ...string) {
	t.Helper()
	Need(t, "openssl")
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// NewOpenSSLCA creates the CA.
func NewOpenSSLCA(t testing.TB) *OpenSSLCA {
	t.Helper()
	return NewOpenSSLCADigest(t, "sha256")
}

// NewOpenSSLCADigest creates a CA whose root signs itself with digest:
// sha1 makes one like the long-lived roots still in trust stores.
func NewOpenSSLCADigest(t testing.TB, digest string) *OpenSSLCA {
	t.Helper()
	dir := t.TempDir()
	ca := &OpenSSLCA{Dir: dir, Cert: filepath.Join(dir, "ca.pem"), key: filepath.Join(dir, "ca.key"), conf: filepath.Join(dir, "ca.cnf")}
	runOpenSSL(t, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.key, "-out", ca.Cert, "-subj", "/CN=check_socat openssl test CA", "-days", "30",
		"-"+digest, "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	writeCAConf(t, ca)
	return ca
}

// Intermediate makes an intermediate CA signed by ca (its certificate in
// Cert, its own key and configuration), which issues leaves as ca does.
func (ca *OpenSSLCA) Intermediate(t testing.TB, cn string) *OpenSSLCA {
	t.Helper()
	return ca.IntermediateDays(t, cn, 365)
}

// IntermediateDays is Intermediate valid for days.
func (ca *OpenSSLCA) IntermediateDays(t testing.TB, cn string, days int) *OpenSSLCA {
	t.Helper()
	return ca.IntermediateDigest(t, cn, days, "sha256")
}

// IntermediateDigest is Intermediate valid for days, signed by ca with
// digest (sha1 for a weak one, as old chains still have).
func (ca *OpenSSLCA) IntermediateDigest(t testing.TB, cn string, days int, digest string) *OpenSSLCA {
	t.Helper()
	dir := t.TempDir()
	in := &OpenSSLCA{Dir: dir, Cert: filepath.Join(dir, "ca.pem"), key: filepath.Join(dir, "ca.key"), conf: filepath.Join(dir, "ca.cnf")}
	runOpenSSL(t, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", in.key, "-out", filepath.Join(dir, "ca.csr"), "-subj", "/CN="+cn,
		"-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	runOpenSSL(t, "ca", "-batch", "-config", ca.conf, "-cert", ca.Cert, "-keyfile", ca.key, "-in", filepath.Join(dir, "ca.csr"), "-out", in.Cert,
		"-days", strconv.Itoa(days), "-md", digest, "-notext")
	writeCAConf(t, in)
	return in
}

// writeCAConf writes the openssl ca configuration of a CA in its directory.
func writeCAConf(t testing.TB, ca *OpenSSLCA) {
	t.Helper()
	dir := ca.Dir
	conf := fmt.Sprintf(`[ca]
default_ca = testca
[testca]
dir = %[1]s
database = %[1]s/index.txt
new_certs_dir = %[1]s
serial = %[1]s/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
`, dir)
	if err := os.WriteFile(ca.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "index.txt"), nil, 0o600)
	_ = os.WriteFile(filepath.Join(dir, "serial"), []byte("1000\n"), 0o600)
}

// Leaf describes a certificate to issue.
type Leaf struct {
	CN         string
	SAN        string // e.g. "DNS:localhost,IP:127.0.0.1"
	Bits       int    // RSA key size, default 2048
	KeyAlg     string // "" (RSA); "rsa-pss": an RSA key restricted to PSS (SPKI id-RSASSA-PSS); "ec" (P-256); "brainpool" (brainpoolP256r1); "ed448"
	Digest     string // sha256 by default; sha1 for a weak signature
	Start, End time.Time
	EKU        string // extendedKeyUsage, e.g. "clientAuth"; none by default
}

// Issue signs a leaf and returns a PEM file with the certificate and its
// key, as socat's cert= takes it.
func (ca *OpenSSLCA) Issue(t testing.TB, l Leaf) string {
	t.Helper()
	ca.n++
	base := filepath.Join(ca.Dir, fmt.Sprintf("leaf%d", ca.n))
	if l.Bits == 0 {
		l.Bits = 2048
	}
	if l.Digest == "" {
		l.Digest = "sha256"
	}
	if l.Start.IsZero() {
		l.Start = time.Now().Add(-time.Hour)
	}
	if l.End.IsZero() {
		l.End = time.Now().Add(365 * 24 * time.Hour)
	}
	args := []string{"req", "-new", "-newkey", fmt.Sprintf("rsa:%d", l.Bits), "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + l.CN}
	if l.KeyAlg != "" {
		gen := map[string][]string{
			"rsa-pss":   {"-algorithm", "RSA-PSS", "-pkeyopt", fmt.Sprintf("rsa_keygen_bits:%d", l.Bits)},
			"ec":        {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
			"brainpool": {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"},
			"ed448":     {"-algorithm", "ED448"},
		}[l.KeyAlg]
		if gen == nil {
			t.Fatalf("testlab: no key algorithm %q", l.KeyAlg)
		}
		runOpenSSL(t, append(append([]string{"genpkey"}, gen...), "-out", base+".key")...)
		args = []string{"req", "-new", "-key", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + l.CN}
	}
	if l.SAN != "" {
		args = append(args, "-addext", "subjectAltName="+l.SAN)
	}
	if l.EKU != "" {
		args = append(args, "-addext", "extendedKeyUsage="+l.EKU)
	}
	runOpenSSL(t, args...)
	stamp := func(tm time.Time) string { return tm.UTC().Format("20060102150405Z") }
	runOpenSSL(t, "ca", "-batch", "-config", ca.conf, "-cert", ca.Cert, "-keyfile", ca.key, "-in", base+".csr", "-out", base+".crt",
		"-startdate", stamp(l.Start), "-enddate", stamp(l.End), "-md", l.Digest, "-notext")
	return joinPEM(t, base+".pem", base+".crt", base+".key")
}

// SelfSignedOpenSSL makes a self-signed certificate with openssl req -x509.
func SelfSignedOpenSSL(t testing.TB, cn, san string) string {
	t.Helper()
	dir := t.TempDir()
	runOpenSSL(t, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir+"/self.key", "-out", dir+"/self.crt", "-subj", "/CN="+cn, "-days", "90", "-addext", "subjectAltName="+san)
	return joinPEM(t, dir+"/self.pem", dir+"/self.crt", dir+"/self.key")
}

func joinPEM(t testing.TB, out string, parts ...string) string {
	t.Helper()
	var all []byte
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(out, all, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// LegacyOpenSSLConf writes an OpenSSL configuration that lowers the
// security level to 0, and returns "OPENSSL_CONF=<it>". socat applies its
// cipher= option only after loading the certificate, so with OpenSSL 3 it
// cannot even start with a 1024-bit or SHA-1 signed certificate unless
// the library's configuration allows them.
func LegacyOpenSSLConf(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "openssl-legacy.cnf")
	conf := "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nCipherString = DEFAULT@SECLEVEL=0\n"
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return "OPENSSL_CONF=" + p
}

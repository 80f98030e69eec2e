package tlscheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/tlswire"
)

func selfSignedPEM(f *testing.F) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"fuzz"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
}

// Any PEM (or DER, or garbage) as --cert-file: a result or exit 3 with a
// line, never a panic.
func FuzzCertFile(f *testing.F) {
	good := selfSignedPEM(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := os.CreateTemp(dir, "cert*.pem")
		if err != nil {
			t.Fatal(err)
		}
		path := file.Name()
		defer os.Remove(path)
		_, err = file.Write(data)
		file.Close()
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{CertFile: path, WarningDays: 30, CriticalDays: 7, MinProtocol: tlswire.VersionTLS12, MinKeyBits: 2048,
			Parallel: 4, AllowCiphers: map[uint16]bool{}}
		r := Run(t.Context(), checks.Env{Stage: &checks.Stage{}}, cfg)
		if r.Summary == "" || strings.ContainsAny(r.Summary, "\n|") {
			t.Fatalf("%q: summary %q is empty or breaks the output line", data, r.Summary)
		}
		// A file is either refused (UNKNOWN, exit 3) or judged, and then
		// it held a certificate.
		if _, ok := perfValue(r, "days_left"); r.State != state.Unknown && !ok {
			t.Fatalf("%q: judged %s without a certificate: %s", data, r.State, r.Summary)
		}
		if n, _ := perfValue(r, "chain_length"); r.State != state.Unknown && n < 1 {
			t.Fatalf("%q: judged %s with a chain of %v", data, r.State, n)
		}
	})
}

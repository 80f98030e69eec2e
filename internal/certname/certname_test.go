package certname

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

func makeCert(t *testing.T, cn string, dns []string, ips []net.IP) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"o"}},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: dns, IPAddresses: ips}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// crypto/x509 is the oracle: the name read is its first DNS name; a
// common name is not one (Go's clients ignore it).
func TestFromPEM(t *testing.T) {
	for _, c := range []struct {
		cn   string
		dns  []string
		ips  []net.IP
		want string
	}{
		{"relay.example.com", []string{"relay.example.com", "b.example.com"}, nil, "relay.example.com"},
		{"cn-only.example.com", nil, nil, ""},
		{"ignored", []string{"san.example.com"}, []net.IP{net.ParseIP("127.0.0.1")}, "san.example.com"},
		{"ip-only", nil, []net.IP{net.ParseIP("192.0.2.1")}, ""},
		{"w", []string{"*.example.com"}, nil, "*.example.com"},
		{"", nil, nil, ""},
	} {
		pemBytes := append([]byte("# a comment\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), makeCert(t, c.cn, c.dns, c.ips)...)
		got, err := FromPEM(pemBytes)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v", c, got, err)
		}
		block, _ := pem.Decode(makeCert(t, c.cn, c.dns, c.ips))
		oracle, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if (len(oracle.DNSNames) == 0) != (got == "") || len(oracle.DNSNames) > 0 && oracle.DNSNames[0] != got {
			t.Errorf("%+v: %q, crypto/x509 has %q", c, got, oracle.DNSNames)
		}
	}
	for _, bad := range []string{"", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nAAAA"} {
		if n, err := FromPEM([]byte(bad)); err == nil || n != "" {
			t.Errorf("%q: %q, %v", bad, n, err)
		}
	}
}

func FuzzFromDER(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) { _, _ = FromDER(der) })
}

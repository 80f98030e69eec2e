// Package tlswire speaks just enough of the TLS and SSL wire formats to
// audit a server: ClientHellos written by hand for SSLv2, SSLv3 and TLS
// 1.0-1.3 (so that suites crypto/tls cannot offer, NULL, EXPORT,
// anonymous, RC4, DES, can be), a parser of the server's first flight
// (ServerHello, Certificate, CertificateRequest, alerts) that never trusts
// a length, and the registry of cipher suites with their weaknesses.
package tlswire

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed iana.txt
var ianaText string

//go:embed openssl-ciphers.txt
var opensslText string

// Suite is one cipher suite.
type Suite struct {
	Code    uint16
	Name    string // IANA: TLS_RSA_WITH_NULL_SHA
	OpenSSL string // OpenSSL's name when it has one: NULL-SHA
	TLS13   bool
}

// Registry is the set of known suites; built once, read-only.
type Registry struct {
	byCode map[uint16]*Suite
	byName map[string]*Suite // upper-cased IANA and OpenSSL names
	all    []*Suite
}

var registry = sync.OnceValue(buildRegistry)

// Suites returns the registry.
func Suites() *Registry { return registry() }

func buildRegistry() *Registry {
	r := &Registry{byCode: map[uint16]*Suite{}, byName: map[string]*Suite{}}
	add := func(code uint16, name, ossl string) {
		s := r.byCode[code]
		if s == nil {
			s = &Suite{Code: code, Name: name}
			r.byCode[code] = s
			r.all = append(r.all, s)
		}
		if ossl != "" && s.OpenSSL == "" {
			s.OpenSSL = ossl
		}
		s.TLS13 = code>>8 == 0x13 || integrityOnly(code)
	}
	// OpenSSL's list: "0xC0,0x2C - <IANA> - <OpenSSL> TLSv1.2 Kx=..."
	for _, line := range strings.Split(opensslText, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] != "-" || f[3] != "-" {
			continue
		}
		hi, lo, ok := strings.Cut(f[0], ",")
		a, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
		b, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		ossl := f[4]
		if ossl == f[2] {
			ossl = "" // TLS 1.3: OpenSSL uses the IANA name
		}
		add(uint16(a)<<8|uint16(b), f[2], ossl)
	}
	for _, line := range strings.Split(ianaText, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		code, err := strconv.ParseUint(f[0][2:], 16, 16)
		if err != nil {
			continue
		}
		ossl := ""
		if len(f) > 2 {
			ossl = f[2]
		}
		add(uint16(code), f[1], ossl)
	}
	sort.Slice(r.all, func(i, j int) bool { return r.all[i].Code < r.all[j].Code })
	for _, s := range r.all {
		r.byName[strings.ToUpper(s.Name)] = s
		if s.OpenSSL != "" {
			r.byName[strings.ToUpper(s.OpenSSL)] = s
		}
	}
	return r
}

// ByCode returns the suite with this code, or a placeholder naming the
// code for one the registry does not know.
func (r *Registry) ByCode(code uint16) *Suite {
	if s, ok := r.byCode[code]; ok {
		return s
	}
	return &Suite{Code: code, Name: fmt.Sprintf("UNKNOWN_0x%04X", code)}
}

// ByName finds a suite by its IANA or OpenSSL name, case-insensitive.
func (r *Registry) ByName(name string) (*Suite, bool) {
	s, ok := r.byName[strings.ToUpper(strings.TrimSpace(name))]
	return s, ok
}

// Pre13 returns the codes of every suite for SSLv3 to TLS 1.2.
func (r *Registry) Pre13() []uint16 {
	var out []uint16
	for _, s := range r.all {
		if !s.TLS13 {
			out = append(out, s.Code)
		}
	}
	return out
}

// TLS13 returns the codes of the TLS 1.3 suites.
func (r *Registry) TLS13() []uint16 {
	var out []uint16
	for _, s := range r.all {
		if s.TLS13 {
			out = append(out, s.Code)
		}
	}
	return out
}

// Len is the number of known suites.
func (r *Registry) Len() int { return len(r.all) }

// Weakness is why a suite is weak, by family.
type Weakness struct {
	Null, Anonymous, Export, RC4, DES, TripleDES, MD5, CBCSHA1, NoForwardSecrecy bool
}

// integrityOnly reports the TLS 1.3 suites of RFC 9150 that
// authenticate but do not encrypt: NULL ciphers for TLS 1.3.
func integrityOnly(code uint16) bool {
	return code == 0xC0B4 || code == 0xC0B5 // TLS_SHA256_SHA256, TLS_SHA384_SHA384
}

// Weaknesses classifies a suite from its IANA name.
func (s *Suite) Weaknesses() Weakness {
	n := s.Name
	if s.TLS13 {
		return Weakness{Null: integrityOnly(s.Code)}
	}
	kx, rest, _ := strings.Cut(strings.TrimPrefix(n, "TLS_"), "_WITH_")
	w := Weakness{
		Null:      strings.HasPrefix(rest, "NULL") || n == "TLS_NULL_WITH_NULL_NULL",
		Anonymous: strings.Contains(kx, "anon") || kx == "NULL",
		Export:    strings.Contains(kx, "EXPORT") || strings.Contains(rest, "EXPORT"),
		RC4:       strings.Contains(rest, "RC4"),
		DES:       (strings.Contains(rest, "DES_CBC") || strings.Contains(rest, "DES40")) && !strings.Contains(rest, "3DES"),
		TripleDES: strings.Contains(rest, "3DES"),
		MD5:       strings.HasSuffix(rest, "_MD5"),
		CBCSHA1:   strings.HasSuffix(rest, "_CBC_SHA"),
	}
	fs := strings.HasPrefix(kx, "DHE_") || strings.HasPrefix(kx, "ECDHE_") || strings.HasPrefix(kx, "PSK_DHE")
	w.NoForwardSecrecy = !fs
	return w
}

// Auth is the kind of certificate key a TLS 1.2 (or older) suite needs
// the server to hold: "RSA", "EC" (ECDSA, and EdDSA in TLS 1.2), "DSA",
// or "" for suites without a certificate (anonymous, PSK, SRP, Kerberos)
// and TLS 1.3 suites, which do not say.
func (s *Suite) Auth() string {
	if s.TLS13 {
		return ""
	}
	kx, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(s.Name, "TLS_"), "SSL_"), "_WITH_")
	if !ok {
		return ""
	}
	switch {
	case strings.Contains(kx, "anon"), strings.Contains(kx, "KRB5"):
		return ""
	case strings.Contains(kx, "ECDSA"), strings.HasPrefix(kx, "ECDH_"):
		return "EC" // ECDH_RSA too: a static EC key, signed with RSA
	case strings.Contains(kx, "DSS"):
		return "DSA"
	case strings.Contains(kx, "RSA"):
		return "RSA"
	}
	return "" // PSK, SRP_SHA, GOST...
}

package tlswire

import (
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := Suites()
	if r.Len() < 300 {
		t.Fatalf("%d suites, want the whole registry (300+)", r.Len())
	}
	for name, code := range map[string]uint16{
		"TLS_RSA_WITH_NULL_SHA": 0x0002, "NULL-SHA": 0x0002, "ecdhe-rsa-aes128-gcm-sha256": 0xC02F,
		"TLS_AES_128_GCM_SHA256": 0x1301, "RC4-MD5": 0x0004, "EXP-RC4-MD5": 0x0003, "ADH-AES128-SHA": 0x0034,
		"DES-CBC3-SHA": 0x000A,
	} {
		s, ok := r.ByName(name)
		if !ok || s.Code != code {
			t.Errorf("ByName(%q) = %+v, %v; want 0x%04X", name, s, ok, code)
		}
	}
	if got := r.ByCode(0xFFFE).Name; got != "UNKNOWN_0xFFFE" {
		t.Errorf("unknown code named %q", got)
	}
	if n := len(r.TLS13()); n != 7 { // five AEAD suites and RFC 9150's two integrity-only ones
		t.Errorf("%d TLS 1.3 suites", n)
	}
}

func TestWeaknesses(t *testing.T) {
	r := Suites()
	tests := []struct {
		code uint16
		want Weakness
	}{
		{0x0002, Weakness{Null: true, NoForwardSecrecy: true, CBCSHA1: false}},
		{0x0003, Weakness{Export: true, RC4: true, MD5: true, NoForwardSecrecy: true}},
		{0x0034, Weakness{Anonymous: true, CBCSHA1: true, NoForwardSecrecy: true}},
		{0x000A, Weakness{TripleDES: true, CBCSHA1: true, NoForwardSecrecy: true}},
		{0x0015, Weakness{DES: true, CBCSHA1: true}},
		{0xC02F, Weakness{}},
		{0xC013, Weakness{CBCSHA1: true}},
		{0x009C, Weakness{NoForwardSecrecy: true}},
		{0x1301, Weakness{}},
		{0xC015, Weakness{Null: true, Anonymous: true, NoForwardSecrecy: true}},
		// RFC 9150: TLS 1.3 suites without encryption.
		{0xC0B4, Weakness{Null: true}},
		{0xC0B5, Weakness{Null: true}},
	}
	for _, code := range []uint16{0xC0B4, 0xC0B5} {
		if !r.ByCode(code).TLS13 || slices.Contains(r.Pre13(), code) || !slices.Contains(r.TLS13(), code) {
			t.Errorf("0x%04X is offered as a TLS 1.2 suite, not a TLS 1.3 one", code)
		}
	}
	for _, tt := range tests {
		if got := r.ByCode(tt.code).Weaknesses(); got != tt.want {
			t.Errorf("0x%04X %s: %+v, want %+v", tt.code, r.ByCode(tt.code).Name, got, tt.want)
		}
	}
}

func TestSuiteAuth(t *testing.T) {
	for name, want := range map[string]string{
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "EC",
		"TLS_ECDH_RSA_WITH_AES_128_CBC_SHA":       "EC",
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256":   "RSA",
		"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256":     "RSA",
		"TLS_RSA_WITH_ARIA_128_GCM_SHA256":        "RSA",
		"TLS_RSA_EXPORT_WITH_RC4_40_MD5":          "RSA",
		"TLS_RSA_PSK_WITH_AES_128_CBC_SHA":        "RSA",
		"TLS_DHE_DSS_WITH_AES_128_CBC_SHA":        "DSA",
		"TLS_DH_anon_WITH_AES_128_CBC_SHA":        "",
		"TLS_ECDH_anon_WITH_AES_128_CBC_SHA":      "",
		"TLS_PSK_WITH_AES_128_CBC_SHA":            "",
		"TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA":      "",
		"TLS_SRP_SHA_WITH_AES_128_CBC_SHA":        "",
		"TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA":    "RSA",
		"TLS_AES_128_GCM_SHA256":                  "",
	} {
		s, ok := Suites().ByName(name)
		if !ok {
			t.Errorf("%s: not in the registry", name)
			continue
		}
		if got := s.Auth(); got != want {
			t.Errorf("%s: Auth() = %q, want %q", name, got, want)
		}
	}
}

package tlswire

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Protocol versions as they appear on the wire.
const (
	VersionSSL2  uint16 = 0x0002
	VersionSSL3  uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// VersionName is "SSLv3", "TLS1.2"...
func VersionName(v uint16) string {
	switch v {
	case VersionSSL2:
		return "SSLv2"
	case VersionSSL3:
		return "SSLv3"
	case VersionTLS10:
		return "TLS1.0"
	case VersionTLS11:
		return "TLS1.1"
	case VersionTLS12:
		return "TLS1.2"
	case VersionTLS13:
		return "TLS1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Groups offered in supported_groups: every named curve and finite field
// group a server may insist on, so that an unusual configuration still
// answers.
var groups = []uint16{
	29, 23, 24, 25, 30, // x25519, secp256r1, secp384r1, secp521r1, x448
	26, 27, 28, // brainpool
	256, 257, 258, 259, 260, // ffdhe2048..8192
	22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, // legacy curves
}

// Signature algorithms offered in TLS 1.2 and 1.3, old ones included: an
// audit must see a server that only signs with SHA-1.
var sigAlgs = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, // ecdsa sha256/384/512, ed25519, ed448
	0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, // rsa pss
	0x0401, 0x0501, 0x0601, // rsa pkcs1 sha256/384/512
	0x0402, 0x0502, 0x0602, // dsa
	0x0301, 0x0302, 0x0303, // sha224
	0x0201, 0x0202, 0x0203, // sha1
	0x0101, // md5
}

// Hello is what a ClientHello offers.
type Hello struct {
	Version uint16   // the highest version offered
	Suites  []uint16 // in order of preference
	SNI     string   // "" for none (IP targets)
	// KeyShare is an X25519 public key, required for TLS 1.3.
	KeyShare []byte
	// SigAlgs, when set, replaces the signature algorithms offered: under
	// TLS 1.3 they select which of its certificates a server sends.
	SigAlgs []uint16
}

// Signature algorithms by the kind of key that makes them (TLS 1.3).
var (
	SigAlgsRSA = []uint16{0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b} // RSA-PSS (rsae and pss keys)
	SigAlgsEC  = []uint16{0x0403, 0x0503, 0x0603, 0x0807, 0x0808}         // ECDSA, Ed25519, Ed448
)

type builder struct{ b []byte }

func (w *builder) u8(v byte)    { w.b = append(w.b, v) }
func (w *builder) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *builder) bytes(p []byte) {
	w.b = append(w.b, p...)
}

// lenPrefixed writes a length of n bytes (1, 2 or 3) and the body f
// writes.
func (w *builder) lenPrefixed(n int, f func()) {
	start := len(w.b)
	w.b = append(w.b, make([]byte, n)...)
	f()
	l := len(w.b) - start - n
	for i := 0; i < n; i++ {
		w.b[start+i] = byte(l >> (8 * (n - 1 - i)))
	}
}

// ClientHello returns a handshake record carrying the ClientHello.
func ClientHello(h Hello) ([]byte, error) {
	if len(h.Suites) == 0 {
		return nil, fmt.Errorf("no cipher suites to offer")
	}
	if h.Version == VersionTLS13 && len(h.KeyShare) != 32 {
		return nil, fmt.Errorf("TLS 1.3 needs an X25519 key share")
	}
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	legacy := h.Version
	if legacy > VersionTLS12 {
		legacy = VersionTLS12
	}
	body := &builder{}
	body.u16(legacy)
	body.bytes(random)
	if h.Version == VersionTLS13 {
		sid := make([]byte, 32) // middlebox compatibility mode
		_, _ = rand.Read(sid)
		body.lenPrefixed(1, func() { body.bytes(sid) })
	} else {
		body.u8(0)
	}
	body.lenPrefixed(2, func() {
		for _, s := range h.Suites {
			body.u16(s)
		}
		if h.Version < VersionTLS13 {
			body.u16(0x00FF) // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
		}
	})
	body.lenPrefixed(1, func() { body.u8(0) }) // null compression
	if h.Version >= VersionTLS10 {
		body.lenPrefixed(2, func() { extensions(body, h) })
	}
	hs := &builder{}
	hs.u8(1) // client_hello
	hs.lenPrefixed(3, func() { hs.bytes(body.b) })

	rec := &builder{}
	rec.u8(22) // handshake
	if h.Version == VersionSSL3 {
		rec.u16(VersionSSL3)
	} else {
		rec.u16(VersionTLS10) // what every client writes in the first record
	}
	rec.lenPrefixed(2, func() { rec.bytes(hs.b) })
	if len(hs.b) > 16384 {
		return nil, fmt.Errorf("ClientHello of %d bytes does not fit a record", len(hs.b))
	}
	return rec.b, nil
}

func extensions(w *builder, h Hello) {
	ext := func(typ uint16, f func()) {
		w.u16(typ)
		w.lenPrefixed(2, f)
	}
	if h.SNI != "" {
		ext(0, func() {
			w.lenPrefixed(2, func() {
				w.u8(0)
				w.lenPrefixed(2, func() { w.bytes([]byte(h.SNI)) })
			})
		})
	}
	ext(10, func() { // supported_groups
		w.lenPrefixed(2, func() {
			for _, g := range groups {
				w.u16(g)
			}
		})
	})
	ext(11, func() { w.lenPrefixed(1, func() { w.u8(0) }) }) // ec_point_formats: uncompressed
	if h.Version >= VersionTLS12 {
		ext(13, func() { // signature_algorithms
			algs := sigAlgs
			if len(h.SigAlgs) > 0 {
				algs = h.SigAlgs
			}
			w.lenPrefixed(2, func() {
				for _, a := range algs {
					w.u16(a)
				}
			})
		})
	}
	if h.Version == VersionTLS13 {
		ext(43, func() { w.lenPrefixed(1, func() { w.u16(VersionTLS13) }) }) // supported_versions
		ext(51, func() {                                                     // key_share: x25519
			w.lenPrefixed(2, func() {
				w.u16(29)
				w.lenPrefixed(2, func() { w.bytes(h.KeyShare) })
			})
		})
		ext(45, func() { w.lenPrefixed(1, func() { w.u8(1) }) }) // psk_key_exchange_modes: psk_dhe_ke
	}
	ext(0xff01, func() { w.lenPrefixed(1, func() {}) }) // renegotiation_info
}

// SSLv2 cipher specs offered in an SSLv2 CLIENT-HELLO.
var sslv2Specs = [][3]byte{
	{0x01, 0x00, 0x80}, {0x02, 0x00, 0x80}, {0x03, 0x00, 0x80}, {0x04, 0x00, 0x80},
	{0x05, 0x00, 0x80}, {0x06, 0x00, 0x40}, {0x07, 0x00, 0xC0},
}

// SSLv2ClientHello is an SSLv2 CLIENT-HELLO offering every SSLv2 cipher.
func SSLv2ClientHello() []byte {
	challenge := make([]byte, 16)
	_, _ = rand.Read(challenge)
	body := &builder{}
	body.u8(1) // CLIENT-HELLO
	body.u16(VersionSSL2)
	body.u16(uint16(3 * len(sslv2Specs)))
	body.u16(0) // session id length
	body.u16(uint16(len(challenge)))
	for _, s := range sslv2Specs {
		body.bytes(s[:])
	}
	body.bytes(challenge)
	out := []byte{0x80 | byte(len(body.b)>>8), byte(len(body.b))}
	return append(out, body.b...)
}

// NoCertificate is the client's answer to a CertificateRequest without a
// certificate (an empty Certificate message, TLS 1.0 to 1.2), followed by
// a Finished before any key exchange: a message no server can accept at
// that point. A server that requires a certificate refuses the empty one
// with its own alert; one that does not goes on and refuses the Finished
// with unexpected_message. The answer tells the two apart without waiting
// for a timeout.
func NoCertificate(version uint16) []byte {
	hs := []byte{11, 0, 0, 3, 0, 0, 0}   // certificate, an empty list
	hs = append(hs, 20, 0, 0, 12)        // finished, out of order
	hs = append(hs, make([]byte, 12)...) // (its verify_data: any)
	rec := []byte{22, byte(version >> 8), byte(version), byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

// AlertUnexpectedMessage is what a server answers to a message out of order.
const AlertUnexpectedMessage = 10

package tlswire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what a server may send before the parser gives up: a
// hostile server cannot make it allocate or loop without bound.
const (
	maxRecord    = 16384 + 2048 // TLSCiphertext limit
	maxHandshake = 256 << 10    // one handshake message (a long chain)
	maxFlight    = 1 << 20      // everything read for one probe
	maxWarnings  = 16           // warning alerts kept; more end the read as a refusal
	maxCerts     = 32
)

// Alert levels and descriptions the code treats specially.
const (
	alertWarning     = 1
	alertCloseNotify = 0
	// AlertUnrecognizedName is what a server that does not know the SNI
	// name warns before it answers with its default certificate.
	AlertUnrecognizedName = 112
)

// Alert is a TLS alert from the server.
type Alert struct {
	Level, Description byte
}

func (a Alert) Error() string { return "alert " + AlertName(a.Description) }

// AlertName names an alert description.
func AlertName(d byte) string {
	names := map[byte]string{
		0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
		42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
		46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
		50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
		80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
		110: "unsupported_extension", 112: "unrecognized_name", 116: "certificate_required", 120: "no_application_protocol",
	}
	if n, ok := names[d]; ok {
		return n
	}
	return fmt.Sprintf("%d", d)
}

// Flight is what the server answered to a ClientHello.
type Flight struct {
	Hello        bool   // a ServerHello (or HelloRetryRequest) arrived
	Version      uint16 // the negotiated version (supported_versions for 1.3)
	Suite        uint16
	Retry        bool     // a TLS 1.3 HelloRetryRequest
	Certificates [][]byte // DER, TLS 1.2 and below
	CertRequest  bool     // CertificateRequest, TLS 1.2 and below
	Done         bool     // ServerHelloDone
	Alert        *Alert   // the alert that ended the exchange
	Warnings     []Alert  // warning alerts read past (unrecognized_name for an unknown SNI)
	SSLv2        bool     // an SSLv2 SERVER-HELLO
	SSLv2Specs   int      // cipher specs in it
}

// Stop says how much of the flight to read.
type Stop int

// What to read up to.
const (
	UntilHello Stop = iota // the ServerHello: enough to know version and suite
	UntilDone              // ServerHelloDone: certificates and CertificateRequest too
	// UntilSSLv2 reads the answer to an SSLv2 CLIENT-HELLO: an SSLv2
	// SERVER-HELLO (2-byte header, high bit set) or a TLS alert. Only
	// then is a first byte with the high bit set taken for SSLv2; any
	// other time it is a plaintext answer (a telnet IAC, binary data).
	UntilSSLv2
)

// hrrRandom marks a ServerHello that is a HelloRetryRequest (RFC 8446).
var hrrRandom = []byte{0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C}

// ErrNotTLS is an answer that is not a TLS record at all (a plaintext
// service).
var ErrNotTLS = errors.New("the answer is not TLS")

// ReadFlight reads the server's answer from r. It returns what it could
// parse and an error for what it could not; an alert is not an error.
func ReadFlight(r io.Reader, stop Stop) (*Flight, error) {
	f := &Flight{}
	var hs bytes.Buffer // handshake bytes not yet parsed
	total := 0
	hdr := make([]byte, 5)
	first := true
	for {
		if _, err := io.ReadFull(r, hdr[:2]); err != nil {
			return f, err
		}
		if first && hdr[0]&0x80 != 0 {
			if stop != UntilSSLv2 {
				return f, fmt.Errorf("%w (first bytes %q)", ErrNotTLS, hdr[:2])
			}
			// SSLv2 record: 2-byte header with the high bit set.
			return readSSLv2(r, hdr[:2], f)
		}
		first = false
		if _, err := io.ReadFull(r, hdr[2:5]); err != nil {
			return f, err
		}
		typ := hdr[0]
		length := int(binary.BigEndian.Uint16(hdr[3:5]))
		if typ < 20 || typ > 24 || hdr[1] != 3 {
			return f, fmt.Errorf("%w (first bytes %q)", ErrNotTLS, hdr)
		}
		if length > maxRecord {
			return f, fmt.Errorf("a record of %d bytes is over the limit", length)
		}
		total += 5 + length // empty records count too: they cannot spin forever
		if total > maxFlight {
			return f, fmt.Errorf("the server sent more than %d bytes before finishing its hello", maxFlight)
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return f, err
		}
		switch typ {
		case 21: // alert
			if len(body) < 2 {
				return f, errors.New("a truncated alert")
			}
			a := Alert{Level: body[0], Description: body[1]}
			// A warning is not a refusal: a server that does not know the
			// SNI name warns unrecognized_name, then answers the hello.
			// close_notify ends the exchange whatever its level, and so
			// does a warning past the first maxWarnings.
			if a.Level == alertWarning && a.Description != alertCloseNotify && len(f.Warnings) < maxWarnings {
				f.Warnings = append(f.Warnings, a)
				continue
			}
			f.Alert = &a
			return f, nil
		case 22: // handshake
			hs.Write(body)
			done, err := parseHandshakes(&hs, f, stop)
			if err != nil || done {
				return f, err
			}
		case 20: // change_cipher_spec (TLS 1.3 compatibility): ignore
		default:
			// application data or heartbeat before the handshake ended:
			// the rest is encrypted (TLS 1.3) or nonsense.
			if f.Hello {
				return f, nil
			}
			return f, fmt.Errorf("record type %d before the ServerHello", typ)
		}
	}
}

// parseHandshakes consumes complete handshake messages from buf.
func parseHandshakes(buf *bytes.Buffer, f *Flight, stop Stop) (bool, error) {
	for buf.Len() >= 4 {
		b := buf.Bytes()
		typ := b[0]
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > maxHandshake {
			return false, fmt.Errorf("a handshake message of %d bytes is over the limit", n)
		}
		if buf.Len() < 4+n {
			return false, nil // wait for the next record
		}
		msg := make([]byte, n)
		copy(msg, b[4:4+n])
		buf.Next(4 + n)
		if !f.Hello && typ != 2 && typ != 0 {
			// Only a ServerHello (or a HelloRequest) can come first.
			if typ == 1 {
				return false, fmt.Errorf("%w: it sent a ClientHello (an echo, or a plaintext relay to a TLS client?)", ErrNotTLS)
			}
			return false, fmt.Errorf("handshake message %d before the ServerHello", typ)
		}
		switch typ {
		case 2: // server_hello
			if err := parseServerHello(msg, f); err != nil {
				return false, err
			}
			if stop == UntilHello || f.Version >= VersionTLS13 {
				return true, nil
			}
		case 11: // certificate
			if err := parseCertificates(msg, f); err != nil {
				return false, err
			}
		case 13: // certificate_request
			f.CertRequest = true
		case 14: // server_hello_done
			f.Done = true
			return true, nil
		}
	}
	return false, nil
}

type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil || n < 0 || n > len(c.b) {
		c.err = errors.New("a truncated message")
		return nil
	}
	out := c.b[:n]
	c.b = c.b[n:]
	return out
}

func (c *cursor) u8() int {
	p := c.take(1)
	if p == nil {
		return 0
	}
	return int(p[0])
}

func (c *cursor) u16() int {
	p := c.take(2)
	if p == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(p))
}

func (c *cursor) u24() int {
	p := c.take(3)
	if p == nil {
		return 0
	}
	return int(p[0])<<16 | int(p[1])<<8 | int(p[2])
}

func parseServerHello(msg []byte, f *Flight) error {
	c := &cursor{b: msg}
	version := uint16(c.u16())
	random := c.take(32)
	c.take(c.u8()) // session id
	suite := uint16(c.u16())
	c.u8() // compression
	if c.err != nil {
		return fmt.Errorf("ServerHello: %w", c.err)
	}
	f.Hello, f.Version, f.Suite = true, version, suite
	f.Retry = bytes.Equal(random, hrrRandom)
	if len(c.b) < 2 {
		return nil // no extensions
	}
	ext := &cursor{b: c.take(c.u16())}
	for ext.err == nil && len(ext.b) >= 4 {
		typ := ext.u16()
		data := ext.take(ext.u16())
		if typ == 43 && len(data) == 2 { // supported_versions
			f.Version = binary.BigEndian.Uint16(data)
		}
	}
	if ext.err != nil || c.err != nil {
		return errors.New("ServerHello: malformed extensions")
	}
	return nil
}

func parseCertificates(msg []byte, f *Flight) error {
	certs, err := certificateList(msg, false)
	f.Certificates = append(f.Certificates, certs...)
	return err
}

// certificateList reads the certificates of a Certificate message; tls13:
// its TLS 1.3 form (a request context first, extensions after each entry).
func certificateList(msg []byte, tls13 bool) ([][]byte, error) {
	c := &cursor{b: msg}
	if tls13 {
		c.take(c.u8()) // certificate_request_context
	}
	var out [][]byte
	list := &cursor{b: c.take(c.u24())}
	for list.err == nil && len(list.b) > 0 {
		der := list.take(list.u24())
		if tls13 {
			list.take(list.u16()) // extensions
		}
		if list.err != nil {
			break
		}
		if len(out) >= maxCerts {
			return out, fmt.Errorf("more than %d certificates in the chain", maxCerts)
		}
		out = append(out, der)
	}
	if c.err != nil || list.err != nil {
		return out, errors.New("malformed Certificate message")
	}
	return out, nil
}

// readSSLv2 reads an SSLv2 SERVER-HELLO after its 2-byte header.
func readSSLv2(r io.Reader, hdr []byte, f *Flight) (*Flight, error) {
	n := int(hdr[0]&0x7f)<<8 | int(hdr[1])
	// A SERVER-HELLO has 11 fixed bytes and starts with type 4: check
	// before trusting the length and waiting for up to 32 KiB.
	if n < 11 {
		return f, fmt.Errorf("%w (an SSLv2 record of %d bytes)", ErrNotTLS, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body[:1]); err != nil {
		return f, err
	}
	if body[0] != 4 { // SERVER-HELLO
		return f, fmt.Errorf("%w (an SSLv2 message of type %d)", ErrNotTLS, body[0])
	}
	if _, err := io.ReadFull(r, body[1:]); err != nil {
		return f, err
	}
	c := &cursor{b: body}
	c.u8() // the type, checked
	c.u8() // session id hit
	c.u8() // certificate type
	version := uint16(c.u16())
	certLen := c.u16()
	specLen := c.u16()
	c.u16() // connection id length
	c.take(certLen)
	c.take(specLen)
	if c.err != nil {
		return f, errors.New("SSLv2 SERVER-HELLO: malformed")
	}
	f.SSLv2, f.Version, f.SSLv2Specs = true, version, specLen/3
	return f, nil
}

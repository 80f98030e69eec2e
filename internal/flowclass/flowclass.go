// Package flowclass tells what a connection carries from its first bytes
// in each direction: TLS (its record version, and the server name of a
// ClientHello), SSH, a known plaintext protocol (HTTP, SMTP, IMAP, POP3,
// FTP, Redis, PostgreSQL, MySQL, LDAP), plain text, or binary that looks
// encrypted (high entropy) or not. It is the judgement of check_socat_procs
// --sample-traffic (issue 14) as a pure function: the capture feeds it
// the first few KiB of each direction, it reads nothing else, and an
// excerpt it returns has its secrets masked.
package flowclass

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"

	"github.com/check-socat/check-socat/internal/sanitize"
)

// Class is what one connection carries.
type Class struct {
	// Proto names the protocol: TLS, DTLS, SSH, HTTP, SMTP, IMAP, POP3,
	// FTP, Redis, PostgreSQL, MySQL, LDAP, text, encrypted (not TLS),
	// binary (plaintext), or empty when no byte was seen.
	Proto string
	// Plaintext: what crosses can be read by whoever sees the packets.
	Plaintext bool
	// TLSVersion is the version in use (TLS1.0...): the one the
	// ServerHello selected, else the version of the records ("TLS1.2+"
	// for 1.2's, which 1.3 records carry too); empty when only the
	// client's hello was seen. Offered is the highest version that hello
	// offers; SNI is its server name.
	TLSVersion, Offered, SNI string
	// Evidence is a short excerpt of the plaintext, its secrets masked
	// (the Authorization header's value, passwords, AUTH and PASS).
	Evidence string
}

// WeakTLS reports TLS 1.0 or 1.1 (or older) in use, or, when the
// server's answer was not seen, a client that offers nothing better.
func (c Class) WeakTLS() bool {
	v := c.TLSVersion
	if v == "" {
		v = c.Offered
	}
	switch v {
	case "SSL3.0", "TLS1.0", "TLS1.1":
		return true
	}
	return false
}

// Classify judges a TCP connection from the first bytes the client sent
// and the first bytes the server sent (either may be empty).
func Classify(client, server []byte) Class {
	cc, cok := tlsRecord(client)
	sc, sok := tlsRecord(server)
	switch {
	case cok && sok:
		// The server's records say what was negotiated (its ServerHello,
		// or the version of its records); the client's what it offered.
		sc.SNI, sc.Offered = cc.SNI, cc.Offered
		return sc
	case cok:
		return cc
	case sok:
		return sc
	}
	switch {
	case bytes.HasPrefix(client, []byte("SSH-")) || bytes.HasPrefix(server, []byte("SSH-")):
		return Class{Proto: "SSH"} // its key exchange follows; the rest is encrypted
	}
	if c, ok := known(client, server); ok {
		if c.Plaintext {
			c.Evidence = evidence(client, server)
		}
		return c
	}
	data := client
	if len(data) == 0 {
		data = server
	}
	switch {
	case len(data) == 0:
		return Class{}
	case printable(data) >= 0.9:
		return Class{Proto: "text", Plaintext: true, Evidence: evidence(client, server)}
	case highEntropy(data):
		return Class{Proto: "encrypted"}
	}
	return Class{Proto: "binary", Plaintext: true}
}

// ClassifyDatagram judges a UDP flow from its first datagram: DTLS
// (content types 20-25 and a DTLS version), or what Classify says.
func ClassifyDatagram(first []byte) Class {
	if len(first) >= 13 && first[0] >= 20 && first[0] <= 25 && first[1] == 0xfe {
		v := map[byte]string{0xff: "DTLS1.0", 0xfd: "DTLS1.2", 0xfc: "DTLS1.3"}[first[2]]
		if v != "" {
			return Class{Proto: "DTLS", TLSVersion: v}
		}
	}
	return Classify(first, nil)
}

// tlsRecord reads a TLS record header (content type 20-24, version 3.x)
// and, for a handshake record holding a ClientHello, the highest version
// offered and the SNI; for a ServerHello, the version selected.
func tlsRecord(b []byte) (Class, bool) {
	if len(b) < 5 || b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] > 4 {
		return Class{}, false
	}
	c := Class{Proto: "TLS", TLSVersion: tlsVersion(b[1], b[2])}
	if c.TLSVersion == "TLS1.2" {
		// TLS 1.3 records carry 1.2's version too: without a hello (a
		// connection caught in its middle) it is 1.2 or later.
		c.TLSVersion = "TLS1.2+"
	}
	n := int(binary.BigEndian.Uint16(b[3:5]))
	body := b[5:]
	if n < len(body) {
		body = body[:n]
	}
	if b[0] == 22 && len(body) >= 4+2 && body[0] == 2 { // ServerHello
		c.TLSVersion = tlsVersion(body[4], body[5])
		if v := serverHelloVersion(body[4:]); v != "" {
			c.TLSVersion = v // supported_versions: TLS 1.3 says so there
		}
	}
	if b[0] == 22 && len(body) >= 4+2 && body[0] == 1 { // ClientHello
		c.TLSVersion, c.Offered = "", tlsVersion(body[4], body[5])
		if sni, supported := clientHelloExtensions(body[4:]); sni != "" || supported != "" {
			c.SNI = sni
			if supported != "" {
				c.Offered = supported // supported_versions: TLS 1.3 says so there
			}
		}
	}
	return c, true
}

func tlsVersion(major, minor byte) string {
	if major != 3 {
		return ""
	}
	return map[byte]string{0: "SSL3.0", 1: "TLS1.0", 2: "TLS1.1", 3: "TLS1.2", 4: "TLS1.3"}[minor]
}

// clientHelloExtensions reads the server_name and the highest
// supported_versions entry of a ClientHello body (after its handshake
// header), bounds-checked at every step.
func clientHelloExtensions(h []byte) (sni, version string) {
	// version(2) random(32) session_id(1+n) suites(2+n) compression(1+n)
	p := 2 + 32
	if len(h) < p+1 {
		return "", ""
	}
	p += 1 + int(h[p])
	if len(h) < p+2 {
		return "", ""
	}
	p += 2 + int(binary.BigEndian.Uint16(h[p:]))
	if len(h) < p+1 {
		return "", ""
	}
	p += 1 + int(h[p])
	if len(h) < p+2 {
		return "", ""
	}
	end := p + 2 + int(binary.BigEndian.Uint16(h[p:]))
	p += 2
	if end > len(h) {
		end = len(h)
	}
	for p+4 <= end {
		typ := binary.BigEndian.Uint16(h[p:])
		n := int(binary.BigEndian.Uint16(h[p+2:]))
		p += 4
		if p+n > end {
			break
		}
		ext := h[p : p+n]
		switch typ {
		case 0: // server_name: list(2) type(1) name(2+n)
			if len(ext) >= 5 && ext[2] == 0 {
				l := int(binary.BigEndian.Uint16(ext[3:]))
				if 5+l <= len(ext) {
					sni = string(ext[5 : 5+l])
				}
			}
		case 43: // supported_versions: list(1) versions(2 each)
			if len(ext) >= 1 {
				for i := 1; i+1 < len(ext) && i <= int(ext[0]); i += 2 {
					if v := tlsVersion(ext[i], ext[i+1]); v != "" && v > version {
						version = v
					}
				}
			}
		}
		p += n
	}
	return sni, version
}

// serverHelloVersion reads the supported_versions extension of a
// ServerHello body (after its handshake header): the version the server
// selected, "" without one.
func serverHelloVersion(h []byte) string {
	// version(2) random(32) session_id(1+n) suite(2) compression(1)
	p := 2 + 32
	if len(h) < p+1 {
		return ""
	}
	p += 1 + int(h[p]) + 2 + 1
	if len(h) < p+2 {
		return ""
	}
	end := min(len(h), p+2+int(binary.BigEndian.Uint16(h[p:])))
	p += 2
	for p+4 <= end {
		typ := binary.BigEndian.Uint16(h[p:])
		n := int(binary.BigEndian.Uint16(h[p+2:]))
		p += 4
		if p+n > end {
			break
		}
		if typ == 43 && n == 2 {
			return tlsVersion(h[p], h[p+1])
		}
		p += n
	}
	return ""
}

// known recognises the plaintext protocols by their first words; ok
// says it did (PostgreSQL's SSLRequest is known, and not plaintext: TLS
// follows).
func known(client, server []byte) (c Class, ok bool) {
	defer func() {
		if ok && c.Proto != "PostgreSQL SSLRequest" {
			c.Plaintext = true
		}
	}()
	cs := string(client[:min(len(client), 64)])
	s := string(server[:min(len(server), 64)])
	upper := strings.ToUpper(cs)
	for _, m := range []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "PRI * HTTP/2"} {
		if strings.HasPrefix(cs, m) && bytes.Contains(client[:min(len(client), 2048)], []byte(" HTTP/")) {
			return Class{Proto: "HTTP"}, true
		}
	}
	if strings.HasPrefix(s, "HTTP/1.") {
		return Class{Proto: "HTTP"}, true
	}
	switch {
	case strings.HasPrefix(s, "220") && (strings.Contains(strings.ToUpper(s), "SMTP") || strings.Contains(strings.ToUpper(s), "MAIL")),
		strings.HasPrefix(upper, "EHLO ") || strings.HasPrefix(upper, "HELO "):
		return Class{Proto: "SMTP"}, true
	case strings.HasPrefix(s, "220") && strings.Contains(strings.ToUpper(s), "FTP"),
		strings.HasPrefix(upper, "USER ") && !strings.HasPrefix(s, "+OK"):
		return Class{Proto: "FTP"}, true
	case strings.HasPrefix(s, "* OK") || strings.HasPrefix(s, "* PREAUTH"):
		return Class{Proto: "IMAP"}, true
	case strings.HasPrefix(s, "+OK"):
		return Class{Proto: "POP3"}, true
	case redis(client) || strings.HasPrefix(s, "+PONG") || strings.HasPrefix(s, "-NOAUTH") || strings.HasPrefix(s, "-ERR"):
		return Class{Proto: "Redis"}, true
	}
	if len(client) >= 8 {
		n := binary.BigEndian.Uint32(client)
		code := binary.BigEndian.Uint32(client[4:])
		switch {
		case code == 80877103 && n == 8: // SSLRequest: TLS comes next
			return Class{Proto: "PostgreSQL SSLRequest"}, true
		case code == 196608 && int(n) <= len(client)+4096: // protocol 3.0 startup
			return Class{Proto: "PostgreSQL"}, true
		}
		// LDAP: SEQUENCE, messageID INTEGER, then an application tag
		// (0x60 BindRequest and the other operations).
		if client[0] == 0x30 && client[2] == 0x02 && client[3] <= 4 && len(client) > 4+int(client[3]) && client[4+int(client[3])]&0xe0 == 0x60 {
			return Class{Proto: "LDAP"}, true
		}
	}
	// MySQL's server greeting: length(3), sequence 0, protocol 10.
	if len(server) >= 6 && server[3] == 0 && server[4] == 10 && server[2] == 0 && int(server[0])|int(server[1])<<8 <= 4096 &&
		server[5] >= '0' && server[5] <= '9' {
		return Class{Proto: "MySQL"}, true
	}
	return Class{}, false
}

// redis recognises RESP (an array of bulk strings) and the inline PING.
func redis(b []byte) bool {
	if len(b) >= 4 && b[0] == '*' && b[1] >= '1' && b[1] <= '9' && bytes.Contains(b[:min(len(b), 16)], []byte("\r\n$")) {
		return true
	}
	return bytes.HasPrefix(bytes.ToUpper(b), []byte("PING\r\n")) || bytes.HasPrefix(bytes.ToUpper(b), []byte("AUTH "))
}

// printable is the share of bytes that are printable ASCII or blanks.
func printable(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	n := 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' {
			n++
		}
	}
	return float64(n) / float64(len(b))
}

// highEntropy reports bytes as random as ciphertext: their Shannon
// entropy close to the most that many bytes can have (8 bits a byte for
// long data, log2(n) for short).
func highEntropy(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h := 0.0
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(len(b))
			h -= p * math.Log2(p)
		}
	}
	best := math.Min(8, math.Log2(float64(len(b))))
	return h >= 0.85*best
}

// maxEvidence bounds an excerpt.
const maxEvidence = 80

// evidence is the start of the plaintext, secrets masked: the client's
// when it sent any, else the server's; escaped as every outside text in
// our output is (\r\n for line ends, \x.. for other bytes, no '|').
func evidence(client, server []byte) string {
	b := client
	if len(b) == 0 {
		b = server
	}
	b = b[:min(len(b), 512)]
	return sanitize.Text(Mask(string(b)), maxEvidence)
}

// Mask hides what follows a credential token up to the end of its line:
// HTTP's Authorization and Proxy-Authorization headers and cookies, a
// password field or argument, Redis' and SMTP's AUTH, FTP's and POP3's
// PASS. Case is ignored; the token itself stays, so the reader sees what
// was there.
func Mask(s string) string {
	lower := strings.ToLower(s)
	tokens := []string{"authorization:", "proxy-authorization:", "cookie:", "set-cookie:", "password", "passwd", "pass ", "auth ", "token"}
	var out strings.Builder
	i := 0
	for i < len(s) {
		best, blen := -1, 0
		for _, tok := range tokens {
			if j := strings.Index(lower[i:], tok); j >= 0 && (best < 0 || i+j < best) {
				best, blen = i+j, len(tok)
			}
		}
		if best < 0 {
			out.WriteString(s[i:])
			break
		}
		end := best + blen
		// The separator after a field name (password=, "password": ).
		for end < len(s) && strings.IndexByte(" =:\"'\t", s[end]) >= 0 {
			end++
		}
		out.WriteString(s[i:end])
		stop := end
		for stop < len(s) && s[stop] != '\n' && s[stop] != '\r' && s[stop] != '&' && s[stop] != '"' && s[stop] != ',' {
			stop++
		}
		if stop > end {
			out.WriteString("***")
		}
		i = stop
	}
	return out.String()
}

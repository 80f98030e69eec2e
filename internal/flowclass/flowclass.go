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
	// Via names the plaintext start that handed over to TLS: STARTTLS,
	// HTTP CONNECT, SOCKS, MySQL or PostgreSQL SSL request.
	Via string
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

// Classify judges a TCP connection whose start was seen, from the first
// bytes the client sent and the first bytes the server sent (either may
// be empty).
func Classify(client, server []byte) Class { return classify(client, server, minJudged, true) }

// ClassifyMiddle judges a connection caught in its middle: a few bytes
// of it (a keepalive probe, a window probe) say nothing, so more are
// needed before a verdict of plaintext.
func ClassifyMiddle(client, server []byte) Class {
	return classify(client, server, minJudgedMiddle, true)
}

// How many bytes of one direction the printable and entropy tests need:
// below that, a connection is "undetermined" (not alerted).
const (
	minJudged       = 8
	minJudgedMiddle = 64
)

// Undetermined is the Proto of a connection too short to judge.
const Undetermined = "undetermined"

func classify(client, server []byte, least int, preludes bool) Class {
	// A plaintext prelude that hands over to TLS (STARTTLS, a proxy's
	// CONNECT, MySQL's and PostgreSQL's SSL requests) is judged by what
	// follows it. One level only: what follows a prelude is not read as
	// another (nested headers would cost time and memory per level).
	if preludes {
		if c, ok := prelude(client, server, least); ok {
			return c
		}
	}
	cc, cok := tlsRecord(client)
	sc, sok := tlsRecord(server)
	switch {
	case cok && sok:
		// The server's records say what was negotiated (its ServerHello,
		// or the version of its records); the client's what it offered.
		sc.SNI, sc.Offered = cc.SNI, cc.Offered
		return sc
	case cok || sok:
		// One side speaks TLS: what the other said in clear (a plaintext
		// request to a TLS port, a plaintext answer to a hello) crossed
		// all the same.
		tlsSide, other, otherIsClient := cc, server, false
		if sok {
			tlsSide, other, otherIsClient = sc, client, true
		}
		if len(other) > 0 {
			var o Class
			if otherIsClient {
				o = classify(other, nil, least, false)
			} else {
				o = classify(nil, other, least, false)
			}
			if o.Plaintext {
				return o
			}
		}
		return tlsSide
	}
	if bytes.HasPrefix(client, []byte("SSH-")) || bytes.HasPrefix(server, []byte("SSH-")) {
		return Class{Proto: "SSH"} // its key exchange follows; the rest is encrypted
	}
	// OpenVPN over TCP: each packet framed by its length; the client's
	// first is a hard reset.
	if len(client) >= 16 {
		if n := int(binary.BigEndian.Uint16(client[0:2])); n <= len(client)-2 && openVPNReset(client[2:2+n]) {
			return Class{Proto: "OpenVPN"}
		}
	}
	if c, ok := known(client, server); ok {
		if c.Plaintext && textProtocols[c.Proto] {
			c.Evidence = evidence(client, server)
		}
		return c
	}
	// Each direction on its own: plaintext either way is plaintext.
	var verdicts [2]Class
	for i, data := range [][]byte{client, server} {
		switch {
		case len(data) == 0:
		case len(data) < least:
			verdicts[i] = Class{Proto: Undetermined}
		case printable(data) >= 0.9:
			verdicts[i] = Class{Proto: "text", Plaintext: true}
		case highEntropy(data):
			verdicts[i] = Class{Proto: "encrypted"}
		case len(data) < 16:
			verdicts[i] = Class{Proto: Undetermined}
		default:
			verdicts[i] = Class{Proto: "binary", Plaintext: true}
		}
	}
	for i, v := range verdicts {
		if v.Plaintext {
			if v.Proto == "text" {
				// Of text no protocol frames, the first line only: what
				// follows may be a password no keyword announces (a
				// console's login, then its password).
				data := client
				if i == 1 {
					data = server
				}
				if j := bytes.IndexAny(data, "\r\n"); j >= 0 {
					data = data[:j]
				}
				v.Evidence = evidence(data, nil)
			}
			return v
		}
	}
	for _, v := range verdicts {
		if v.Proto == "encrypted" {
			return v
		}
	}
	if verdicts[0].Proto != "" {
		return verdicts[0]
	}
	return verdicts[1]
}

// textProtocols are those whose evidence is shown (masked). Of a binary
// protocol (LDAP, PostgreSQL, MySQL) only the name is said: its bytes
// carry names and passwords no token marks.
var textProtocols = map[string]bool{"HTTP": true, "SMTP": true, "FTP": true, "IMAP": true, "POP3": true, "Redis": true, "text": true}

// prelude recognises a plaintext start that hands over to TLS (or, for
// PostgreSQL, may not), and judges what follows it.
func prelude(client, server []byte, least int) (Class, bool) {
	judgeRest := func(name string, c, s []byte) Class {
		if len(c) == 0 && len(s) == 0 {
			// The hand-over was asked for; what followed was not seen.
			return Class{Proto: name + ", the rest not seen"}
		}
		r := classify(c, s, least, false)
		if r.Proto == "TLS" {
			r.Via = name
		}
		return r
	}
	upper := asciiUpper(client[:min(len(client), 4096)])
	// STARTTLS (SMTP, IMAP, LDAP's is binary and not read), STLS (POP3),
	// AUTH TLS/SSL (FTP): the client's command, then a TLS record.
	for _, cmd := range [][]byte{[]byte("STARTTLS\r\n"), []byte("STLS\r\n"), []byte("AUTH TLS\r\n"), []byte("AUTH SSL\r\n")} {
		i := bytes.Index(upper, cmd)
		if i < 0 || i > 0 && upper[i-1] != '\n' && upper[i-1] != ' ' {
			continue
		}
		rest := client[i+len(cmd):]
		if len(rest) > 0 && !isTLSRecord(rest) {
			continue // more plaintext after the command: not handed over
		}
		if pre := string(client[:i]); credentialCommand(pre) {
			// Credentials before the hand-over (AUTH, then STARTTLS)
			// crossed in clear.
			return Class{Proto: "STARTTLS after credentials", Plaintext: true, Evidence: sanitize.Text(Mask(pre), maxEvidence)}, true
		}
		return judgeRest("STARTTLS", rest, fromTLSRecord(server)), true
	}
	// An HTTP proxy's CONNECT: the tunnel's bytes follow the blank lines;
	// credentials on the CONNECT itself crossed in clear.
	if bytes.HasPrefix(client, []byte("CONNECT ")) {
		if ci := bytes.Index(client, []byte("\r\n\r\n")); ci >= 0 {
			head := bytes.ToLower(client[:ci])
			if bytes.Contains(head, []byte("proxy-authorization:")) {
				return Class{Proto: "HTTP", Plaintext: true, Evidence: evidence(client[:ci], nil)}, true
			}
			sRest := server
			if bytes.HasPrefix(server, []byte("HTTP/1.")) {
				if si := bytes.Index(server, []byte("\r\n\r\n")); si >= 0 {
					sRest = server[si+4:]
				} else {
					sRest = nil
				}
			}
			return judgeRest("HTTP CONNECT", client[ci+4:], sRest), true
		}
	}
	// SOCKS5 without authentication, or SOCKS4/4a: the handshake, then the
	// tunnel. SOCKS5 with a username and password sends them in clear.
	switch kind, c, s := socks(client, server); kind {
	case socksPassword:
		return Class{Proto: "SOCKS5 username/password", Plaintext: true}, true
	case socksTunnel:
		return judgeRest("SOCKS", c, s), true
	}
	// RDP: TPKT and X.224 connection request and confirm (the
	// negotiation picks TLS or CredSSP, which wraps TLS), then TLS; with
	// RDP's standard security its own RC4 encryption follows.
	if len(client) >= 11 && client[0] == 3 && client[1] == 0 && client[5] == 0xe0 {
		n := int(binary.BigEndian.Uint16(client[2:4]))
		if n >= 11 && n <= len(client) {
			if len(server) >= 11 && server[0] == 3 && server[1] == 0 && server[5] == 0xd0 {
				m := int(binary.BigEndian.Uint16(server[2:4]))
				if m >= 11 && m <= len(server) {
					if m >= 19 && server[11] == 2 && binary.LittleEndian.Uint32(server[15:19]) == 0 {
						return Class{Proto: "RDP standard security"}, true // RC4, not TLS; not in clear
					}
					return judgeRest("RDP", client[n:], server[m:]), true
				}
			}
			return judgeRest("RDP", client[n:], nil), true
		}
	}
	// LDAP's StartTLS extended operation (its OID in the request), then
	// TLS each way.
	if len(client) > 0 && client[0] == 0x30 && bytes.Contains(client[:min(len(client), 96)], []byte("1.3.6.1.4.1.1466.20037")) {
		first := ldapMessageLen(client)
		switch tls := fromTLSRecord(client); {
		case first <= 0 || !bytes.Contains(client[:first], []byte("1.3.6.1.4.1.1466.20037")):
			// Something (a bind) before the StartTLS request: in clear.
			return Class{Proto: "LDAP", Plaintext: true}, true
		case tls == nil && len(client) > first:
			// StartTLS refused, or not waited for: the client went on in clear.
			return Class{Proto: "LDAP", Plaintext: true}, true
		default:
			return judgeRest("LDAP StartTLS", tls, fromTLSRecord(server)), true
		}
	}
	// MySQL: the server's greeting, then the client's SSL request (a
	// 32-byte packet with CLIENT_SSL) and TLS.
	if g := mysqlGreeting(server); g > 0 && len(client) >= 36 && client[0] == 32 && client[1] == 0 && client[2] == 0 && client[3] == 1 &&
		binary.LittleEndian.Uint32(client[4:8])&0x0800 != 0 {
		return judgeRest("MySQL SSL request", client[36:], server[g:]), true
	}
	// PostgreSQL's SSLRequest and GSSENCRequest, each answered by one
	// byte: S (TLS follows), G (GSSAPI encryption), or N (refused: the
	// client may ask the other, give up, or go on in clear).
	c, sv := client, server
	asked := false
	for len(c) >= 8 && binary.BigEndian.Uint32(c) == 8 {
		code := binary.BigEndian.Uint32(c[4:8])
		if code != 80877103 && code != 80877104 {
			break
		}
		asked = true
		if len(sv) == 0 {
			return Class{Proto: "PostgreSQL SSL request, the answer not seen"}, true
		}
		switch sv[0] {
		case 'S':
			return judgeRest("PostgreSQL SSL request", c[8:], sv[1:]), true
		case 'G':
			return Class{Proto: "encrypted", Via: "PostgreSQL GSSAPI"}, true
		case 'N':
			c, sv = c[8:], sv[1:]
			continue
		}
		return Class{}, false
	}
	if asked {
		if len(c) == 0 {
			return Class{Proto: "PostgreSQL, encryption refused, the rest not seen"}, true
		}
		return classify(c, sv, least, false), true // the start-up in clear
	}
	// Any other plaintext start before a ClientHello (the PROXY protocol,
	// XMPP's STARTTLS, MSSQL's pre-login): judged by the TLS that
	// follows, unless the start itself sends credentials.
	if i := clientHelloAt(client); i > 0 {
		if pre := string(client[:i]); credentialCommand(pre) || Mask(pre) != pre && printable(client[:i]) >= 0.9 {
			return Class{Proto: "text before TLS", Plaintext: true, Evidence: sanitize.Text(Mask(pre), maxEvidence)}, true
		}
		return judgeRest("a plaintext preamble", client[i:], fromTLSRecord(server)), true
	}
	return Class{}, false
}

// clientHelloAt is where a TLS record holding a ClientHello starts in the
// first KiB of b, or -1.
func clientHelloAt(b []byte) int {
	for i := 0; i+6 <= len(b) && i < 1024; i++ {
		if b[i] == 22 && b[i+1] == 3 && b[i+2] >= 1 && b[i+2] <= 3 && b[i+5] == 1 {
			return i
		}
	}
	return -1
}

// asciiUpper is b with ASCII letters in upper case, byte for byte (the
// offsets of b hold, whatever else it holds).
func asciiUpper(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// isTLSRecord: b starts with a TLS record header.
func isTLSRecord(b []byte) bool {
	return len(b) >= 3 && b[0] >= 20 && b[0] <= 24 && b[1] == 3 && b[2] <= 4
}

// fromTLSRecord is b from its first TLS handshake record on (a server's
// plaintext replies before it are skipped), or nil.
func fromTLSRecord(b []byte) []byte {
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == 22 && b[i+1] == 3 && b[i+2] <= 4 {
			return b[i:]
		}
	}
	return nil
}

// mysqlGreeting is the length of MySQL's server greeting packet
// (length(3), sequence 0, protocol 10, a version string), or 0.
func mysqlGreeting(server []byte) int {
	if len(server) < 6 || server[3] != 0 || server[4] != 10 || server[5] < '0' || server[5] > '9' {
		return 0
	}
	n := int(server[0]) | int(server[1])<<8 | int(server[2])<<16
	if n > 4096 || 4+n > len(server) {
		return 0
	}
	return 4 + n
}

// What socks found.
const (
	socksNone = iota
	socksTunnel
	socksPassword
)

// socks reads a SOCKS4/4a or SOCKS5 handshake: a well-formed request,
// and the server's answer when it was seen; it returns what each side
// sent after it. A SOCKS5 server that asks for username/password
// authentication (method 2) gets them in clear.
func socks(client, server []byte) (kind int, c, s []byte) {
	switch {
	case len(client) >= 9 && client[0] == 4 && client[1] == 1: // SOCKS4 CONNECT
		i := bytes.IndexByte(client[8:min(len(client), 8+256)], 0) // the user ID
		if i < 0 {
			return socksNone, nil, nil
		}
		rest := client[8+i+1:]
		if client[4] == 0 && client[5] == 0 && client[6] == 0 && client[7] != 0 { // 4a: a host name follows
			j := bytes.IndexByte(rest[:min(len(rest), 256)], 0)
			if j < 0 {
				return socksNone, nil, nil
			}
			rest = rest[j+1:]
		}
		if len(server) == 0 {
			return socksTunnel, rest, nil
		}
		if len(server) < 8 || server[0] != 0 || server[1] != 0x5a {
			return socksNone, nil, nil
		}
		return socksTunnel, rest, server[8:]
	case len(client) >= 3 && client[0] == 5 && client[1] >= 1 && client[1] <= 8 && len(client) >= 2+int(client[1]):
		if len(server) < 2 || server[0] != 5 {
			return socksNone, nil, nil // no answer seen: too little to say it is SOCKS
		}
		if server[1] == 2 {
			return socksPassword, nil, nil
		}
		if server[1] != 0 {
			return socksNone, nil, nil
		}
		req := client[2+int(client[1]):]
		n := socks5Addr(req)
		if n == 0 {
			return socksNone, nil, nil
		}
		reply := server[2:]
		if m := socks5Addr(reply); m > 0 {
			return socksTunnel, req[n:], reply[m:]
		}
		return socksTunnel, req[n:], nil
	}
	return socksNone, nil, nil
}

// socks5Addr is the length of a SOCKS5 request or reply (version, code,
// reserved, address type, address, port), or 0 when b is too short.
func socks5Addr(b []byte) int {
	if len(b) < 5 || b[0] != 5 {
		return 0
	}
	var n int
	switch b[3] {
	case 1:
		n = 4 + 4 + 2
	case 4:
		n = 4 + 16 + 2
	case 3:
		n = 4 + 1 + int(b[4]) + 2
	default:
		return 0
	}
	if n > len(b) {
		return 0
	}
	return n
}

// credentialCommand reports a line of text commands that sends
// credentials: AUTH (not AUTH TLS/SSL, FTP's hand-over), AUTHENTICATE,
// LOGIN, PASS or APOP as the command word (after an IMAP tag too).
func credentialCommand(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(string(asciiUpper([]byte(line))))
		for i := 0; i < len(f) && i < 2; i++ {
			switch f[i] {
			case "AUTH":
				if i+1 < len(f) && (f[i+1] == "TLS" || f[i+1] == "SSL" || f[i+1] == "TLS-C" || f[i+1] == "TLS-P") {
					break
				}
				return true
			case "AUTHENTICATE", "LOGIN", "PASS", "APOP":
				return true
			}
		}
	}
	return false
}

// ldapMessageLen is the length of the first BER message of b (a
// SEQUENCE with a short or long length), or 0.
func ldapMessageLen(b []byte) int {
	if len(b) < 2 || b[0] != 0x30 {
		return 0
	}
	switch l := int(b[1]); {
	case l < 0x80:
		return min(len(b), 2+l)
	case l == 0x81 && len(b) >= 3:
		return min(len(b), 3+int(b[2]))
	case l == 0x82 && len(b) >= 4:
		return min(len(b), 4+int(binary.BigEndian.Uint16(b[2:4])))
	}
	return 0
}

// openVPNReset recognises OpenVPN's first packet, a client's hard reset
// (opcode 7 or 10) without tls-auth: the opcode, an 8-byte session ID,
// no acknowledgements and packet ID 0, and at most a few bytes of early
// negotiation (14-22 bytes in all). With tls-auth or tls-crypt the
// packet is random after the session ID: encrypted by entropy anyway.
func openVPNReset(p []byte) bool {
	if len(p) < 14 || len(p) > 22 || (p[0]>>3 != 7 && p[0]>>3 != 10) {
		return false
	}
	return p[9] == 0 && p[10] == 0 && p[11] == 0 && p[12] == 0 && p[13] == 0
}

// ClassifyDatagram judges a UDP flow from its first datagram: DTLS
// (content types 20-25 and a DTLS version), WireGuard, QUIC, or what
// Classify says.
func ClassifyDatagram(first []byte) Class {
	if len(first) >= 13 && first[0] >= 20 && first[0] <= 25 && first[1] == 0xfe {
		v := map[byte]string{0xff: "DTLS1.0", 0xfd: "DTLS1.2", 0xfc: "DTLS1.3"}[first[2]]
		if v != "" {
			return Class{Proto: "DTLS", TLSVersion: v}
		}
	}
	// WireGuard: a message type 1-4, three zero bytes, and the length of
	// that message (transport data: a 16-byte header, then ciphertext and
	// its 16-byte tag, padded to 16).
	if len(first) >= 32 && first[0] >= 1 && first[0] <= 4 && first[1] == 0 && first[2] == 0 && first[3] == 0 {
		n := len(first)
		if first[0] == 1 && n == 148 || first[0] == 2 && n == 92 || first[0] == 3 && n == 64 || first[0] == 4 && (n-32)%16 == 0 {
			return Class{Proto: "WireGuard"}
		}
	}
	// OpenVPN: a hard reset from the client opens its own TLS-based
	// channel.
	if openVPNReset(first) {
		return Class{Proto: "OpenVPN"}
	}
	// QUIC's long header: the form and fixed bits, then version 1 or 2.
	if len(first) >= 5 && first[0]&0xc0 == 0xc0 {
		if v := binary.BigEndian.Uint32(first[1:5]); v == 1 || v == 0x6b3343cf {
			return Class{Proto: "QUIC"}
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
	c := Class{Proto: "TLS"}
	// The version in use is that of application data records (an alert
	// or a handshake record may carry an older one): the first among the
	// records kept, for a connection caught in its middle.
	for off := 0; off+5 <= len(b) && off < 1<<14; {
		if b[off] < 20 || b[off] > 24 || b[off+1] != 3 {
			break
		}
		if b[off] == 23 {
			c.TLSVersion = tlsVersion(b[off+1], b[off+2])
			break
		}
		off += 5 + int(binary.BigEndian.Uint16(b[off+3:off+5]))
	}
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
		if ok {
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

// Mask hides everything after the first credential token: HTTP's
// Authorization and Proxy-Authorization headers and cookies, a password
// or token field, AUTH (Redis, SMTP: what follows may be base64 lines or
// RESP bulk strings), PASS (FTP, POP3), LOGIN (IMAP). Case is ignored
// (ASCII only, byte for byte: the offsets of the original hold); the
// token itself stays, so the reader sees what was there.
func Mask(s string) string {
	lower := []byte(s)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	best, blen := -1, 0
	for _, tok := range maskTokens {
		if j := bytes.Index(lower, []byte(tok)); j >= 0 && (best < 0 || j < best) {
			best, blen = j, len(tok)
		}
	}
	// A URL's user information (scheme://user:password@host).
	if j := bytes.Index(lower, []byte("://")); j >= 0 && (best < 0 || j < best) {
		end := min(len(lower), j+3+256)
		if at := bytes.IndexByte(lower[j+3:end], '@'); at > 0 && bytes.IndexByte(lower[j+3:j+3+at], ':') >= 0 &&
			!bytes.ContainsAny(lower[j+3:j+3+at], "/ \r\n") {
			best, blen = j, 3
		}
	}
	if best < 0 {
		return s
	}
	end := best + blen
	// The separator after a field name (password=, "password": ).
	for end < len(s) && strings.IndexByte(" =:\"'\t\r\n", s[end]) >= 0 && end < best+blen+8 {
		end++
	}
	if end >= len(s) {
		return s[:end]
	}
	return s[:end] + "***"
}

// maskTokens mark credentials; whatever follows the first is masked.
var maskTokens = []string{"authorization", "cookie:", "password", "passwd", "passphrase", "pass ", "pass\r", "pass=", "\"pass\"", "pwd", "pw=",
	"auth", "token", "login", "secret", "apikey", "api-key", "api_key", "key=", "sid=", "sig=", "signature", "session", "credential",
	"apop"}

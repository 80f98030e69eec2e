package flowclass

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// clientHello is the first flight Go's own TLS stack sends: the oracle
// for the record and ClientHello reading.
func clientHello(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		_ = tls.Client(a, cfg).Handshake()
	}()
	buf := make([]byte, 16<<10)
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestTLS(t *testing.T) {
	hello := clientHello(t, &tls.Config{ServerName: "db.example", MinVersion: tls.VersionTLS12})
	c := Classify(hello, nil)
	if c.Proto != "TLS" || c.SNI != "db.example" || c.Offered != "TLS1.3" || c.TLSVersion != "" || c.Plaintext || c.WeakTLS() {
		t.Errorf("TLS 1.3 hello: %+v", c)
	}
	old := clientHello(t, &tls.Config{ServerName: "legacy.example", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
	if c := Classify(old, nil); c.Offered != "TLS1.0" || c.TLSVersion != "" || !c.WeakTLS() || c.SNI != "legacy.example" {
		t.Errorf("TLS 1.0 hello: %+v", c)
	}
	// A server's first record counts too (the client said nothing yet).
	if c := Classify(nil, []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}); c.Proto != "TLS" || c.TLSVersion != "" {
		t.Errorf("server record: %+v", c)
	}
	// Records without a hello (a connection caught in its middle): 1.3
	// records say 1.2, so 1.2 or later; 1.0 records are 1.0.
	if c := Classify([]byte{23, 3, 3, 0, 2, 1, 2}, nil); c.TLSVersion != "TLS1.2+" || c.WeakTLS() {
		t.Errorf("1.2 application data: %+v", c)
	}
	if c := Classify([]byte{23, 3, 1, 0, 2, 1, 2}, nil); c.TLSVersion != "TLS1.0" || !c.WeakTLS() {
		t.Errorf("1.0 application data: %+v", c)
	}
	// A Finished (an encrypted handshake record) first, then data.
	if c := ClassifyMiddle([]byte{22, 3, 1, 0, 3, 9, 9, 9, 20, 3, 1, 0, 1, 1, 23, 3, 1, 0, 2, 1, 2}, nil); c.TLSVersion != "TLS1.0" || !c.WeakTLS() {
		t.Errorf("records after a Finished: %+v", c)
	}
	// Truncated or hostile hellos: a verdict, never a panic.
	for n := 0; n < len(hello); n += 7 {
		_ = Classify(hello[:n], nil)
	}
	bad := append([]byte(nil), hello...)
	for i := 5; i < len(bad); i += 11 {
		bad[i] = 0xff
	}
	_ = Classify(bad, nil)
}

func TestPlaintextProtocols(t *testing.T) {
	for _, tt := range []struct {
		client, server, proto string
		plain                 bool
	}{
		{"GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\r\n", "", "HTTP", true},
		{"", "HTTP/1.1 200 OK\r\n", "HTTP", true},
		{"", "220 mail.example ESMTP Postfix\r\n", "SMTP", true},
		{"", "220 (vsFTPd 3.0.3)\r\n", "FTP", true},
		{"", "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", "IMAP", true},
		{"", "+OK POP3 server ready\r\n", "POP3", true},
		{"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n", "", "Redis", true},
		{"", "-NOAUTH Authentication required.\r\n", "Redis", true},
		{"SSH-2.0-OpenSSH_9.2\r\n", "SSH-2.0-OpenSSH_9.6\r\n", "SSH", false},
		{"hello world, just text\n", "", "text", true},
		{"\x00\x00\x00\x08\x04\xd2\x16\x2f", "", "PostgreSQL SSL request, the answer not seen", false},
		{"\x00\x00\x00\x29\x00\x03\x00\x00user\x00app\x00database\x00prod\x00\x00", "", "PostgreSQL", true},
		{"", "\x4a\x00\x00\x00\x0a8.0.36\x00", "MySQL", true},
		{"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", "", "LDAP", true},
	} {
		c := Classify([]byte(tt.client), []byte(tt.server))
		if c.Proto != tt.proto || c.Plaintext != tt.plain {
			t.Errorf("%q / %q: %+v, want %s plaintext=%v", tt.client, tt.server, c, tt.proto, tt.plain)
		}
	}
	random := make([]byte, 1024)
	_, _ = rand.Read(random)
	if c := Classify(random, nil); c.Proto != "encrypted" || c.Plaintext {
		t.Errorf("random bytes: %+v", c)
	}
	zeros := bytes.Repeat([]byte{0, 1, 2, 0}, 100)
	if c := Classify(zeros, nil); c.Proto != "binary" || !c.Plaintext {
		t.Errorf("low-entropy binary: %+v", c)
	}
	if c := ClassifyDatagram([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1}); c.Proto != "DTLS" || c.TLSVersion != "DTLS1.2" {
		t.Errorf("DTLS: %+v", c)
	}
}

// The evidence shows what was there, never the secret.
func TestMask(t *testing.T) {
	c := Classify([]byte("GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\r\n"), nil)
	if strings.Contains(c.Evidence, "YWRtaW46") || !strings.HasPrefix(c.Evidence, `GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: ***`) {
		t.Errorf("evidence %q", c.Evidence)
	}
	for in, want := range map[string]string{
		"user=bob&password=hunter2&x=1":   "user=bob&password=***",
		`{"password": "hunter2"}`:         `{"password": "***`,
		"AUTH PLAIN AGJvYgBodW50ZXIy\r\n": "AUTH ***",
		"USER bob\r\nPASS hunter2\r\n":    "USER bob\r\nPASS ***",
		"nothing to hide here":            "nothing to hide here",
		// Redis' RESP, Redis 6 ACLs, IMAP, SMTP AUTH LOGIN's base64 lines.
		"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n":                "*2\r\n$4\r\nAUTH\r\n***",
		"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\nsecret\r\n": "*3\r\n$4\r\nAUTH\r\n***",
		"a1 LOGIN alice s3cr3t\r\n":                           "a1 LOGIN ***",
		"EHLO x\r\nAUTH LOGIN\r\nYWxpY2U=\r\nczNjcjN0\r\n":    "EHLO x\r\nAUTH ***",
		// Digits are secrets too; so are a URL's user information and
		// the other usual field names.
		"USER bob\r\nPASS 4711\r\n":                    "USER bob\r\nPASS ***",
		"a=1&password=1234567":                         "a=1&password=***",
		"GET http://alice:s3cr3t@db.example/ HTTP/1.1": "GET http://***",
		"q=1&pw=hunter2":                               "q=1&pw=***",
		"APOP mrose c4c9334bac560ecc979e58001b3e22fb":  "APOP ***",
		// Bytes that are not ASCII before the token: the offsets hold.
		"X: \xff\xff\xff\xff\xff\xff\xff\xff\r\nCookie: sid=abc":         "X: \xff\xff\xff\xff\xff\xff\xff\xff\r\nCookie: ***",
		"GET /?q=caf\xe9&x=\xe9\xe9\xe9\xe9&password=hunter2 HTTP/1.1":   "GET /?q=caf\xe9&x=\xe9\xe9\xe9\xe9&password=***",
		"\u212a\u212a\u212a\u212a Authorization: Basic YWxpY2U6czNjcjN0": "\u212a\u212a\u212a\u212a Authorization: ***",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// Plaintext that hands over to TLS is judged by what follows; one that
// does not, or credentials in the hand-over, are plaintext; a few bytes
// say nothing; WireGuard and QUIC are encrypted; plaintext either way is
// plaintext.
func TestPreludesAndShortPayloads(t *testing.T) {
	hello, serverHello := handshakeBytes(t, tls.VersionTLS13)
	mysqlGreet := "\x0a\x00\x00\x00\x0a8.0.36\x00\x01\x02"
	sslRequest := "\x20\x00\x00\x01" + "\x00\x08\x00\x00" + strings.Repeat("\x00", 28)
	for _, tt := range []struct {
		name           string
		client, server string
		proto, via     string
		plain          bool
	}{
		{"SMTP STARTTLS", "EHLO relay\r\nSTARTTLS\r\n" + string(hello), "220 mx ESMTP\r\n250 STARTTLS\r\n220 go ahead\r\n" + string(serverHello), "TLS", "STARTTLS", false},
		{"STARTTLS asked, TLS not seen", "EHLO relay\r\nSTARTTLS\r\n", "220 mx ESMTP\r\n", "STARTTLS, the rest not seen", "", false},
		{"SMTP without STARTTLS", "EHLO relay\r\nMAIL FROM:<a@b>\r\n", "220 mx ESMTP\r\n", "SMTP", "", true},
		{"MySQL SSL request", sslRequest + string(hello), mysqlGreet + string(serverHello), "TLS", "MySQL SSL request", false},
		{"MySQL in clear", "\x20\x00\x00\x01\x00\x02\x00\x00" + strings.Repeat("\x00", 28), mysqlGreet, "MySQL", "", true},
		{"PostgreSQL SSL accepted", "\x00\x00\x00\x08\x04\xd2\x16\x2f" + string(hello), "S" + string(serverHello), "TLS", "PostgreSQL SSL request", false},
		{"PostgreSQL SSL refused: the startup in clear", "\x00\x00\x00\x08\x04\xd2\x16\x2f\x00\x00\x00\x29\x00\x03\x00\x00user\x00app\x00database\x00prod\x00\x00", "N", "PostgreSQL", "", true},
		{"HTTP CONNECT to TLS", "CONNECT db:443 HTTP/1.0\r\n\r\n" + string(hello), "HTTP/1.0 200 Connection established\r\n\r\n" + string(serverHello), "TLS", "HTTP CONNECT", false},
		{"HTTP CONNECT with credentials", "CONNECT db:443 HTTP/1.0\r\nProxy-Authorization: Basic YWxpY2U6czNjcjN0\r\n\r\n", "", "HTTP", "", true},
		{"HTTP CONNECT to plaintext", "CONNECT db:80 HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: db\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\n", "HTTP", "", true},
		{"SOCKS5 to TLS", "\x05\x01\x00" + "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb" + string(hello), "\x05\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00" + string(serverHello), "TLS", "SOCKS", false},
		{"SOCKS5 with a password", "\x05\x01\x02\x01\x05alice\x06s3cr3t", "\x05\x02", "SOCKS5 username/password", "", true},
		{"SOCKS4 to plaintext", "\x04\x01\x00\x50\xc0\x00\x02\x07bob\x00GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x00\x5a\x00\x50\xc0\x00\x02\x07", "HTTP", "", true},
		{"plaintext to a TLS port: the request crossed", "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n", "\x15\x03\x03\x00\x02\x02\x46", "HTTP", "", true},
		{"one byte: nothing to judge", "x", "", "undetermined", "", false},
	} {
		c := Classify([]byte(tt.client), []byte(tt.server))
		if c.Proto != tt.proto || c.Via != tt.via || c.Plaintext != tt.plain {
			t.Errorf("%s: %+v, want %s via %q plaintext=%v", tt.name, c, tt.proto, tt.via, tt.plain)
		}
		if strings.Contains(c.Evidence, "s3cr3t") || strings.Contains(c.Evidence, "YWxpY2U6") {
			t.Errorf("%s: a secret in %q", tt.name, c.Evidence)
		}
	}
	// From the second review: nothing but one level of prelude is read,
	// whatever nests; a SOCKS greeting without an answer says nothing;
	// PostgreSQL's refusals are followed; non-ASCII before STARTTLS holds
	// the offsets; an alert record's old version is not weak TLS.
	nested := bytes.Repeat([]byte("\x04\x01\x00\x50\xc0\x00\x02\x07x\x00"), 400)
	start := time.Now()
	for i := 0; i < 100; i++ {
		_ = Classify(nested, nil)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("100 nested SOCKS headers took %v", took)
	}
	gss, ssl := "\x00\x00\x00\x08\x04\xd2\x16\x30", "\x00\x00\x00\x08\x04\xd2\x16\x2f"
	for _, tt := range []struct {
		name, client, server, proto string
		plain                       bool
	}{
		{"SOCKS5 greeting, no answer", "\x05\x01\x00", "", Undetermined, false},
		{"GSSENC refused, then TLS", gss + ssl + string(hello), "NS" + string(serverHello), "TLS", false},
		{"SSL refused, the client gives up", ssl, "N", "PostgreSQL, encryption refused, the rest not seen", false},
		{"SSL refused, the start-up in clear", ssl + "\x00\x00\x00\x29\x00\x03\x00\x00user\x00app\x00database\x00prod\x00\x00", "N", "PostgreSQL", true},
		{"non-ASCII, then STARTTLS and TLS", "EHLO caf\xe9\xff\xff\r\nSTARTTLS\r\n" + string(hello), "220 ok\r\n" + string(serverHello), "TLS", false},
		{"a TLS 1.0 alert record", "", "\x15\x03\x01\x00\x02\x02\x46", "TLS", false},
		// From the third review: syslog and SIP are not OpenVPN; unknown
		// preambles before a ClientHello (PROXY protocol v1, XMPP) are
		// judged by the TLS; LDAP StartTLS refused then a bind in clear is
		// plaintext; an EHLO name with "auth" in it is no credential.
		{"syslog over UDP-like text", "<34>Oct 11 22:14:15 host su: 'su root' failed for lonvick on /dev/pts/8", "", "text", true},
		{"PROXY protocol v1, then TLS", "PROXY TCP4 192.0.2.7 192.0.2.2 40000 443\r\n" + string(hello), string(serverHello), "TLS", false},
		{"XMPP STARTTLS", "<?xml version='1.0'?><stream:stream to='x'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + string(hello), "<proceed/>" + string(serverHello), "TLS", false},
		{"LDAP StartTLS refused, then a bind", "\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037" + "\x30\x1c\x02\x01\x02\x60\x17\x02\x01\x03\x04\x08cn=admin\x80\x08s3cr3t!!", "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00", "LDAP", true},
		{"an EHLO name with auth in it", "EHLO smtp-auth.example.com\r\nSTARTTLS\r\n" + string(hello), "220 ok\r\n" + string(serverHello), "TLS", false},
		{"FTP AUTH TLS then AUTH SSL", "AUTH TLS\r\nAUTH SSL\r\n" + string(hello), "500 no\r\n234 ok\r\n" + string(serverHello), "TLS", false},
		{"credentials before STARTTLS", "EHLO x\r\nAUTH PLAIN AGFsaWNlAHMzY3IzdA==\r\nSTARTTLS\r\n" + string(hello), "220 ok\r\n", "STARTTLS after credentials", true},
		// RDP (X.224 negotiation selecting TLS), LDAP StartTLS, OpenVPN.
		{"RDP to TLS", "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00" + string(hello),
			"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00" + string(serverHello), "TLS", false},
		{"RDP standard security", "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x00\x00\x00\x00",
			"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x00\x00\x00\x00", "RDP standard security", false},
		{"LDAP StartTLS", "\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037" + string(hello),
			"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00" + string(serverHello), "TLS", false},
		{"OpenVPN over TCP", "\x00\x0e\x38\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x00\x00", "", "OpenVPN", false},
	} {
		c := Classify([]byte(tt.client), []byte(tt.server))
		if c.Proto != tt.proto || c.Plaintext != tt.plain || c.WeakTLS() {
			t.Errorf("%s: %+v, want %s plaintext=%v", tt.name, c, tt.proto, tt.plain)
		}
	}
	// A connection caught in its middle: a keepalive byte, or a few, of
	// an idle TLS connection is not plaintext; a long text is.
	for _, b := range []string{"\x00", "abc", strings.Repeat("\x01\x00", 20)} {
		if c := ClassifyMiddle([]byte(b), nil); c.Plaintext || c.Proto != Undetermined {
			t.Errorf("middle %q: %+v", b, c)
		}
	}
	if c := ClassifyMiddle([]byte(strings.Repeat("plain words, ", 8)), nil); !c.Plaintext || c.Proto != "text" {
		t.Errorf("middle text: %+v", c)
	}
	// WireGuard (a keepalive and a handshake initiation) and QUIC.
	keepalive := append([]byte{4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 5}, bytes.Repeat([]byte{0xab}, 16)...)
	initiation := append([]byte{1, 0, 0, 0}, bytes.Repeat([]byte{7}, 144)...)
	quic := append([]byte{0xc3, 0, 0, 0, 1}, bytes.Repeat([]byte{9}, 100)...)
	for name, d := range map[string][]byte{"WireGuard keepalive": keepalive, "WireGuard initiation": initiation, "QUIC": quic,
		"OpenVPN hard reset": {0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0}} {
		if c := ClassifyDatagram(d); c.Plaintext || c.Proto == "binary" {
			t.Errorf("%s: %+v", name, c)
		}
	}
	for _, d := range []string{"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n"} {
		if c := ClassifyDatagram([]byte(d)); !c.Plaintext {
			t.Errorf("%q: %+v", d, c)
		}
	}
	// A console login: the first line shows, the password after it not.
	if c := Classify([]byte("root\r\nTr0ub4dor&3\r\nls -l\r\n"), nil); !c.Plaintext || strings.Contains(c.Evidence, "Tr0ub4dor") {
		t.Errorf("console login: %+v", c)
	}
	// LDAP's simple bind carries its password in the clear: named, not shown.
	if c := Classify([]byte("\x30\x1c\x02\x01\x01\x60\x17\x02\x01\x03\x04\x08cn=admin\x80\x08s3cr3t!!"), nil); c.Proto != "LDAP" || !c.Plaintext || c.Evidence != "" {
		t.Errorf("LDAP bind: %+v", c)
	}
}

// Any bytes: a verdict, never a panic, and an evidence of bounded length.
func FuzzClassify(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n"), []byte("HTTP/1.1 200 OK\r\n"))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 3}, []byte{})
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47}, []byte{})
	f.Add([]byte("X: \xff\xff\xff\xff\r\nCookie: sid=abc\r\n\u212a\u212aAuthorization: x"), []byte{})
	f.Add([]byte("EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03"), []byte("220 ok\r\n"))
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x03\x04host\x00\x50GET"), []byte("\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		c := Classify(client, server)
		if len(c.Evidence) > maxEvidence+8 {
			t.Fatalf("evidence of %d bytes", len(c.Evidence))
		}
		if strings.ContainsAny(c.Evidence, "|\r\n\x00\x1b") {
			t.Fatalf("evidence %q would break the plugin output", c.Evidence)
		}
		_ = ClassifyDatagram(client)
		_ = ClassifyMiddle(client, server)
		if m := Mask(string(client)); len(m) > len(client)+3 {
			t.Fatalf("Mask grew %d bytes to %d", len(client), len(m))
		}
	})
}

// handshakeBytes records the first flight each side of a real crypto/tls
// handshake sends, the server allowing at most serverMax.
func handshakeBytes(t *testing.T, serverMax uint16) (client, server []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"relay.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	c1, c2 := net.Pipe()
	var fromClient, fromServer bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv := tls.Server(recorder{c2, &fromClient}, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: serverMax})
		_ = srv.Handshake()
		c2.Close() // no close_notify: a pipe would block on it
	}()
	cli := tls.Client(recorder{c1, &fromServer}, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, ServerName: "relay.example"})
	_ = cli.Handshake()
	c1.Close()
	<-done
	return fromClient.Bytes(), fromServer.Bytes()
}

// recorder keeps what is read through a connection.
type recorder struct {
	net.Conn
	seen *bytes.Buffer
}

func (r recorder) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	r.seen.Write(b[:n])
	return n, err
}

// The version that counts is the one the server selected, not the
// highest the client offered: a modern client talking to a server that
// stops at TLS 1.0 is weak TLS in transit.
func TestNegotiatedVersion(t *testing.T) {
	for _, tt := range []struct {
		max  uint16
		want string
		weak bool
	}{
		{tls.VersionTLS10, "TLS1.0", true},
		{tls.VersionTLS11, "TLS1.1", true},
		{tls.VersionTLS12, "TLS1.2", false},
		{tls.VersionTLS13, "TLS1.3", false},
	} {
		client, server := handshakeBytes(t, tt.max)
		c := Classify(client, server)
		if c.Proto != "TLS" || c.TLSVersion != tt.want || c.WeakTLS() != tt.weak || c.SNI != "relay.example" {
			t.Errorf("server max %x: %+v, want %s", tt.max, c, tt.want)
		}
		if offered := Classify(client, nil); offered.TLSVersion != "" || offered.Offered != "TLS1.3" || offered.WeakTLS() {
			t.Errorf("the client's hello alone: %+v, want no version in use and TLS1.3 offered", offered)
		}
	}
}

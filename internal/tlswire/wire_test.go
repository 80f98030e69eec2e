package tlswire

import (
	"bytes"
	"crypto/aes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The ClientHello we write is one a real TLS stack accepts: crypto/tls's
// server answers it with a ServerHello for the suite and version offered.
func TestClientHelloAcceptedByGo(t *testing.T) {
	cert := selfSigned(t)
	for _, tt := range []struct {
		version uint16
		suite   uint16
	}{
		{VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
		{VersionTLS13, tls.TLS_AES_256_GCM_SHA384},
	} {
		client, server := net.Pipe()
		go func() {
			s := tls.Server(server, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10})
			_ = s.Handshake()
			server.Close()
		}()
		key := make([]byte, 32)
		key[0] = 9 // any 32 bytes are a valid X25519 public key encoding
		hello, err := ClientHello(Hello{Version: tt.version, Suites: []uint16{0x0001, tt.suite, 0xC0FF}, SNI: "example.test", KeyShare: key})
		if err != nil {
			t.Fatal(err)
		}
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		go func() { _, _ = client.Write(hello) }()
		f, err := ReadFlight(client, UntilHello)
		client.Close()
		if err != nil || !f.Hello || f.Version != tt.version || f.Suite != tt.suite {
			t.Errorf("%s: flight %+v, %v", VersionName(tt.version), f, err)
		}
	}
}

// Recorded server answers (testdata/*.bin, captured from socat 1.7.4 with
// OpenSSL 3) parse to what the server said.
func TestRecordedFlights(t *testing.T) {
	tests := []struct {
		file  string
		stop  Stop
		check func(*Flight) bool
	}{
		{"tls12-hello-done.bin", UntilDone, func(f *Flight) bool {
			return f.Hello && f.Version == VersionTLS12 && f.Done && len(f.Certificates) == 1 && !f.CertRequest
		}},
		// OpenSSL sends the CA of cafile= along with the leaf.
		{"tls12-certrequest.bin", UntilDone, func(f *Flight) bool { return f.Done && f.CertRequest && len(f.Certificates) == 2 }},
		// socat's OpenSSL prefers P-256 to our X25519 share: a HelloRetryRequest.
		{"tls13-hello.bin", UntilHello, func(f *Flight) bool { return f.Hello && f.Retry && f.Version == VersionTLS13 && f.Suite == 0x1301 }},
		{"alert-handshake-failure.bin", UntilHello, func(f *Flight) bool { return f.Alert != nil && f.Alert.Description == 40 }},
		// openssl s_server with -servername, asked for another name: a
		// warning unrecognized_name, then the ServerHello. Not a refusal.
		{"tls12-warning-unrecognized-name.bin", UntilDone, func(f *Flight) bool {
			return f.Alert == nil && f.Hello && f.Version == VersionTLS12 && f.Suite == 0xc02f && f.Done &&
				len(f.Warnings) == 1 && f.Warnings[0].Description == 112
		}},
		// OpenSSL 3 refuses a TLS 1.0-only hello with internal_error, not protocol_version.
		{"alert-tls10-refused.bin", UntilHello, func(f *Flight) bool { return f.Alert != nil && f.Alert.Description == 80 }},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		f, err := ReadFlight(bytes.NewReader(data), tt.stop)
		if err != nil && !errors.Is(err, io.EOF) || !tt.check(f) {
			t.Errorf("%s: %+v, %v", tt.file, f, err)
		}
		// Every truncation of a recording is an error or a partial flight,
		// never a panic or a success it did not earn: it ends in an error,
		// or (cut after the message that ends the read) in the same answer.
		for n := 0; n < len(data); n++ {
			f, err := ReadFlight(bytes.NewReader(data[:n]), tt.stop)
			if err == nil && !tt.check(f) {
				t.Errorf("%s cut at %d of %d bytes: no error, and a flight that is not the full one: %+v", tt.file, n, len(data), f)
			}
		}
	}
}

func TestNotTLS(t *testing.T) {
	_, err := ReadFlight(bytes.NewReader([]byte("SSH-2.0-OpenSSH_9.2\r\n")), UntilHello)
	if !errors.Is(err, ErrNotTLS) {
		t.Errorf("a plaintext banner: %v", err)
	}
	_, err = ReadFlight(bytes.NewReader([]byte("HTTP/1.1 400 Bad Request\r\n")), UntilHello)
	if !errors.Is(err, ErrNotTLS) {
		t.Errorf("an HTTP answer: %v", err)
	}
	// An echo: our own ClientHello comes back. Without more bytes after
	// it, a reader waiting for the ServerHello would block forever.
	hello, err := ClientHello(Hello{Version: VersionTLS12, Suites: []uint16{0x002f}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadFlight(&blockAfter{data: hello}, UntilHello)
	if !errors.Is(err, ErrNotTLS) || !strings.Contains(err.Error(), "ClientHello") {
		t.Errorf("an echoed ClientHello: %v", err)
	}
}

// Warning alerts are read past, a few of them: close_notify, a fatal
// alert, or one warning too many end the exchange as a refusal.
func TestWarningAlerts(t *testing.T) {
	warn := func(d byte) []byte { return []byte{21, 3, 3, 0, 2, 1, d} }
	fatal := []byte{21, 3, 3, 0, 2, 2, 40}
	tests := []struct {
		name     string
		data     []byte
		alert    byte // the ending alert's description
		warnings int
	}{
		{"warning then fatal", append(warn(112), fatal...), 40, 1},
		{"close_notify at warning level", append(warn(0), fatal...), 0, 0},
		{"endless warnings", bytes.Repeat(warn(112), 1000), 112, maxWarnings},
	}
	for _, tt := range tests {
		f, err := ReadFlight(bytes.NewReader(tt.data), UntilHello)
		if err != nil || f.Alert == nil || f.Alert.Description != tt.alert || len(f.Warnings) != tt.warnings {
			t.Errorf("%s: %+v, %v", tt.name, f, err)
		}
	}
}

// blockAfter returns its data, then fails the test instead of blocking.
type blockAfter struct{ data []byte }

func (b *blockAfter) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, errors.New("read past the data: the parser waited for more")
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func TestHostileLengths(t *testing.T) {
	huge := []byte{22, 3, 3, 0xff, 0xff}
	if _, err := ReadFlight(bytes.NewReader(huge), UntilHello); err == nil {
		t.Error("a 64 KiB record accepted")
	}
	// A handshake message claiming 16 MiB.
	msg := []byte{22, 3, 3, 0, 4, 2, 0xff, 0xff, 0xff}
	if _, err := ReadFlight(bytes.NewReader(msg), UntilHello); err == nil {
		t.Error("a 16 MiB handshake message accepted")
	}
	// Endless empty handshake records end at the flight limit, or EOF.
	var b bytes.Buffer
	for i := 0; i < 100000; i++ {
		b.Write([]byte{22, 3, 3, 0, 16})
		b.Write(make([]byte, 16))
	}
	if _, err := ReadFlight(&b, UntilHello); err == nil {
		t.Error("an endless flight accepted")
	}
	// Endless zero-length records count their headers against the limit:
	// they end with an error, not by reading everything the peer sends.
	var z bytes.Buffer
	for i := 0; i < 300000; i++ { // 1.5 MB of headers, over the 1 MiB flight limit
		z.Write([]byte{22, 3, 3, 0, 0})
	}
	if _, err := ReadFlight(&z, UntilHello); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("endless empty records: %v", err)
	}
	if z.Len() == 0 {
		t.Error("endless empty records were read to the end")
	}
}

// A first byte with the high bit set is SSLv2 only in answer to an SSLv2
// hello; otherwise it is plaintext (a telnet IAC), said at once and not
// after waiting for a 32 KiB "record".
func TestHighBitFirstByte(t *testing.T) {
	telnet := []byte{0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03}
	for _, stop := range []Stop{UntilHello, UntilDone} {
		if _, err := ReadFlight(&blockAfter{data: telnet}, stop); !errors.Is(err, ErrNotTLS) {
			t.Errorf("stop %d: a telnet negotiation: %v", stop, err)
		}
	}
	if _, err := ReadFlight(&blockAfter{data: telnet}, UntilSSLv2); !errors.Is(err, ErrNotTLS) {
		t.Errorf("SSLv2: a telnet negotiation (type 0x01, 32 KiB): %v", err)
	}
	// An SSLv2 SERVER-HELLO: type 4, no session hit, X.509, version 2,
	// no certificate, two cipher specs (6 bytes), a 16-byte connection id.
	body := []byte{4, 0, 1, 0, 2, 0, 0, 0, 6, 0, 16}
	body = append(body, 0x01, 0x00, 0x80, 0x07, 0x00, 0xc0)
	body = append(body, make([]byte, 16)...)
	rec := append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
	f, err := ReadFlight(&blockAfter{data: rec}, UntilSSLv2)
	if err != nil || !f.SSLv2 || f.SSLv2Specs != 2 {
		t.Errorf("an SSLv2 SERVER-HELLO: %+v, %v", f, err)
	}
	if _, err := ReadFlight(&blockAfter{data: rec}, UntilHello); !errors.Is(err, ErrNotTLS) {
		t.Errorf("an SSLv2 answer to a TLS hello: %v", err)
	}
}

func FuzzReadFlight(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bin")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data, true)
		}
	}
	f.Add([]byte{0x80, 0x03, 4, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, done bool) {
		stop := UntilHello
		if done {
			stop = UntilDone
		}
		fl, _ := ReadFlight(bytes.NewReader(data), stop)
		if fl == nil {
			t.Fatal("nil flight")
		}
		if len(fl.Certificates) > maxCerts {
			t.Fatalf("%d certificates", len(fl.Certificates))
		}
	})
}

// Any version, suite list, name and key share: a ClientHello whose record
// and handshake lengths add up, or an error; never a panic.
func FuzzClientHello(f *testing.F) {
	f.Add(uint16(VersionTLS12), []byte{0x00, 0x2f, 0xc0, 0x2f}, "relay.example", []byte(nil))
	f.Add(uint16(VersionTLS13), []byte{0x13, 0x01}, "", make([]byte, 32))
	f.Add(uint16(VersionSSL3), []byte{}, strings.Repeat("a", 300), []byte{1})
	f.Fuzz(func(t *testing.T, version uint16, suites []byte, sni string, share []byte) {
		var list []uint16
		for i := 0; i+1 < len(suites); i += 2 {
			list = append(list, uint16(suites[i])<<8|uint16(suites[i+1]))
		}
		msg, err := ClientHello(Hello{Version: version, Suites: list, SNI: sni, KeyShare: share})
		if err != nil {
			return
		}
		if len(msg) < 9 || msg[0] != 22 || msg[5] != 1 {
			t.Fatalf("not a handshake record with a ClientHello: % x", msg[:min(len(msg), 9)])
		}
		recLen := int(msg[3])<<8 | int(msg[4])
		hsLen := int(msg[6])<<16 | int(msg[7])<<8 | int(msg[8])
		if recLen != len(msg)-5 || hsLen != recLen-4 {
			t.Fatalf("lengths: record %d of %d, handshake %d", recLen, len(msg)-5, hsLen)
		}
	})
}

// FuzzReadFlight13: whatever a server sends after our TLS 1.3 hello, the
// reader returns (no panic, no unbounded allocation); a ServerHello with
// a key share of its own makes it derive keys and try to decrypt.
func FuzzReadFlight13(f *testing.F) {
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	hello, err := ClientHello(Hello{Version: VersionTLS13, Suites: Suites13Own, KeyShare: key.PublicKey().Bytes()})
	if err != nil {
		f.Fatal(err)
	}
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	sh := []byte{3, 3}
	sh = append(sh, make([]byte, 32)...)
	sh = append(sh, 0, 0x13, 0x04, 0)
	ext := []byte{0, 43, 0, 2, 3, 4, 0, 51, 0, 36, 0, 29, 0, 32}
	ext = append(ext, peer.PublicKey().Bytes()...)
	sh = append(sh, byte(len(ext)>>8), byte(len(ext)))
	sh = append(sh, ext...)
	msg := append([]byte{2, 0, byte(len(sh) >> 8), byte(len(sh))}, sh...)
	rec := append([]byte{22, 3, 3, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	f.Add(append(rec, 23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, _ := ReadFlight13(bytes.NewReader(data), hello, key)
		if fl == nil {
			t.Fatal("nil flight")
		}
	})
}

// AES-CCM as written here: what Seal makes, Open takes back; a changed
// byte, tag or associated data is refused.
func TestCCM(t *testing.T) {
	block, err := aes.NewCipher(bytes.Repeat([]byte{7}, 16))
	if err != nil {
		t.Fatal(err)
	}
	nonce, aad := bytes.Repeat([]byte{1}, 12), []byte{23, 3, 3, 0, 40}
	for _, tag := range []int{16, 8} {
		c := &ccm{block: block, tag: tag}
		for _, n := range []int{0, 1, 15, 16, 17, 100} {
			plain := bytes.Repeat([]byte{byte(n)}, n)
			sealed := c.Seal(nil, nonce, plain, aad)
			if len(sealed) != n+tag {
				t.Fatalf("tag %d, %d bytes: sealed %d bytes", tag, n, len(sealed))
			}
			got, err := c.Open(nil, nonce, sealed, aad)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("tag %d, %d bytes: Open = %x, %v", tag, n, got, err)
			}
			for i := range sealed {
				bad := append([]byte(nil), sealed...)
				bad[i] ^= 1
				if _, err := c.Open(nil, nonce, bad, aad); err == nil {
					t.Fatalf("tag %d, %d bytes: byte %d changed, Open accepted it", tag, n, i)
				}
			}
			if _, err := c.Open(nil, nonce, sealed, []byte{23, 3, 3, 0, 41}); err == nil {
				t.Fatalf("tag %d: other associated data accepted", tag)
			}
		}
	}
}

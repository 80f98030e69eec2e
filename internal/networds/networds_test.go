package networds

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The errors a starved or overloaded TLS audit met (issue 12's soak:
// "dial tcp ... i/o timeout", "connection reset") and their relatives,
// as the Go runtime wraps them.
func TestNetWords(t *testing.T) {
	dial := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, Err: os.NewSyscallError("connect", e)}
	}
	read := func(e error) error { return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", e)} }
	for _, tt := range []struct {
		err   error
		stage string
		want  string
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, "TLS handshake", "at connect: no answer before the deadline"},
		{dial(syscall.ECONNREFUSED), "suite scan", "at connect: connection refused"},
		{read(syscall.ECONNRESET), "TLS handshake", "at TLS handshake: the connection was reset by the peer"},
		{fmt.Errorf("handshake: %w", io.EOF), "TLS handshake", "at TLS handshake: the peer closed the connection"},
		{read(syscall.EPIPE), "TLS handshake", "at TLS handshake: the peer closed the connection"},
		{dial(syscall.EMFILE), "connect", "at connect: out of file descriptors (ulimit -n "},
		{tls.AlertError(40), "TLS handshake", "at TLS handshake: the peer sent the TLS alert handshake failure"},
		{errors.New("something new"), "TLS handshake", "at TLS handshake: something new"},
	} {
		got := Failure(tt.stage, tt.err)
		if !strings.HasPrefix(got, tt.want) || strings.Contains(got, "127.0.0.1") || strings.Contains(got, "dial tcp") {
			t.Errorf("Failure(%q, %v) = %q, want %q", tt.stage, tt.err, got, tt.want)
		}
	}
}

// The alert a real TLS 1.3 server sends a client without the certificate
// it requires, as crypto/tls over TCP reports it: a "remote error".
func TestNetWordsOfARealAlert(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test peer
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	got := Failure("TLS handshake", err)
	if want := "at TLS handshake: the peer sent the TLS alert certificate required"; got != want {
		t.Errorf("Failure = %q (from %v), want %q", got, err, want)
	}
}

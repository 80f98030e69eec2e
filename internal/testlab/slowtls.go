package testlab

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// SlowTLS is a TLS 1.3 server (Go's crypto/tls, in the test process) that
// asks for a client certificate and takes delay to decide on it: the late
// refusal that a fixed read window after the handshake mistook for
// acceptance. With require it refuses a client without a certificate
// (alert bad_certificate) after delay; otherwise it accepts it after
// delay and then echoes. Without tickets it sends no session ticket, as
// a server configured so (OpenSSL num_tickets = 0). certFile holds the
// certificate and its key (socat's cert= form). It returns the port.
func SlowTLS(t testing.TB, certFile string, delay time.Duration, require, tickets bool) int {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, certFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{
		Certificates:           []tls.Certificate{pair},
		MinVersion:             tls.VersionTLS13,
		ClientAuth:             tls.RequestClientCert,
		SessionTicketsDisabled: !tickets,
		VerifyConnection: func(cs tls.ConnectionState) error {
			time.Sleep(delay) // the slow decision itself, not synchronisation
			if require && len(cs.PeerCertificates) == 0 {
				return errors.New("a client certificate is required")
			}
			return nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

// serverHello is a TLS 1.2 ServerHello record choosing AES128-SHA.
func serverHello() []byte {
	body := []byte{0x03, 0x03}
	body = append(body, bytes.Repeat([]byte{7}, 32)...)
	body = append(body, 0, 0x00, 0x2f, 0)
	hs := append([]byte{2, 0, 0, byte(len(body))}, body...)
	return append([]byte{0x16, 0x03, 0x03, 0, byte(len(hs))}, hs...)
}

// readHello reads the client's first bytes (its ClientHello).
func readHello(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Read(make([]byte, 4096))
	_ = c.SetReadDeadline(time.Time{})
}

// Peers written to misbehave: each run ends by its deadline + 1 s with a
// CRITICAL result that says something, and memory stays in its budget.
func TestHostilePeers(t *testing.T) {
	endless := func(c net.Conn, chunk []byte) {
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
	cases := []struct {
		name   string
		behave func(c net.Conn)
		want   string // in the first line
	}{
		{"accepts and never answers", func(c net.Conn) { readHello(c); _, _ = c.Read(make([]byte, 1)) }, "timed out at stage TLS handshake"},
		{"trickles one byte a second", func(c net.Conn) {
			readHello(c)
			for _, b := range serverHello() {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second) // the peer's behaviour, not synchronisation
			}
		}, "timed out at stage TLS handshake"},
		{"100 MB of garbage", func(c net.Conn) {
			readHello(c)
			junk := make([]byte, 1<<20)
			_, _ = rand.Read(junk)
			for range 100 {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		}, "does not speak TLS"},
		{"reset in the middle of the handshake", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHello()[:20])
			testlab.Reset(c)
		}, "at TLS handshake: the connection was reset by the peer"},
		{"a malformed ServerHello", func(c net.Conn) {
			readHello(c)
			h := serverHello()
			h[9+2+32] = 200 // a session id longer than the message
			_, _ = c.Write(h)
		}, "error decoding message"},
		{"an oversized record", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0xff, 0xff})
			endless(c, bytes.Repeat([]byte{0}, 1<<16))
		}, "at TLS handshake: the peer sent an oversized TLS record"},
		{"an endless certificate chain", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHello())
			// A Certificate message of 16 MiB, in records of 16 KiB, forever.
			first := append([]byte{0x16, 0x03, 0x03, 0x40, 0x00, 11, 0xff, 0xff, 0xff}, make([]byte, 0x4000-4)...)
			_, _ = c.Write(first)
			endless(c, append([]byte{0x16, 0x03, 0x03, 0x40, 0x00}, make([]byte, 0x4000)...))
		}, "exceeds maximum"},
		{"closes after 20 bytes", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHello()[:20])
		}, "at TLS handshake: the peer closed the connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := testlab.Hostile(t, tc.behave)
			for _, mode := range [][]string{nil, {"--cert-only"}} {
				r := testlab.RunMeasured(t, append([]string{binary, "-H", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "2"}, mode...)...)
				first := strings.SplitN(r.Out, "\n", 2)[0]
				if r.Code != 2 || !strings.Contains(first, tc.want) || r.Took > 3*time.Second || r.RSSKiB > 64<<10 {
					t.Errorf("%v: exit %d after %v, %d KiB:\n%s", mode, r.Code, r.Took, r.RSSKiB, r.Out)
				}
			}
		})
	}
}

// 200 certificate checks at once against one TLS listener (what a busy
// Nagios runs every minute), as an unprivileged user: every one OK.
func TestConcurrentRuns(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	cert := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	srv := testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=512,verify=0,cert="+cert, "PIPE")
	caFile := testlab.ReadableCopy(t, ca.Cert)
	runs := testlab.Concurrently(t, 200, testlab.Nobody(), binary, "-H", "127.0.0.1", "-p", fmt.Sprint(srv.Port), "--ca-file", caFile, "--cert-only", "-t", "10")
	testlab.ExpectAll(t, runs, 0, "certificate localhost valid")
}

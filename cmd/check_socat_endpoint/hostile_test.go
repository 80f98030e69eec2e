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

// Peers written to misbehave, plain and TLS: each run ends by its
// deadline + 1 s with the state and stage a user expects, and memory
// stays in its budget however much the peer sends.
func TestHostilePeers(t *testing.T) {
	garbage := make([]byte, 1<<20)
	_, _ = rand.Read(garbage)
	cases := []struct {
		name   string
		args   []string
		behave func(c net.Conn)
		code   int
		want   string
	}{
		{"accepts and never answers", []string{"-s", "ping", "-e", "pong"},
			func(c net.Conn) { _, _ = c.Read(make([]byte, 64)); _, _ = c.Read(make([]byte, 1)) }, 2, "timed out at first byte"},
		{"trickles one byte a second", []string{"-s", "ping", "-e", "pong"}, func(c net.Conn) {
			for {
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
				time.Sleep(time.Second) // the peer's behaviour, not synchronisation
			}
		}, 2, "timed out at expectation"},
		{"100 MB of garbage", []string{"-s", "ping", "-e", "pong"}, func(c net.Conn) {
			for range 100 {
				if _, err := c.Write(garbage); err != nil {
					return
				}
			}
		}, 2, "not found in the first 65536 bytes"},
		{"closes after 10 bytes", []string{"-s", "ping", "-e", "pong"}, func(c net.Conn) {
			// It reads the request first: closing with it unread would
			// reset the connection instead.
			_, _ = c.Read(make([]byte, 64))
			_, _ = c.Write([]byte("0123456789"))
		}, 2, "the peer closed"},
		{"reset in the middle of the response", []string{"-s", "ping", "-e", "pong"}, func(c net.Conn) {
			_, _ = c.Read(make([]byte, 64))
			_, _ = c.Write([]byte("po"))
			testlab.Reset(c)
		}, 2, "failed at expectation: connection reset by peer"},
		{"garbage for a TLS handshake", []string{"--tls", "--insecure"}, func(c net.Conn) {
			for range 100 {
				if _, err := c.Write(garbage); err != nil {
					return
				}
			}
		}, 2, "failed at TLS handshake: the peer does not speak TLS"},
		{"reset during the TLS handshake", []string{"--tls", "--insecure"}, func(c net.Conn) {
			_, _ = c.Read(make([]byte, 4096))
			_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x30, 0x02})
			testlab.Reset(c)
		}, 2, "failed at TLS handshake: connection reset by peer"},
		{"an oversized TLS record", []string{"--tls", "--insecure"}, func(c net.Conn) {
			_, _ = c.Read(make([]byte, 4096))
			_, _ = c.Write(append([]byte{0x16, 0x03, 0x03, 0xff, 0xff}, bytes.Repeat([]byte{0}, 1<<16)...))
		}, 2, "failed at TLS handshake: the peer sent an invalid TLS record: oversized record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := testlab.Hostile(t, tc.behave)
			r := testlab.RunMeasured(t, append([]string{binary, "-H", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "2"}, tc.args...)...)
			first := strings.SplitN(r.Out, "\n", 2)[0]
			if r.Code != tc.code || !strings.Contains(first, tc.want) || r.Took > 3*time.Second || r.RSSKiB > 64<<10 {
				t.Errorf("exit %d after %v, %d KiB:\n%s\nwant exit %d with %q", r.Code, r.Took, r.RSSKiB, r.Out, tc.code, tc.want)
			}
		})
	}
}

// 200 runs at once against one relay, as a busy Nagios would, as the
// unprivileged user it runs checks as: every one answers OK.
func TestConcurrentRuns(t *testing.T) {
	echo := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=512", "EXEC:cat")
	relay := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=512", "TCP:"+echo.Addr())
	runs := testlab.Concurrently(t, 200, testlab.Nobody(), binary, "-H", "127.0.0.1", "-p", fmt.Sprint(relay.Port), "-s", "ping", "-e", "ping", "-t", "10")
	testlab.ExpectAll(t, runs, 0, "1 of 1 expectations met")
}

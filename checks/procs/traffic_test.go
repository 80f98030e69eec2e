package procs

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/capture"
	"github.com/check-socat/check-socat/internal/socatcmd"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// tlsServerHello is the start of a server's flight: a handshake record
// holding a ServerHello of that version (no extensions).
func tlsServerHello(minor byte) []byte {
	return []byte{22, 3, minor, 0, 6, 2, 0, 0, 2, 3, minor}
}

var httpRequest = []byte("GET /private HTTP/1.1\r\nHost: backend\r\nAuthorization: Basic c2VjcmV0\r\n\r\n")

// The judgement of a sample, flow by flow: which leg, which class,
// which finding, and what the output says.
func TestJudgeTraffic(t *testing.T) {
	target := &trafficTarget{inst: "8080", where: "pid 7 :8080", pid: 7, port: 8080,
		front: []legEnd{{proto: "tcp", addr: netip.MustParseAddr("0.0.0.0"), port: 8080}, {proto: "udp", addr: netip.MustParseAddr("192.0.2.2"), port: 5300}, {proto: "udp", port: 5300}},
		back: []legEnd{{proto: "tcp", addr: netip.MustParseAddr("198.51.100.9"), port: 80}, {proto: "tcp", addr: netip.MustParseAddr("198.51.100.9"), port: 8080},
			{proto: "tcp", addr: netip.MustParseAddr("127.0.0.1"), port: 6379}}}
	// The namespace's own addresses.
	local := map[netip.Addr]bool{netip.MustParseAddr("192.0.2.2"): true, netip.MustParseAddr("127.0.0.1"): true}
	tests := []struct {
		name     string
		flows    []*capture.Flow
		findings []string // ID and the start of the reason
		details  []string
		buckets  map[string]int
	}{
		{
			name:     "HTTP with a secret from another host: the front leg, masked",
			flows:    []*capture.Flow{{Proto: "tcp", Client: ap("203.0.113.5:40000"), Server: ap("192.0.2.2:8080"), ClientBytes: httpRequest, Bytes: 70, Started: true}},
			findings: []string{`plaintext-in-transit the front leg from 203.0.113.5 carries HTTP in clear (1 connection, 70 B): GET /private HTTP/1.1\r\nHost: backend\r\nAuthorization: ***`},
			buckets:  map[string]int{"plaintext": 1},
		},
		{
			name: "the back leg to the backend the command line names; the client's bytes are the better evidence",
			flows: []*capture.Flow{
				{Proto: "tcp", Client: ap("192.0.2.2:50000"), Server: ap("198.51.100.9:80"), ServerBytes: []byte("HTTP/1.0 200 OK\r\n\r\n"), Bytes: 19},
				{Proto: "tcp", Client: ap("192.0.2.2:50002"), Server: ap("198.51.100.9:80"), ClientBytes: httpRequest, Bytes: 70, Started: true},
			},
			findings: []string{`plaintext-in-transit the back leg to 198.51.100.9:80 carries HTTP in clear (2 connections, 89 B): GET /private`},
			details:  []string{"connection tcp 192.0.2.2:50000 -> 198.51.100.9:80 (back, from its middle): HTTP in clear, 19 B"},
			buckets:  map[string]int{"plaintext": 2},
		},
		{
			name:    "plaintext to a loopback backend: reported, not alerted",
			flows:   []*capture.Flow{{Proto: "tcp", Client: ap("127.0.0.1:50000"), Server: ap("127.0.0.1:6379"), ClientBytes: []byte("*1\r\n$4\r\nPING\r\n"), Bytes: 14, Loopback: true, Started: true}},
			details: []string{"back leg to 127.0.0.1:6379: Redis in clear (1 connection, 14 B); on loopback, not alerted"},
			buckets: map[string]int{"plaintext": 1},
		},
		{
			name:    "the host's own address over the loopback device: never left the host",
			flows:   []*capture.Flow{{Proto: "tcp", Client: ap("192.0.2.2:40000"), Server: ap("192.0.2.2:8080"), ClientBytes: httpRequest, Bytes: 70, Loopback: true, Started: true}},
			details: []string{"front leg from 192.0.2.2: HTTP in clear (1 connection, 70 B); on loopback, not alerted"},
			buckets: map[string]int{"plaintext": 1},
		},
		{
			name: "TLS 1.0 selected by the server: weak, whatever the client offered",
			flows: []*capture.Flow{{Proto: "tcp", Client: ap("203.0.113.5:40000"), Server: ap("192.0.2.2:8080"),
				ClientBytes: []byte{22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3}, ServerBytes: tlsServerHello(1), Bytes: 22, Started: true}},
			findings: []string{"weak-tls-in-transit the front leg from 203.0.113.5 negotiates TLS1.0 (1 connection, 22 B)"},
			buckets:  map[string]int{"tls": 1},
		},
		{
			name:    "TLS 1.2 both ways: clean",
			flows:   []*capture.Flow{{Proto: "tcp", Client: ap("192.0.2.2:50000"), Server: ap("198.51.100.9:80"), ServerBytes: tlsServerHello(3), Bytes: 11}},
			details: []string{"back leg to 198.51.100.9:80: TLS1.2 (1 connection, 11 B)"},
			buckets: map[string]int{"tls": 1},
		},
		{
			name:    "SSH and a connection without payload: neither alerts",
			flows:   []*capture.Flow{{Proto: "tcp", Client: ap("203.0.113.5:40000"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("SSH-2.0-OpenSSH_9.6\r\n"), Bytes: 21}, {Proto: "tcp", Client: ap("203.0.113.6:40000"), Server: ap("192.0.2.2:8080"), Started: true}},
			details: []string{"front leg from 203.0.113.5: SSH (1 connection, 21 B)", "front leg from 203.0.113.6: no payload (1 connection, 0 B)"},
			buckets: map[string]int{"ssh": 1, "idle": 1},
		},
		{
			name:     "UDP: DTLS is encrypted, a DNS query is binary plaintext; a bound listener takes only its address",
			flows:    []*capture.Flow{{Proto: "udp", Client: ap("203.0.113.5:5000"), Server: ap("192.0.2.2:5300"), ClientBytes: []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1}, Bytes: 14}, {Proto: "udp", Client: ap("203.0.113.6:5000"), Server: ap("192.0.2.2:5300"), ClientBytes: []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}, Bytes: 29}, {Proto: "udp", Client: ap("203.0.113.7:5000"), Server: ap("192.0.2.3:5300"), ClientBytes: []byte("hello"), Bytes: 5}},
			findings: []string{"plaintext-in-transit the front leg from 203.0.113.6 carries binary in clear (1 connection, 29 B)"},
			details:  []string{"front leg from 203.0.113.5: DTLS1.2 (1 connection, 14 B)"},
			buckets:  map[string]int{"tls": 1, "plaintext": 1},
		},
		{
			name:    "another program's connection on a port of the filter is not the instance's",
			flows:   []*capture.Flow{{Proto: "tcp", Client: ap("192.0.2.2:8080"), Server: ap("203.0.113.5:443"), ClientBytes: httpRequest, Bytes: 70}, {Proto: "tcp", Client: ap("192.0.2.2:50000"), Server: ap("198.51.100.10:80"), ClientBytes: httpRequest, Bytes: 70}},
			details: []string{"no connection in the 2s sample"},
			buckets: map[string]int{},
		},
		{
			name: "a wildcard listener is not charged with what the host forwards, nor with its own outbound connections to that port",
			flows: []*capture.Flow{
				{Proto: "tcp", Client: ap("172.17.0.2:40000"), Server: ap("172.17.0.3:8080"), ClientBytes: httpRequest, Bytes: 70, Started: true},
				{Proto: "tcp", Client: ap("192.0.2.2:40000"), Server: ap("203.0.113.9:8080"), ClientBytes: httpRequest, Bytes: 70, Started: true},
			},
			details: []string{"no connection in the 2s sample"},
			buckets: map[string]int{},
		},
		{
			name:     "a backend on the listener's own port is the back leg",
			flows:    []*capture.Flow{{Proto: "tcp", Client: ap("192.0.2.2:40000"), Server: ap("198.51.100.9:8080"), ClientBytes: httpRequest, Bytes: 70, Started: true}},
			findings: []string{"plaintext-in-transit the back leg to 198.51.100.9:8080 carries HTTP in clear"},
			buckets:  map[string]int{"plaintext": 1},
		},
		{
			name:     "a multicast receiver's datagrams are its front leg",
			flows:    []*capture.Flow{{Proto: "udp", Client: ap("203.0.113.5:5000"), Server: ap("239.1.2.3:5300"), ClientBytes: []byte("plain words in a multicast datagram"), Bytes: 35, Started: true}},
			findings: []string{"plaintext-in-transit the front leg from 203.0.113.5 carries text in clear"},
			buckets:  map[string]int{"plaintext": 1},
		},
		{
			name: "many peers: three named, the rest counted",
			flows: []*capture.Flow{
				{Proto: "tcp", Client: ap("203.0.113.1:1"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
				{Proto: "tcp", Client: ap("203.0.113.2:1"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
				{Proto: "tcp", Client: ap("203.0.113.3:1"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
				{Proto: "tcp", Client: ap("203.0.113.3:2"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
				{Proto: "tcp", Client: ap("203.0.113.4:1"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
				{Proto: "tcp", Client: ap("203.0.113.5:1"), Server: ap("192.0.2.2:8080"), ClientBytes: []byte("hello there\n"), Started: true},
			},
			findings: []string{"plaintext-in-transit the front leg from 203.0.113.1, 203.0.113.2, 203.0.113.3 (+2 more) carries text in clear (6 connections, 0 B): hello there"},
			buckets:  map[string]int{"plaintext": 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := judgeTraffic(target, tt.flows, local)
			var got []string
			for _, f := range r.findings() {
				got = append(got, f.ID+" "+f.Reason)
				if f.State != DefaultState(f.ID) || f.Where != target.where || f.PID != 7 || f.Port != 8080 {
					t.Errorf("finding %+v", f)
				}
				if strings.Contains(f.Reason, "c2VjcmV0") {
					t.Errorf("the secret is in %q", f.Reason)
				}
			}
			if len(got) != len(tt.findings) {
				t.Fatalf("findings %q, want %q", got, tt.findings)
			}
			for i, w := range tt.findings {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("finding %q, want it to start %q", got[i], w)
				}
			}
			details := strings.Join(r.details(2*time.Second, 2), "\n")
			for _, w := range tt.details {
				if !strings.Contains(details, w) {
					t.Errorf("no %q in the details:\n%s", w, details)
				}
			}
			for _, b := range trafficBuckets {
				if r.conns[b] != tt.buckets[b] {
					t.Errorf("%s connections %d, want %d", b, r.conns[b], tt.buckets[b])
				}
			}
		})
	}
}

// The legs of an instance come from its sockets and its command line.
func TestLegEnds(t *testing.T) {
	for _, tt := range []struct {
		cmd   string
		back  []string // proto addr port
		notes int
	}{
		{"socat TCP-LISTEN:8080,fork TCP:198.51.100.9:80", []string{"tcp 198.51.100.9 80"}, 0},
		{"socat OPENSSL-LISTEN:443,cert=c.pem,fork TCP4:[2001:db8::1]:https", []string{"tcp 2001:db8::1 443"}, 0},
		{"socat UDP4-LISTEN:53,fork UDP4:127.0.0.1:5353", []string{"udp 127.0.0.1 5353"}, 0},
		{"socat TCP-LISTEN:8080,fork PROXY:192.0.2.7:backend:443,proxyport=3128", []string{"tcp 192.0.2.7 3128"}, 0},
		{"socat TCP-LISTEN:8080,fork TCP:no-such-host.invalid:80", []string{"tcp invalid IP 80"}, 1},
		{"socat TCP-LISTEN:8080,fork TCP:198.51.100.9:no-such-service", nil, 1},
		{"socat UNIX-LISTEN:/run/x.sock,fork UNIX-CONNECT:/run/docker.sock", nil, 0},
	} {
		c, err := socatcmd.ParseCommandLine(tt.cmd)
		if err != nil {
			t.Fatalf("%s: %v", tt.cmd, err)
		}
		ends, notes := backEnds(context.Background(), c, "pid 1")
		var got []string
		for _, e := range ends {
			got = append(got, e.proto+" "+e.addr.String()+" "+strconv.Itoa(int(e.port)))
		}
		if strings.Join(got, ",") != strings.Join(tt.back, ",") || len(notes) != tt.notes {
			t.Errorf("%s: back %q notes %q, want %q and %d notes", tt.cmd, got, notes, tt.back, tt.notes)
		}
	}
	c, _ := socatcmd.ParseCommandLine("socat TCP-LISTEN:8080,bind=192.0.2.2,fork TCP:198.51.100.9:80")
	l := &live{cmd: c, listens: []netip.AddrPort{ap("192.0.2.2:8080")}}
	front := frontEnds(l)
	if len(front) != 1 || !front[0].matches("tcp", ap("192.0.2.2:8080")) || front[0].matches("tcp", ap("192.0.2.3:8080")) || front[0].matches("udp", ap("192.0.2.2:8080")) {
		t.Errorf("front %+v", front)
	}
}

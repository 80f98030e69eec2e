package tlsscan

import (
	"context"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// sslscanView is what sslscan reports: enabled protocols and the number
// of accepted (version, suite) pairs per version.
func sslscanView(t *testing.T, addr string, extra ...string) (map[string]bool, map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--no-colour", "--no-heartbleed", "--no-renegotiation", "--no-compression", "--no-fallback"}, extra...)
	out, err := exec.CommandContext(ctx, "sslscan", append(args, addr)...).Output()
	if err != nil {
		t.Fatalf("sslscan %s: %v\n%s", addr, err, out)
	}
	protocols := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^(SSLv2|SSLv3|TLSv1\.[0-3])\s+enabled`).FindAllStringSubmatch(string(out), -1) {
		protocols[m[1]] = true
	}
	pairs := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(?:Accepted|Preferred)\s+(\S+)`).FindAllStringSubmatch(string(out), -1) {
		pairs[m[1]]++
	}
	return protocols, pairs
}

func sslscanName(v uint16) string {
	return strings.Replace(strings.Replace(tlswire.VersionName(v), "TLS", "TLSv", 1), "SSLv", "SSLv", 1)
}

// The scanner sees exactly what sslscan sees, on socat listeners with
// the default, a TLS 1.2-only and a legacy configuration.
func TestScanAgainstSSLScan(t *testing.T) {
	testlab.Need(t, "socat", "sslscan")
	pki := testlab.NewPKI(t)
	rsa := testlab.RSACert(t, 2048)
	configs := map[string]string{
		"default":  "verify=0,cert=" + pki.ServerCert,
		"tls12":    "verify=0,cert=" + rsa + ",openssl-min-proto-version=TLS1.2,openssl-max-proto-version=TLS1.2",
		"legacy":   "verify=0,cert=" + rsa + ",cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1",
		"mtls-rsa": "cert=" + rsa + ",cafile=" + pki.CA,
	}
	// sslscan completes each handshake: against a listener that demands
	// a client certificate it needs one, or it lists no TLS 1.2 suite. The
	// scanner stops at the ServerHello and needs none.
	sslscanArgs := map[string][]string{"mtls-rsa": {"--certs=" + pki.ClientCert, "--pk=" + pki.ClientKey}}
	for name, opts := range configs {
		t.Run(name, func(t *testing.T) {
			srv := testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,"+opts, "PIPE")
			dial := func(ctx context.Context) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", srv.Addr())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res := Scan(ctx, dial, "", 6)
			if len(res.Errors) > 0 {
				t.Errorf("errors: %v", res.Errors)
			}
			wantProtocols, wantPairs := sslscanView(t, srv.Addr(), sslscanArgs[name]...)
			for _, v := range []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13} {
				n := sslscanName(v)
				if res.Protocols[v] != wantProtocols[n] {
					t.Errorf("%s: accepted %v, sslscan says %v", n, res.Protocols[v], wantProtocols[n])
				}
				if got := len(res.Suites[v]); got != wantPairs[n] {
					var names []string
					for _, c := range res.Suites[v] {
						names = append(names, tlswire.Suites().ByCode(c).Name)
					}
					t.Errorf("%s: %d suites, sslscan lists %d: %v", n, got, wantPairs[n], names)
				}
			}
			t.Logf("%s: %v in %s", name, countPairs(res), res.Elapsed)
		})
	}
}

func countPairs(r *Result) int {
	n := 0
	for _, s := range r.Suites {
		n += len(s)
	}
	return n
}

func TestChunks(t *testing.T) {
	seq := func(n int) []uint16 {
		out := make([]uint16, n)
		for i := range out {
			out[i] = uint16(i + 1)
		}
		return out
	}
	tests := []struct {
		n, parallel, wantChunks int
	}{
		{0, 4, 1}, {5, 4, 1}, {16, 4, 1}, {32, 4, 2}, {336, 4, 4}, {336, 1, 1},
	}
	for _, tt := range tests {
		got := chunks(seq(tt.n), tt.parallel)
		if len(got) != tt.wantChunks {
			t.Errorf("chunks(%d suites, %d): %d chunks, want %d", tt.n, tt.parallel, len(got), tt.wantChunks)
		}
		seen := map[uint16]int{}
		for _, c := range got {
			for _, s := range c {
				seen[s]++
			}
		}
		for _, s := range seq(tt.n) {
			if seen[s] != 1 {
				t.Errorf("chunks(%d, %d): suite %d dealt %d times", tt.n, tt.parallel, s, seen[s])
			}
		}
	}
}

// The limited dialer never has more than n connections open.
func TestLimitBoundsConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dial := Limit(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}, 2)
	a, err := dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c, err := dial(ctx); err == nil {
		c.Close()
		t.Fatal("a third connection opened while two were open")
	}
	a.Close()
	a.Close() // a second Close must not free a second slot
	c, err := dial(context.Background())
	if err != nil {
		t.Fatalf("no slot after a Close: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if d, err := dial(ctx2); err == nil {
		d.Close()
		t.Fatal("a double Close freed two slots")
	}
	b.Close()
	c.Close()
}

// A version whose first probe never gets an answer (a middlebox that
// holds an SSLv2 hello) does not hold the rest of the scan: the other
// versions are enumerated in full, and only SSLv2 ends at the deadline.
// (The review of issue 16: the scan waited for every first probe.)
func TestSilentVersionDoesNotHoldTheScan(t *testing.T) {
	testlab.Need(t, "socat")
	rsa := testlab.RSACert(t, 2048)
	srv := testlab.StartEnv(t, []string{testlab.LegacyOpenSSLConf(t)}, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+rsa+",cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1", "PIPE")
	direct := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	want := Scan(ctx, direct, "", 4)
	cancel()
	// The proxy: an SSLv2 hello (first byte with the high bit set) gets
	// silence; anything else goes to socat.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				first := make([]byte, 1)
				if _, err := io.ReadFull(c, first); err != nil || first[0]&0x80 != 0 {
					_, _ = io.Copy(io.Discard, c) // hold it until the client gives up
					return
				}
				up, err := net.Dial("tcp", srv.Addr())
				if err != nil {
					return
				}
				defer up.Close()
				_, _ = up.Write(first)
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	viaProxy := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := Scan(ctx, viaProxy, "", 4)
	if countPairs(got) != countPairs(want) || countPairs(want) < 50 {
		t.Errorf("behind the proxy %d pairs, directly %d", countPairs(got), countPairs(want))
	}
	for v, err := range got.Errors {
		if v != tlswire.VersionSSL2 {
			t.Errorf("%s: %v (only SSLv2 should end at the deadline)", tlswire.VersionName(v), err)
		}
	}
}

package tlscheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/oracles"
	"github.com/check-socat/check-socat/internal/testlab"
)

// testssl.sh's view of an endpoint (a second oracle next to sslscan):
// enabled protocols and accepted (protocol, suite) pairs. It runs only -p
// and -E (see oracles.TestsslArgs: its -e lists each suite once whatever
// the protocol, -E per protocol, which is what ciphers_accepted counts)
// and reads its JSON findings. The per-protocol pairs are logged.
func testssl(t *testing.T, addr string, extra ...string) (protocols, pairs int) {
	t.Helper()
	v := testsslView(t, addr, extra...)
	var per []string
	for _, ver := range oracles.Versions {
		if v.Protocols[ver] {
			per = append(per, fmt.Sprintf("%s %d", ver, v.PairsOf(ver)))
		}
	}
	t.Logf("testssl %s: %s", addr, strings.Join(per, ", "))
	return v.Counts()
}

func testsslView(t *testing.T, addr string, extra ...string) oracles.View {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(t.TempDir(), "testssl.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "testssl", oracles.TestsslArgs(jsonFile, openssl, addr, extra...)...)
	cmd.Env = append(os.Environ(), oracles.TestsslEnv...)
	// testssl.sh is a shell script that runs openssl and dd children: its
	// process group goes at the deadline, and whatever it left behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatalf("testssl (%v) wrote no JSON: %v\n%s", runErr, err, out)
	}
	// Its exit code is not a verdict on the run (1 after a -p run that
	// found TLS 1.0): its JSON is.
	v, err := oracles.ParseTestssl(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return v
}

// The protocols and (protocol, suite) pairs check_socat_tls counts equal
// what testssl.sh finds, and what sslscan finds, on three socat listeners
// (parallel subtests); where an oracle is known to see otherwise the test
// says which one, why, and the exact counts it must then report, so that
// the test fails when the difference goes away as well. testssl takes 30
// to 60 s an endpoint even on these small ones (a shell script forking
// awk, sed and openssl hundreds of times; about 80 s for the three on two
// CPUs), so the endpoints are few and their suite lists short; make
// oracles compares the three scanners on 20 servers.
func TestTestsslOracle(t *testing.T) {
	testlab.Need(t, "socat", "openssl", "sslscan")
	if _, err := exec.LookPath("testssl"); err != nil {
		t.Skip("testssl is not installed (apt-get install testssl.sh): the second oracle is optional")
	}
	start := time.Now()
	t.Cleanup(func() {
		t.Logf("wall time of the three endpoints (up to -parallel at once): %.1f s", time.Since(start).Seconds())
	})
	ca := testlab.NewOpenSSLCA(t)
	san := "DNS:localhost,IP:127.0.0.1"
	same := func(ours oracles.View) (int, int) { return ours.Counts() }
	rsa := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: san})
	cases := []struct {
		name string
		cert string
		opts string // socat options after cert=
		// What each oracle must report, from check_socat_tls's own view:
		// the same counts, unless a known difference is written here.
		sslscan, testssl func(ours oracles.View) (protocols, pairs int)
		// The protocols and pairs check_socat_tls must find (guarding the
		// known differences against an empty scan).
		wantProtocols, wantPairs int
	}{
		// socat's defaults (TLS 1.2 and 1.3, OpenSSL's DEFAULT list) with
		// an ECDSA P-256 key: 15 TLS 1.2 ECDHE-ECDSA suites (AES-GCM,
		// AES-CBC, CCM, CCM8, Camellia, ARIA, ChaCha) and 3 TLS 1.3 ones.
		// (An RSA key doubles that and testssl's time with it: make
		// oracles scans that one, and 17 other servers.)
		{name: "default listener", cert: testlab.SelfSigned(t, "localhost", []string{"localhost"}), opts: ",verify=0",
			sslscan: same, testssl: same, wantProtocols: 2, wantPairs: 18},
		// TLS 1.0 to 1.3 where the only suites below TLS 1.3 are NULL
		// (with an MD5 MAC) and anonymous (DH, and ECDH with NULL).
		// Known difference: testssl.sh 3.0.8 finds neither TLS 1.0 nor
		// 1.1, and so none of their 6 pairs. Its -p probe of those
		// versions (its own sockets) offers the 76 suites of TLS_CIPHER
		// in /etc/testssl/tls_data.txt, which has no NULL and no
		// anonymous suite; the server refuses it, testssl says "not
		// offered", and -E then skips the versions -p found not offered.
		// (Its TLS 1.2 probe retries with longer lists, which have them.)
		// It is wrong: openssl s_client -tls1 -cipher
		// 'ADH-AES128-SHA:@SECLEVEL=0' negotiates each of the three, and
		// sslscan agrees with us. With one ordinary suite added
		// (AES128-SHA) testssl sees TLS 1.0 and 1.1 and every pair of
		// them (make oracles' socat-legacy).
		{name: "NULL and anonymous suites only", cert: rsa, opts: ",verify=0,cipher=NULL-MD5:ADH-AES128-SHA:AECDH-NULL-SHA:@SECLEVEL=0,min-version=TLS1",
			sslscan: same,
			testssl: func(ours oracles.View) (int, int) {
				return len(ours.Protocols) - 2, len(ours.Pairs) - ours.PairsOf("TLS1.0") - ours.PairsOf("TLS1.1")
			},
			wantProtocols: 4, wantPairs: 12},
		// verify=1 and nobody presents a client certificate. A suite
		// counts when the server chooses it in its ServerHello; check_socat_tls
		// and testssl (its sockets read the ServerHello) count the two
		// TLS 1.2 ones. Known difference: sslscan counts a suite only
		// when OpenSSL's SSL_connect completes, and in TLS 1.2 the server
		// aborts the handshake for the missing certificate before that
		// (TLS 1.3 completes it first and refuses afterwards): it finds
		// TLS 1.2 enabled (its own hello probe) but none of its suites.
		// TestCertificatesAndSSLScan gives sslscan a client certificate
		// (--certs/--pk) for that reason.
		{name: "verify=1 listener, no client certificate", cert: rsa, opts: ",verify=1,cafile=" + ca.Cert + ",cipher=ECDHE+AESGCM",
			sslscan: func(ours oracles.View) (int, int) { return len(ours.Protocols), ours.PairsOf("TLS1.3") },
			testssl: same, wantProtocols: 2, wantPairs: 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testlab.Start(t, tlsListen+",cert="+tc.cert+tc.opts, "PIPE")
			cfg := baseConfig(srv.Port)
			cfg.CAFile, cfg.InsecureChain = ca.Cert, true
			r := audit(t, 30*time.Second, cfg, func(e *checks.Env) { e.Verbose = 1 })
			ours, err := oracles.OursFromDetails(r.Details)
			if err != nil {
				t.Fatalf("%v:\n%s", err, dump(r))
			}
			gotProtocols, _ := perfValue(r, "protocols_accepted")
			gotPairs, _ := perfValue(r, "ciphers_accepted")
			if p, s := ours.Counts(); int(gotProtocols) != p || int(gotPairs) != s || p != tc.wantProtocols || s != tc.wantPairs {
				t.Fatalf("protocols_accepted %v, ciphers_accepted %v, the details %d and %d; want %d and %d:\n%s",
					gotProtocols, gotPairs, p, s, tc.wantProtocols, tc.wantPairs, dump(r))
			}
			sslP, sslS := sslscan(t, srv.Addr())
			if p, s := tc.sslscan(ours); sslP != p || sslS != s {
				t.Errorf("sslscan says %d protocols and %d pairs, want %d and %d (check_socat_tls: %d and %d)", sslP, sslS, p, s, int(gotProtocols), int(gotPairs))
			}
			tsP, tsS := testssl(t, srv.Addr())
			if p, s := tc.testssl(ours); tsP != p || tsS != s {
				t.Errorf("testssl says %d protocols and %d pairs, want %d and %d (check_socat_tls: %d and %d)", tsP, tsS, p, s, int(gotProtocols), int(gotPairs))
			}
		})
	}
}

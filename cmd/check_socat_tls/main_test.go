package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/flags/flagstest"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/testlab"
)

var binary string

func TestMain(m *testing.M) { testlab.MainWithBinary(m, "check_socat_tls", &binary) }

type result struct {
	code int
	out  string
	took time.Duration
}

func (r result) first() string { return strings.SplitN(r.out, "\n", 2)[0] }

func run(t *testing.T, args ...string) result {
	t.Helper()
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{}, args...)
	return result{code: r.Code, out: r.Out, took: r.Took}
}

func TestEveryFlagHasHelp(t *testing.T) {
	missing, stale, err := plugin.MissingHelp(&cli{}, help)
	if err != nil || len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("missing help: %v; help for no flag: %v; %v", missing, stale, err)
	}
}

func TestFileMode(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	good := ca.Issue(t, testlab.Leaf{CN: "relay.example", SAN: "DNS:relay.example"})
	r := run(t, "--cert-file", good, "--ca-file", ca.Cert, "--hostname", "relay.example")
	if r.code != 0 || !strings.HasPrefix(r.first(), "OK: file "+good+": certificate relay.example valid") ||
		!strings.Contains(r.first(), "chain_length=1;;;0; key_bits=2048;;;0;") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// The same file readable by everyone.
	if err := os.Chmod(good, 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--cert-file", good, "--ca-file", ca.Cert)
	if r.code != 2 || !strings.Contains(r.out, "holds a private key and is readable by group and others (mode 0644)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// A separate key file does not hide the key in the exposed
	// certificate file.
	keyFile := filepath.Join(t.TempDir(), "relay.key")
	if out, err := exec.Command("openssl", "pkey", "-in", good, "-out", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkey: %v\n%s", err, out)
	}
	r = run(t, "--cert-file", good, "--key-file", keyFile, "--ca-file", ca.Cert)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL: --cert-file "+good+" holds a private key and is readable by group and others (mode 0644)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// socat's cert=X,key=X: one file, one problem.
	r = run(t, "--cert-file", good, "--key-file", good, "--ca-file", ca.Cert)
	if n := strings.Count(r.out, "holds a private key"); r.code != 2 || n != 2 { // the summary and one long-output line
		t.Errorf("the same file twice: %d mentions, exit %d:\n%s", n, r.code, r.out)
	}
	if err := os.Chmod(good, 0o600); err != nil {
		t.Fatal(err)
	}
	// A key that belongs to another certificate.
	other := ca.Issue(t, testlab.Leaf{CN: "other"})
	r = run(t, "--cert-file", good, "--key-file", other, "--ca-file", ca.Cert)
	if r.code != 2 || !strings.Contains(r.out, "the private key in --key-file does not match the certificate relay.example") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// Readable by its group only.
	if err := os.Chmod(good, 0o640); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--cert-file", good, "--ca-file", ca.Cert)
	if r.code != 2 || !strings.Contains(r.out, "holds a private key and is readable by its group (mode 0640)") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	if err := os.Chmod(good, 0o600); err != nil {
		t.Fatal(err)
	}
	// An encrypted key readable by everyone: exposed all the same, and
	// socat would ask for its passphrase on a terminal.
	dir := t.TempDir()
	plain, enc := filepath.Join(dir, "plain.key"), filepath.Join(dir, "enc.key")
	for _, args := range [][]string{
		{"openssl", "pkey", "-in", good, "-out", plain},
		{"openssl", "pkcs8", "-topk8", "-in", plain, "-passout", "pass:secret", "-out", enc},
		{"chmod", "644", enc},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	r = run(t, "--cert-file", good, "--key-file", enc, "--ca-file", ca.Cert)
	if r.code != 2 || !strings.Contains(r.out, "CRITICAL: --key-file "+enc+" holds a private key and is readable by group and others (mode 0644)") ||
		!strings.Contains(r.out, "WARNING: the private key in --key-file is encrypted") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	// A key owned by another user than the certificate (and not root).
	if os.Geteuid() == 0 {
		if err := os.Chmod(plain, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(plain, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		r = run(t, "--cert-file", good, "--key-file", plain, "--ca-file", ca.Cert)
		if r.code != 1 || !strings.Contains(r.out, "WARNING: --key-file "+plain+" is owned by") ||
			!strings.Contains(r.out, "not by the owner of the certificate") {
			t.Errorf("exit %d:\n%s", r.code, r.out)
		}
	}
	// A chain that ends in a root signing itself with SHA-1, as many
	// long-lived roots do: harmless (only the leaf's and intermediates'
	// signatures count), and the root's dates are not the chain's.
	sha1CA := testlab.NewOpenSSLCADigest(t, "sha1")
	leaf := sha1CA.Issue(t, testlab.Leaf{CN: "relay.example", SAN: "DNS:relay.example"})
	withRoot := filepath.Join(dir, "with-root.pem")
	for _, part := range []string{leaf, sha1CA.Cert} {
		data, err := os.ReadFile(part)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(withRoot, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write(data)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	r = run(t, "--cert-file", withRoot, "--ca-file", sha1CA.Cert, "--hostname", "relay.example")
	if r.code != 0 || !strings.Contains(r.first(), "days_left=36") || !strings.Contains(r.first(), "chain_length=2;;;0;") {
		t.Errorf("a SHA-1 self-signed root in the chain: exit %d:\n%s", r.code, r.out)
	}
	// A self-signed SHA-1 certificate that is no CA (CA:FALSE) after the
	// leaf is not a root: its signature and its dates count.
	notCA := filepath.Join(dir, "notca")
	if out, err := exec.Command("openssl", "req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", notCA+".key", "-out", notCA+".crt",
		"-subj", "/CN=old sha1", "-days", "3", "-addext", "basicConstraints=critical,CA:FALSE").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	withNotCA := filepath.Join(dir, "with-notca.pem")
	leafData, _ := os.ReadFile(leaf)
	notCAData, _ := os.ReadFile(notCA + ".crt")
	if err := os.WriteFile(withNotCA, append(leafData, notCAData...), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "--cert-file", withNotCA, "--ca-file", sha1CA.Cert, "--hostname", "relay.example")
	if r.code != 2 || !strings.Contains(r.out, "certificate old sha1 is signed with SHA1-RSA") || !strings.Contains(r.out, "intermediate old sha1 expires in") {
		t.Errorf("a SHA-1 self-signed non-CA in the chain: exit %d:\n%s", r.code, r.out)
	}
	// Name check in file mode.
	r = run(t, "--cert-file", good, "--ca-file", ca.Cert, "--hostname", "wrong.example", "--insecure-chain")
	if r.code != 1 || !strings.Contains(r.out, "WARNING: the certificate is not valid for wrong.example: it names relay.example") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
}

func TestLiveOutputAndDeadline(t *testing.T) {
	ca := testlab.NewOpenSSLCA(t)
	cert := ca.Issue(t, testlab.Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	srv := testlab.Start(t, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+cert, "PIPE")
	r := run(t, "-H", "127.0.0.1", "-p", fmt.Sprint(srv.Port), "--ca-file", ca.Cert, "-w", "1", "-c", "2")
	if r.code != 0 || !strings.HasPrefix(r.first(), fmt.Sprintf("OK: tls://127.0.0.1:%d TLS1.3, certificate localhost valid", srv.Port)) ||
		!strings.Contains(r.first(), "handshake_time=") || !strings.Contains(r.first(), ";1;2;0;") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = run(t, "-H", "127.0.0.1", "-p", fmt.Sprint(srv.Port), "--ca-file", ca.Cert, "--cert-only")
	if r.code != 0 || strings.Contains(r.first(), "ciphers_accepted") {
		t.Errorf("--cert-only enumerated:\n%s", r.out)
	}
	// A name that cannot resolve (RFC 6761 reserves .invalid) is said as such.
	r = run(t, "-H", "no-such-host.invalid", "-p", "443", "-t", "3")
	if r.code != 2 || !strings.Contains(r.first(), "no-such-host.invalid does not resolve") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	silent := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:"+testlab.Script(t, t.TempDir(), "silent", "exec sleep 600"))
	r = run(t, "-H", "127.0.0.1", "-p", fmt.Sprint(silent.Port), "-t", "1")
	if r.code != 2 || !strings.Contains(r.first(), "timed out at stage TLS handshake") || r.took > 2*time.Second {
		t.Errorf("exit %d after %v:\n%s", r.code, r.took, r.out)
	}
}

// Every flag given a bad value, and every bad file: exit 3, one line.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCert := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(badCert, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyOnly := filepath.Join(dir, "key.pem")
	ca := testlab.NewOpenSSLCA(t)
	leaf := ca.Issue(t, testlab.Leaf{CN: "x"})
	data, _ := os.ReadFile(leaf)
	_ = os.WriteFile(keyOnly, data[strings.Index(string(data), "-----BEGIN PRIVATE KEY"):], 0o600)
	missing := filepath.Join(dir, "missing.pem")
	live := []string{"-H", "127.0.0.1", "-p", "9"}
	with := func(extra ...string) []string { return append(append([]string{}, live...), extra...) }
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{}, "no target"},
		{[]string{"-H", "127.0.0.1"}, "-p/--port"},
		{[]string{"-H", "127.0.0.1", "-p", "x"}, "--port"},
		{with("--hostname", "a name with spaces"), `--hostname "a name with spaces" is not a host name`},
		{with("--sni", "bad;name"), `--sni "bad;name" is not a host name`},
		{[]string{"-p", "443"}, "-H/--host"},
		{[]string{"-H", "[::1]", "-p", "443"}, "-H [::1]: give the IPv6 address without brackets"},
		{[]string{"-H", "socat.example:443", "-p", "443"}, "-H socat.example:443 holds a port"},
		{with("--cert-file", leaf), "--cert-file"},
		{[]string{"--cert-file", missing}, "--cert-file"},
		{[]string{"--cert-file", notPEM}, "--cert-file"},
		{[]string{"--cert-file", badCert}, "--cert-file"},
		{[]string{"--cert-file", keyOnly}, "--cert-file"},
		{[]string{"--cert-file", leaf, "--key-file", missing}, "--key-file"},
		{[]string{"--cert-file", leaf, "--key-file", ca.Cert}, "--key-file"},
		{[]string{"--key-file", keyOnly}, "--key-file"},
		{with("--ca-file", missing), "--ca-file"},
		{with("--ca-file", notPEM), "--ca-file"},
		{with("--ca-file", "/dev/zero"), "cannot read --ca-file /dev/zero: not a regular file"},
		{[]string{"--cert-file", "/dev/zero"}, "cannot read --cert-file /dev/zero: not a regular file"},
		{with("--client-cert", "/dev/zero"), "cannot read --client-cert /dev/zero: not a regular file"},
		{with("--client-cert", missing), "--client-cert"},
		{with("--client-cert", notPEM), "--client-cert"},
		{with("--client-key", keyOnly), "--client-key"},
		{with("--warning-days", "soon"), "--warning-days"},
		{with("--critical-days", "-1"), "--critical-days"},
		{with("--critical-days", "40"), "--critical-days"},
		{with("--min-protocol", "SSL3"), "--min-protocol"},
		{with("--cipher-policy", "paranoid"), "--cipher-policy"},
		{with("--allow-cipher", "NOT-A-SUITE"), "--allow-cipher"},
		{with("--min-key-bits", "lots"), "--min-key-bits"},
		{with("--min-key-bits", "99999"), "--min-key-bits"},
		{with("--parallel", "0"), "--parallel"},
		{with("--warning-days", "NaN"), "--warning-days"},
		{with("--critical-days", "Inf"), "--critical-days"},
		{with("--parallel", "64"), "--parallel"},
		{with("-w", "fast"), "--warning"},
		{with("-c", "2:1"), "--critical"},
		{with("--sni"), "--sni"},
		{[]string{"--cert-file", leaf, "--cert-only"}, "--cert-only"},
		{with("-t", "0"), "--timeout"},
	}
	for _, tt := range tests {
		r := run(t, tt.args...)
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if r.code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], "UNKNOWN: ") || !strings.Contains(lines[0], tt.flag) {
			t.Errorf("%v: exit %d, output:\n%s\nwant exit 3 and one UNKNOWN line naming %s", tt.args, r.code, r.out, tt.flag)
		}
	}
}

// The packaged Icinga 2 CheckCommand is what the flags say today (make
// packaging-files regenerates it).
func TestIcinga2CommandIsPackaged(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--icinga2-command"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	testlab.CheckIcinga2Packaged(t, out.Bytes())
}

// SIGTERM (Icinga's and NRPE's own timeout) ends a run with the timeout
// line naming the stage and --timeout-state's code; a low open-file
// limit is exit 3 in words.
func TestRuntimeFaults(t *testing.T) {
	silent := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:"+testlab.Script(t, t.TempDir(), "silent", "exec sleep 600"))
	r := testlab.RunPlugin(t, binary, testlab.PluginOptions{Signal: syscall.SIGTERM,
		When: func(pid int) bool { return testlab.HoldsFile(pid, "socket:") }}, "-H", "127.0.0.1", "-p", fmt.Sprint(silent.Port), "-t", "20")
	if r.Code != 2 || !strings.Contains(r.First(), "check_socat_tls was stopped by SIGTERM after ") || !strings.Contains(r.First(), " at stage ") || r.Err != "" {
		t.Errorf("SIGTERM: exit %d in %v:\n%s\nstderr: %s", r.Code, r.Took, r.Out, r.Err)
	}
	testlab.LowFDLimits(t, binary, "-H", "127.0.0.1", "-p", fmt.Sprint(silent.Port), "-t", "1")
}

// The flags parse as kong parsed them (the binaries used kong until
// start-up time had it replaced): every flag in every form, and the
// mistakes both refuse.
func TestFlagsAgreeWithKong(t *testing.T) {
	newCmd := func() any { return &cli{} }
	vars := program.Options.Vars()
	flagstest.Agree(t, newCmd, vars, flagstest.CommandLines(t, newCmd, vars, flagstest.Samples{"timeout-state": "warning", "max-output": "4096", "critical-days": "3", "min-protocol": "TLS1.3", "cipher-policy": "strict", "min-key-bits": "3072", "parallel": "2", "warning": "-5:-1", "critical": "@0.5:2", "port": "8443", "warning-days": "-1.5", "timeout": "2.5"}))
}

// The manual page describes every finding the check can give (issue 15).
func TestManPageFindings(t *testing.T) {
	var out bytes.Buffer
	if code := program.Main(&cli{}, []string{"--man-page"}, nil, &out, io.Discard); code != 3 {
		t.Fatalf("exit %d", code)
	}
	testlab.CheckManPage(t, out.String(), "../../checks/tlscheck")
}

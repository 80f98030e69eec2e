package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// pki is a private CA (RSA 2048) and the leaves it signed, made with the
// openssl command: each server key type, and a client certificate.
type pki struct {
	ca     string            // CA certificate
	leaves map[string]*leafs // by key type: rsa2048, rsa4096, p256, p384, ed25519, brainpool, rsapss, client
}

// leafs is one certificate: separate files and one with both (socat's
// cert=, stunnel's cert=).
type leafs struct {
	cert, key, both string
}

var keyTypes = []struct {
	name string
	args []string // openssl genpkey
}{
	{"rsa2048", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}},
	{"rsa4096", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"}},
	{"p256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}},
	{"p384", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}},
	{"ed25519", []string{"-algorithm", "ED25519"}},
	{"brainpool", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"}},
	{"rsapss", []string{"-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"}},
	{"client", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}},
}

func makePKI(ctx context.Context, dir string) (*pki, error) {
	run := func(args ...string) error {
		out, err := exec.CommandContext(ctx, "openssl", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	p := &pki{ca: filepath.Join(dir, "ca.pem"), leaves: map[string]*leafs{}}
	caKey := filepath.Join(dir, "ca.key")
	if err := run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", p.ca, "-subj", "/CN=oracles test CA",
		"-days", "2", "-sha256", "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign"); err != nil {
		return nil, err
	}
	for _, kt := range keyTypes {
		l := &leafs{cert: filepath.Join(dir, kt.name+".crt"), key: filepath.Join(dir, kt.name+".key"), both: filepath.Join(dir, kt.name+".pem")}
		ext := filepath.Join(dir, kt.name+".ext")
		exts := "[ext]\nsubjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\nbasicConstraints = critical,CA:false\n"
		cn := "localhost"
		if kt.name == "client" {
			exts, cn = "[ext]\nextendedKeyUsage = clientAuth\nbasicConstraints = critical,CA:false\n", "oracles client"
		}
		if err := os.WriteFile(ext, []byte(exts), 0o600); err != nil {
			return nil, err
		}
		csr := filepath.Join(dir, kt.name+".csr")
		if err := run(append([]string{"genpkey", "-out", l.key}, kt.args...)...); err != nil {
			return nil, err
		}
		if err := run("req", "-new", "-key", l.key, "-subj", "/CN="+cn, "-out", csr); err != nil {
			return nil, err
		}
		if err := run("x509", "-req", "-in", csr, "-CA", p.ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-sha256",
			"-extfile", ext, "-extensions", "ext", "-out", l.cert); err != nil {
			return nil, err
		}
		crt, err := os.ReadFile(l.cert)
		if err != nil {
			return nil, err
		}
		key, err := os.ReadFile(l.key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(l.both, append(crt, key...), 0o600); err != nil {
			return nil, err
		}
		p.leaves[kt.name] = l
	}
	return p, nil
}

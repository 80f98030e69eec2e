package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/check-socat/check-socat/internal/oracles"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// endpoint is one TLS server to compare the scanners on.
type endpoint struct {
	name, desc string
	dir        string // its own temporary directory
	start      func(ctx context.Context) (*server, error)
	// Extra arguments of each scanner (client certificates).
	ours, sslscan, testssl []string
	known                  []oracles.Known
}

const socatListen = "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr"

// legacyConf lowers OpenSSL's security level to 0 for a server process
// (socat loads its certificate before applying cipher=), as
// testlab.LegacyOpenSSLConf does.
func legacyConf(dir string) []string {
	p := filepath.Join(dir, "openssl-legacy.cnf")
	conf := "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nCipherString = DEFAULT@SECLEVEL=0\n"
	_ = os.WriteFile(p, []byte(conf), 0o644)
	return []string{"OPENSSL_CONF=" + p}
}

func endpoints(pki *pki, base string) []*endpoint {
	var eps []*endpoint
	add := func(ep *endpoint) {
		ep.dir = filepath.Join(base, ep.name)
		_ = os.MkdirAll(ep.dir, 0o700)
		eps = append(eps, ep)
	}
	socat := func(name, desc, key, opts string, env func(dir string) []string, known ...oracles.Known) {
		ep := &endpoint{name: name, desc: desc, known: known}
		ep.start = func(context.Context) (*server, error) {
			var e []string
			if env != nil {
				e = env(ep.dir)
			}
			verify := ",verify=0"
			if strings.Contains(opts, "verify=1") {
				verify = ""
			}
			return startSocat(e, socatListen+verify+",cert="+pki.leaves[key].both+opts, "PIPE")
		}
		add(ep)
	}

	socat("socat-rsa2048", "socat, RSA 2048, default settings", "rsa2048", "", nil)
	socat("socat-rsa4096", "socat, RSA 4096, default settings", "rsa4096", "", nil)
	socat("socat-ecdsa-p256", "socat, ECDSA P-256, default settings", "p256", "", nil)
	socat("socat-ecdsa-p384", "socat, ECDSA P-384, default settings", "p384", "", nil)
	socat("socat-ed25519", "socat, Ed25519, default settings", "ed25519", "", nil)
	// A brainpool key: crypto/tls offers no brainpool group and crypto/x509
	// cannot parse the certificate, but our own hellos offer groups 26-28
	// and see TLS 1.2 with its 15 ECDHE-ECDSA suites, as testssl does
	// (check_socat_tls then says UNKNOWN cert-unreadable; it said
	// "no TLS handshake succeeds" and dropped the scan until this was
	// found here). sslscan misses the suites.
	ecdheECDSA12 := func(p oracles.Pair) bool {
		return p.Version == "TLS1.2" && strings.Contains(tlswire.Suites().ByCode(p.Code).Name, "_ECDHE_ECDSA_")
	}
	socat("socat-ecdsa-brainpool", "socat, ECDSA brainpoolP256r1, default settings", "brainpool", "", nil,
		oracles.Known{Oracle: "sslscan", Missing: ecdheECDSA12,
			Why: "sslscan is right that TLS 1.2 is enabled (its own protocol hello offers brainpool) but lists no suite: " +
				"each suite is tried with OpenSSL's default groups (no brainpool), and the server may only choose ECDHE-ECDSA " +
				"with a curve the client offers (RFC 8422), so it refuses them all. openssl s_client -tls1_2 -groups " +
				"brainpoolP256r1 gets them, as testssl and check_socat_tls do."})
	socat("socat-rsa-pss", "socat, RSA-PSS 2048 (id-RSASSA-PSS key), default settings", "rsapss", "", nil)
	socat("socat-dhe-only", "socat, RSA 2048, cipher=DHE:!aNULL (TLS 1.3 unchanged)", "rsa2048", ",cipher=DHE:!aNULL", nil)
	socat("socat-tls13-only", "socat, RSA 2048, min-version=TLS1.3", "rsa2048", ",min-version=TLS1.3", nil)
	socat("socat-chacha-only", "socat, RSA 2048, cipher=CHACHA20", "rsa2048", ",cipher=CHACHA20", nil)
	socat("socat-aria-only", "socat, RSA 2048, cipher=ARIA", "rsa2048", ",cipher=ARIA", nil)
	socat("socat-legacy", "socat, RSA 2048, cipher=ALL:eNULL:@SECLEVEL=0, min-version=TLS1", "rsa2048",
		",cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1", legacyConf)

	tls10and11 := func(p oracles.Pair) bool { return p.Version == "TLS1.0" || p.Version == "TLS1.1" }
	socat("socat-null-anon-only", "socat, RSA 2048, cipher=NULL-MD5:ADH-AES128-SHA:AECDH-NULL-SHA:@SECLEVEL=0, min-version=TLS1", "rsa2048",
		",cipher=NULL-MD5:ADH-AES128-SHA:AECDH-NULL-SHA:@SECLEVEL=0,min-version=TLS1", legacyConf,
		oracles.Known{Oracle: "testssl", MissingProtocols: []string{"TLS1.0", "TLS1.1"}, Missing: tls10and11,
			Why: "testssl.sh is wrong: its -p probe of TLS 1.0 and 1.1 (and SSLv3) offers the 76 suites of TLS_CIPHER " +
				"(/etc/testssl/tls_data.txt), none NULL or anonymous, so a server with only those there refuses it and is " +
				"\"not offered\"; -E then skips both versions. openssl s_client -tls1 -cipher 'ADH-AES128-SHA:@SECLEVEL=0' " +
				"negotiates each of the three suites; sslscan agrees with check_socat_tls. (Its TLS 1.2 probe retries with " +
				"lists that have them.)"})

	client := pki.leaves["client"]
	mtls := &endpoint{name: "socat-mtls", desc: "socat, RSA 2048, verify=1 with the CA (ours and sslscan present a client certificate; testssl.sh 3.0 cannot)",
		ours: []string{"--client-cert", client.both}, sslscan: []string{"--certs=" + client.cert, "--pk=" + client.key}}
	mtls.start = func(context.Context) (*server, error) {
		return startSocat(nil, socatListen+",verify=1,cafile="+pki.ca+",cert="+pki.leaves["rsa2048"].both, "PIPE")
	}
	add(mtls)

	// The same without a client certificate for anyone.
	mtlsNoCert := &endpoint{name: "socat-mtls-nocert", desc: "socat, RSA 2048, verify=1 with the CA, no scanner presents a client certificate",
		known: []oracles.Known{{Oracle: "sslscan", Missing: func(p oracles.Pair) bool { return p.Version == "TLS1.2" },
			Why: "sslscan counts a suite only when OpenSSL's SSL_connect completes; in TLS 1.2 the server aborts the " +
				"handshake for the missing client certificate before that (TLS 1.3 completes it and refuses after), so it " +
				"finds TLS 1.2 enabled (its own hello) and none of its suites. check_socat_tls and testssl count a suite " +
				"from the ServerHello that chooses it."}}}
	mtlsNoCert.start = func(context.Context) (*server, error) {
		return startSocat(nil, socatListen+",verify=1,cafile="+pki.ca+",cert="+pki.leaves["rsa2048"].both, "PIPE")
	}
	add(mtlsNoCert)

	rsa := pki.leaves["rsa2048"]
	sserver := &endpoint{name: "openssl-s_server", desc: "openssl s_server -www, RSA 2048, -cipher ALL:eNULL:@SECLEVEL=0, -min_protocol TLSv1, all five TLS 1.3 suites"}
	sserver.start = func(context.Context) (*server, error) {
		return startSServer("-cert", rsa.cert, "-key", rsa.key, "-www", "-cipher", "ALL:eNULL:@SECLEVEL=0", "-min_protocol", "TLSv1",
			"-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256")
	}
	add(sserver)

	stunnel := &endpoint{name: "stunnel4", desc: "stunnel4, RSA 2048, default settings, exec=/bin/cat"}
	stunnel.start = func(context.Context) (*server, error) {
		return startStunnel(stunnel.dir, "[oracles]\naccept = 127.0.0.1:0\ncert = "+rsa.both+"\nexec = /bin/cat\n")
	}
	add(stunnel)

	nginx := &endpoint{name: "nginx-light", desc: "nginx (nginx-light), RSA 2048, default ssl_protocols and ssl_ciphers"}
	nginx.start = func(context.Context) (*server, error) {
		d := nginx.dir
		conf := "daemon off;\nmaster_process on;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log stderr notice;\nevents { worker_connections 64; }\n" +
			"http {\n  access_log off;\n  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d + "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n" +
			"  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " + d + "/scgi;\n" +
			"  server {\n    listen 127.0.0.1:PORT ssl;\n    ssl_certificate " + rsa.cert + ";\n    ssl_certificate_key " + rsa.key + ";\n    return 200 \"ok\\n\";\n  }\n}\n"
		return startNginx(d, conf)
	}
	add(nginx)

	gnutls := &endpoint{name: "gnutls-serv", desc: "gnutls-serv --echo, RSA 2048, default priority (NORMAL), in a namespace of its own"}
	gnutls.start = func(ctx context.Context) (*server, error) {
		return startGnutls(ctx, "--echo", "-a", "--x509certfile", rsa.cert, "--x509keyfile", rsa.key)
	}
	add(gnutls)

	const legacyPriority = "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+ARCFOUR-128:+3DES-CBC:+CAMELLIA-128-GCM:+CAMELLIA-256-GCM:" +
		"+CAMELLIA-128-CBC:+CAMELLIA-256-CBC:+AES-128-CCM:+AES-256-CCM:+AES-128-CCM-8:+AES-256-CCM-8:+SHA1:+MD5:+RSA:+DHE-RSA"
	gnutlsLegacy := &endpoint{name: "gnutls-legacy", desc: "gnutls-serv --echo, RSA 2048, --priority " + legacyPriority + " (RC4, 3DES, Camellia-GCM: suites OpenSSL 3 lacks)"}
	gnutlsLegacy.start = func(ctx context.Context) (*server, error) {
		return startGnutls(ctx, "--echo", "-a", "--x509certfile", rsa.cert, "--x509keyfile", rsa.key, "--priority", legacyPriority)
	}
	add(gnutlsLegacy)
	return eps
}

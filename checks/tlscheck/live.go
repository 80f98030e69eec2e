package tlscheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/smallfile"
	"github.com/check-socat/check-socat/internal/tlsscan"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// handshake is one crypto/tls handshake with the endpoint.
type handshake struct {
	ok        bool
	state     tls.ConnectionState
	chain     []*x509.Certificate
	requested bool // the server asked for a client certificate
	// rejected: the server refused the connection for want of a (valid)
	// client certificate; reason is the alert.
	rejected bool
	reason   string
	// closed: after a TLS 1.3 handshake, the server closed the connection
	// without an error alert (at most close_notify): not a refusal.
	closed bool
	// after says what ended the wait after a TLS 1.3 handshake that
	// asked for a client certificate: "a session ticket", "an alert",
	// "a close", "data", or "nothing within" the bound; cut: the run's
	// deadline ended it first, and the verdict is unknown.
	after    string
	cut      bool
	duration time.Duration
	err      error
	notTLS   bool
	answer   []byte // what a plaintext peer sent first (up to echoPrefix bytes)
	echo     bool   // the peer sent our ClientHello back
	timeout  bool
	refused  bool
}

// echoConn keeps the first bytes written and read, to tell an echo (a
// plaintext relay to a cat, a loop) from a TLS server.
type echoConn struct {
	net.Conn
	wrote, read []byte
}

// echoPrefix is how much of each direction is kept: enough to tell an
// echo and to quote a plaintext banner (SSH-2.0-OpenSSH_9.2p1 Debian...).
const echoPrefix = 64

func (c *echoConn) Write(p []byte) (int, error) {
	if len(c.wrote) < echoPrefix {
		c.wrote = append(c.wrote, p[:min(len(p), echoPrefix-len(c.wrote))]...)
	}
	return c.Conn.Write(p)
}

func (c *echoConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if len(c.read) < echoPrefix {
		c.read = append(c.read, p[:min(n, echoPrefix-len(c.read))]...)
	}
	return n, err
}

// echoed reports whether what came back starts with what we sent.
func (c *echoConn) echoed() bool {
	n := min(len(c.wrote), len(c.read))
	return n >= 16 && string(c.wrote[:n]) == string(c.read[:n])
}

// allSuites is every suite crypto/tls can offer, insecure ones included:
// the audit must see the certificate of a server that only speaks those.
func allSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

// goHandshake runs a full handshake (verification is ours, not
// crypto/tls's) and, under TLS 1.3, reads after it: a server that demands
// a client certificate says so only then.
// With leave, another handshake follows, and the wait after this one
// takes at most half the time left.
func goHandshake(ctx context.Context, dial tlsscan.Dialer, sni string, cert *tls.Certificate, settle time.Duration, leave bool) handshake {
	h := handshake{}
	conn, err := dial(ctx)
	if err != nil {
		h.err = err
		h.refused = errors.Is(err, syscall.ECONNREFUSED)
		h.timeout = ctx.Err() != nil
		return h
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	cfg := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true, //nolint:gosec // the chain is verified by analyzeChain, which reports instead of refusing
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       allSuites(),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			h.requested = true
			if cert != nil {
				return cert, nil
			}
			return &tls.Certificate{}, nil
		},
	}
	tickets := &ticketWatch{got: make(chan struct{})}
	cfg.ClientSessionCache = tickets
	rec := &echoConn{Conn: conn}
	tc := tls.Client(rec, cfg)
	start := time.Now()
	err = tc.HandshakeContext(ctx)
	h.duration = time.Since(start)
	st := tc.ConnectionState()
	h.state = st
	h.chain = st.PeerCertificates
	if err != nil {
		h.err = err
		var hdr tls.RecordHeaderError
		var op *net.OpError
		switch {
		case rec.echoed():
			h.notTLS, h.echo = true, true
		case errors.As(err, &hdr) && !(hdr.RecordHeader[0] >= 20 && hdr.RecordHeader[0] <= 24 && hdr.RecordHeader[1] == 3):
			// Not a TLS record header at all: plaintext. (A TLS header with
			// an impossible length is a broken server, said as its error.)
			h.notTLS, h.answer = true, rec.read
		case errors.As(err, &op) && op.Op == "remote error" && h.requested:
			h.rejected, h.reason = true, sanitize.Text(op.Err.Error(), 80)
		case ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			h.timeout = true
		}
		return h
	}
	h.ok = true
	if h.requested && st.Version == tls.VersionTLS13 {
		h.settle13(ctx, conn, tc, tickets, settle, leave)
	}
	return h
}

// afterBound is the longest wait for a TLS 1.3 server's verdict on our
// client certificate (or its absence): at least this, or 20 times the
// handshake, within the deadline. It is only reached by a server that
// neither refuses nor sends a session ticket.
const afterBound = time.Second

// settle13 waits, after a TLS 1.3 handshake that asked for a client
// certificate, for what the server does with our certificate (or its
// absence), which it says only after the handshake: an alert (refused),
// a session ticket (accepted: OpenSSL, GnuTLS and Go send theirs once
// they have checked the client's flight), a close without an alert (its
// TLS side accepted us; socat closes when it cannot reach its backend),
// or data. A slow server's late refusal is not mistaken for acceptance
// (issue 16: a fixed 100 ms window was).
func (h *handshake) settle13(ctx context.Context, conn net.Conn, tc *tls.Conn, tickets *ticketWatch, settle time.Duration, leave bool) {
	bound := max(20*h.duration, afterBound)
	start := time.Now()
	deadline := start.Add(bound)
	cut := false
	if d, ok := ctx.Deadline(); ok {
		if leave {
			d = start.Add(time.Until(d) / 2)
		}
		if d.Before(deadline) {
			deadline, cut = d, true
		}
	}
	_ = conn.SetReadDeadline(deadline)
	read := make(chan error, 1)
	go func() {
		_, err := tc.Read(make([]byte, 1))
		read <- err
	}()
	var err error
	select {
	case err = <-read:
	case <-tickets.got:
		// Accepted. A close that follows at once is still worth saying
		// (socat's backend down): looked for briefly, the verdict stands.
		h.after = "a session ticket"
		if d := time.Now().Add(settle); d.Before(deadline) {
			_ = conn.SetReadDeadline(d)
		}
		if err := <-read; errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			h.closed = true
		}
		return
	}
	var op *net.OpError
	switch {
	case err == nil:
		h.after = "data"
	case errors.As(err, &op) && op.Op == "remote error":
		h.rejected, h.reason, h.after = true, sanitize.Text(op.Err.Error(), 80), "an alert"
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		// No error alert: the server's TLS side accepted us and the
		// connection ended for another reason. OpenSSL always says
		// why it refuses a client certificate.
		h.closed, h.after = true, "a close"
	case cut:
		h.after, h.cut = fmt.Sprintf("nothing within %.1f s, cut short by the deadline", deadline.Sub(start).Seconds()), true
	default:
		h.after = fmt.Sprintf("nothing within %.1f s", deadline.Sub(start).Seconds())
	}
}

// ticketWatch is a session cache that stores nothing: it says when the
// server sent a session ticket.
type ticketWatch struct {
	got  chan struct{}
	once sync.Once
}

func (w *ticketWatch) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

func (w *ticketWatch) Put(_ string, cs *tls.ClientSessionState) {
	if cs != nil {
		w.once.Do(func() { close(w.got) })
	}
}

// rawChain gets the certificates from a hand-written TLS 1.2 (or older)
// hello, for servers crypto/tls cannot talk to (NULL, anonymous, DHE or
// ARIA suites only, SSLv3); and, from the same connection, whether the
// server asks for a client certificate and refuses a client without one.
func rawChain(ctx context.Context, dial tlsscan.Dialer, sni string, scan *tlsscan.Result) ([]*x509.Certificate, bool, tlsscan.NoCert, error) {
	for _, v := range []uint16{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL3} {
		suites := tlswire.Suites().Pre13()
		if scan != nil {
			if !scan.Protocols[v] {
				continue
			}
			suites = scan.Suites[v]
		}
		f, nc, err := tlsscan.ProbeNoCert(ctx, dial, tlswire.Hello{Version: v, Suites: suites, SNI: sni})
		if f == nil || !f.Hello || f.Version != v {
			if err != nil && ctx.Err() != nil {
				return nil, false, nc, err
			}
			continue
		}
		if err != nil && len(f.Certificates) == 0 {
			return nil, f.CertRequest, nc, fmt.Errorf("the server's certificate message cannot be read: %v", err)
		}
		chain, err := parseChain(f.Certificates)
		return chain, f.CertRequest, nc, err
	}
	// TLS 1.3 only, with what crypto/tls lacks (the CCM suites, an Ed448
	// key): the flight decrypted with our own key share.
	if scan == nil || scan.Protocols[tlswire.VersionTLS13] {
		if offer := ownTLS13Offer(scan); len(offer) > 0 {
			f, nc, err := tlsscan.ProbeTLS13(ctx, dial, sni, offer, nil)
			if f != nil && len(f.Certificates) > 0 {
				chain, err := parseChain(f.Certificates)
				return chain, f.CertRequest, nc, err
			}
			if err != nil {
				return nil, false, nc, fmt.Errorf("our own TLS 1.3 hello: %v", err)
			}
		}
	}
	return nil, false, tlsscan.NoCert{}, errors.New("no protocol gave a certificate")
}

// loadTrust reads --ca-file and the client certificate.
func loadTrust(cfg *Config) (*x509.CertPool, *tls.Certificate, error) {
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		pem, err := smallfile.Read(cfg.CAFile, smallfile.PEMLimit)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read --ca-file %s: %v", cfg.CAFile, pathErr(err))
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--ca-file %s holds no PEM certificate: give the CA certificate(s) in PEM", cfg.CAFile)
		}
	}
	var cert *tls.Certificate
	if cfg.ClientCert != "" {
		key := cfg.ClientKey
		if key == "" {
			key = cfg.ClientCert
		}
		var pems [2][]byte
		for i, f := range []struct{ flag, path string }{{"--client-cert", cfg.ClientCert}, {"--client-key", key}} {
			data, err := smallfile.Read(f.path, smallfile.PEMLimit)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot read %s %s: %v", f.flag, f.path, pathErr(err))
			}
			pems[i] = data
		}
		pair, err := tls.X509KeyPair(pems[0], pems[1])
		if err != nil {
			return nil, nil, fmt.Errorf("cannot load --client-cert %s with --client-key %s: %v", cfg.ClientCert, key, err)
		}
		cert = &pair
	}
	return roots, cert, nil
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// keyClass is the kind of key a certificate holds, as TLS 1.2 suites ask
// for it (tlswire.Suite.Auth): "RSA" (RSA-PSS too), "EC" (ECDSA, EdDSA),
// "DSA".
func keyClass(c *x509.Certificate) string {
	kt, _ := keyInfo(c)
	switch {
	case strings.HasPrefix(kt, "RSA"):
		return "RSA"
	case strings.HasPrefix(kt, "EC"), strings.HasPrefix(kt, "Ed"):
		return "EC"
	case kt == "DSA":
		return "DSA"
	}
	return ""
}

// otherCerts finds the certificates a server holds besides leaf (nginx,
// stunnel and s_server -dcert serve an RSA and an ECDSA one side by side,
// and a client gets the one its offer selects). The scan says which kinds
// of key the accepted TLS 1.2 (or older) suites need; for each kind other
// than leaf's, one hello offering only those suites brings that
// certificate and its chain. A kind no accepted suite needs costs no
// connection. A server that speaks only TLS 1.3 (which does not select by
// suite) is asked with our own TLS 1.3 hello offering only the signature
// algorithms of each other kind of key.
// A probe that fails otherwise than by the server's refusal is said in
// notes.
func otherCerts(ctx context.Context, dial tlsscan.Dialer, sni string, scan *tlsscan.Result, leaf *x509.Certificate) ([][]*x509.Certificate, []string) {
	have := map[string]bool{keyClass(leaf): true}
	seen := [][]byte{leaf.Raw}
	var out [][]*x509.Certificate
	var notes []string
	note := func(class string, err error) {
		notes = append(notes, fmt.Sprintf("asking for the server's %s certificate failed: %s", class, sanitize.Text(err.Error(), 120)))
	}
	keep := func(ders [][]byte) {
		chain, _ := parseChain(ders) // (what parses of it)
		if len(chain) > 0 && !slices.ContainsFunc(seen, func(raw []byte) bool { return bytes.Equal(raw, chain[0].Raw) }) {
			seen = append(seen, chain[0].Raw)
			out = append(out, chain)
		}
	}
	reg := tlswire.Suites()
	pre13 := false
	for _, v := range []uint16{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL3} {
		pre13 = pre13 || len(scan.Suites[v]) > 0
	}
	if !pre13 && scan.Protocols[tlswire.VersionTLS13] {
		// TLS 1.3 only: the signature algorithms offered select the
		// certificate, read from our own TLS 1.3 hello.
		offer := ownTLS13Offer(scan)
		for _, k := range []struct {
			class string
			algs  []uint16
		}{{"RSA", tlswire.SigAlgsRSA}, {"EC", tlswire.SigAlgsEC}} {
			if have[k.class] || len(offer) == 0 {
				continue
			}
			ders, err := tlsscan.CertsTLS13(ctx, dial, sni, offer, k.algs)
			if err != nil {
				note(k.class, err)
			}
			keep(ders)
		}
		return out, notes
	}
	for _, class := range []string{"RSA", "EC", "DSA"} {
		if have[class] {
			continue
		}
		for _, v := range []uint16{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10, tlswire.VersionSSL3} {
			var suites []uint16
			for _, c := range scan.Suites[v] {
				if reg.ByCode(c).Auth() == class {
					suites = append(suites, c)
				}
			}
			if len(suites) == 0 {
				continue
			}
			have[class] = true
			f, err := tlsscan.Probe(ctx, dial, tlswire.Hello{Version: v, Suites: suites, SNI: sni}, tlswire.UntilDone)
			switch {
			case err == nil && f != nil && f.Hello:
				keep(f.Certificates)
			case err != nil && !(f != nil && f.Alert != nil):
				note(class, err)
			}
			break
		}
	}
	return out, notes
}

// certParseError is a certificate the server sent that crypto/x509
// cannot parse (a brainpool or secp256k1 key).
type certParseError struct{ err error }

func (e *certParseError) Error() string {
	return "the server's certificate does not parse: " + e.err.Error()
}

// parseChain parses the certificates a server sent, as far as they parse.
func parseChain(ders [][]byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return chain, &certParseError{err}
		}
		chain = append(chain, c)
	}
	return chain, nil
}

// ownTLS13Offer is what our own TLS 1.3 hello offers: the suites it can
// read, of those the scan found accepted (all of them without a scan).
func ownTLS13Offer(scan *tlsscan.Result) []uint16 {
	if scan == nil {
		return tlswire.Suites13Own
	}
	var offer []uint16
	for _, c := range scan.Suites[tlswire.VersionTLS13] {
		if slices.Contains(tlswire.Suites13Own, c) {
			offer = append(offer, c)
		}
	}
	return offer
}

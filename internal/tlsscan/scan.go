// Package tlsscan enumerates what a TLS server accepts with hand-written
// ClientHellos: every protocol version from SSLv2 to TLS 1.3 and every
// (version, suite) pair, as sslscan lists them, in parallel where the
// server allows, within one deadline.
package tlsscan

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/check-socat/check-socat/internal/tlswire"
)

// Dialer opens a connection to the server.
type Dialer func(ctx context.Context) (net.Conn, error)

// Probe sends one ClientHello and reads the answer up to stop.
func Probe(ctx context.Context, dial Dialer, hello tlswire.Hello, stop tlswire.Stop) (*tlswire.Flight, error) {
	return probe(ctx, dial, hello, stop, nil)
}

// NoCert is what a server does with a client that has no certificate,
// learnt from our own hello (TLS 1.0 to 1.2), for servers crypto/tls
// cannot complete a handshake with (DHE or ARIA suites only).
type NoCert struct {
	// Decided: the server answered in a way that tells; Refused is then
	// whether it turned the certificate-less client away, with Alert.
	Decided, Refused bool
	Alert            string
	// TLS13: learnt from a TLS 1.3 hello of our own.
	TLS13 bool
}

// ProbeNoCert sends hello, reads up to ServerHelloDone and, when the
// server asks for a client certificate, answers without one
// (tlswire.NoCertificate): the alert that follows says whether it
// requires one.
func ProbeNoCert(ctx context.Context, dial Dialer, hello tlswire.Hello) (*tlswire.Flight, NoCert, error) {
	var nc NoCert
	f, err := probe(ctx, dial, hello, tlswire.UntilDone, func(conn net.Conn, f *tlswire.Flight) error {
		if !f.CertRequest || !f.Done || f.Version < tlswire.VersionTLS10 || f.Version > tlswire.VersionTLS12 {
			return nil
		}
		if _, err := conn.Write(tlswire.NoCertificate(f.Version)); err != nil {
			return nil // undecided
		}
		after, _ := tlswire.ReadFlight(conn, tlswire.UntilHello)
		if after == nil || after.Alert == nil {
			// Closed without an alert, or no answer before the deadline:
			// nothing to decide on.
			return nil
		}
		nc.Alert = tlswire.AlertName(after.Alert.Description)
		// Only our empty certificate comes before the out-of-order
		// message: any other fatal alert is its refusal, whatever the
		// server calls it (OpenSSL handshake_failure, GnuTLS 3.7
		// decode_error). close_notify tells nothing.
		switch after.Alert.Description {
		case tlswire.AlertUnexpectedMessage: // past the empty certificate
			nc.Decided = true
		case 0:
		default:
			nc.Decided, nc.Refused = true, true
		}
		return nil
	})
	return f, nc, err
}

// ProbeTLS13 sends a TLS 1.3 hello offering suites (of
// tlswire.Suites13Own) and reads, decrypting it with its key share, the
// server's flight; when the server asks for a client certificate, it
// answers without one (tlswire.NoCertificate13) and the alert that follows
// says whether one is required, as ProbeNoCert for TLS 1.2.
func ProbeTLS13(ctx context.Context, dial Dialer, sni string, suites, sigAlgs []uint16) (*tlswire.Flight13, NoCert, error) {
	nc := NoCert{TLS13: true}
	f, err := probeTLS13(ctx, dial, tlswire.Hello{Version: tlswire.VersionTLS13, Suites: suites, SNI: sni, SigAlgs: sigAlgs}, func(conn net.Conn, f *tlswire.Flight13) {
		if !f.CertRequest || !f.Done {
			return
		}
		answer, err := f.NoCertificate13()
		if err != nil {
			return
		}
		if _, err := conn.Write(answer); err != nil {
			return
		}
		a, _ := f.ReadAlert13(conn)
		if a == nil {
			return
		}
		nc.Alert = tlswire.AlertName(a.Description)
		switch a.Description {
		case tlswire.AlertUnexpectedMessage:
			nc.Decided = true
		case 0:
		default:
			nc.Decided, nc.Refused = true, true
		}
	})
	return f, nc, err
}

// CertsTLS13 is the server's certificate chain (DER) when our own TLS 1.3
// hello offers only sigAlgs: a server with several certificates sends the
// one they select. A server that refuses (it holds no such certificate)
// gives none and no error.
func CertsTLS13(ctx context.Context, dial Dialer, sni string, suites, sigAlgs []uint16) ([][]byte, error) {
	f, err := probeTLS13(ctx, dial, tlswire.Hello{Version: tlswire.VersionTLS13, Suites: suites, SNI: sni, SigAlgs: sigAlgs}, nil)
	switch {
	case f != nil && len(f.Certificates) > 0:
		return f.Certificates, nil
	case f != nil && f.Alert != nil:
		return nil, nil
	case err == nil:
		err = errors.New("no certificate in the server's flight")
	}
	return nil, err
}

func probeTLS13(ctx context.Context, dial Dialer, hello tlswire.Hello, then func(net.Conn, *tlswire.Flight13)) (*tlswire.Flight13, error) {
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hello.KeyShare = key.PublicKey().Bytes()
	msg, err := tlswire.ClientHello(hello)
	if err != nil {
		return nil, err
	}
	conn, err := send(ctx, dial, msg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	f, err := tlswire.ReadFlight13(conn, msg, key)
	if err == nil && then != nil {
		then(conn, f)
	}
	return f, err
}

// send dials, sets the run's deadline on the connection and writes msg;
// the caller closes the connection.
func send(ctx context.Context, dial Dialer, msg []byte) (net.Conn, error) {
	conn, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	if _, err := conn.Write(msg); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// probe is Probe, then (when the server answered the hello) then on the
// same connection.
func probe(ctx context.Context, dial Dialer, hello tlswire.Hello, stop tlswire.Stop, then func(net.Conn, *tlswire.Flight) error) (*tlswire.Flight, error) {
	if hello.Version == tlswire.VersionTLS13 && hello.KeyShare == nil {
		key, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		hello.KeyShare = key.PublicKey().Bytes()
	}
	var msg []byte
	var err error
	if hello.Version == tlswire.VersionSSL2 {
		msg = tlswire.SSLv2ClientHello()
	} else if msg, err = tlswire.ClientHello(hello); err != nil {
		return nil, err
	}
	conn, err := send(ctx, dial, msg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if hello.Version == tlswire.VersionSSL2 {
		stop = tlswire.UntilSSLv2
	}
	f, err := tlswire.ReadFlight(conn, stop)
	if err != nil || then == nil {
		return f, err
	}
	return f, then(conn, f)
}

// Accepts reports whether the flight shows the server took the version.
func Accepts(f *tlswire.Flight, version uint16) bool {
	if f == nil {
		return false
	}
	if version == tlswire.VersionSSL2 {
		return f.SSLv2
	}
	return f.Hello && f.Version == version
}

// Enumerate finds every suite the server accepts with this version:
// offer them all, remove the one the server picks, repeat until it
// refuses. One connection per accepted suite, plus one.
func Enumerate(ctx context.Context, dial Dialer, version uint16, sni string, offer []uint16) ([]uint16, error) {
	left := append([]uint16(nil), offer...)
	var accepted []uint16
	for len(left) > 0 {
		f, err := Probe(ctx, dial, tlswire.Hello{Version: version, Suites: left, SNI: sni}, tlswire.UntilHello)
		if err != nil && (f == nil || !f.Hello) {
			if f != nil && f.Alert != nil {
				break
			}
			if isClosed(err) {
				break // refused by closing the connection
			}
			return accepted, err
		}
		if f.Alert != nil || !Accepts(f, version) {
			break
		}
		idx := -1
		for i, s := range left {
			if s == f.Suite {
				idx = i
			}
		}
		if idx < 0 {
			break // the server picked a suite it was not offered
		}
		accepted = append(accepted, f.Suite)
		left = append(left[:idx], left[idx+1:]...)
	}
	sort.Slice(accepted, func(i, j int) bool { return accepted[i] < accepted[j] })
	return accepted, nil
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, errEOF) || errors.Is(err, errUnexpectedEOF) || isReset(err)
}

// Result is what the server accepts.
type Result struct {
	Protocols map[uint16]bool     // version -> accepted
	Suites    map[uint16][]uint16 // version -> accepted suites (SSLv3 and later)
	// SSLv2Specs is the number of cipher specs an SSLv2 server offers;
	// they are not suites and are not counted as pairs (sslscan lists
	// none), but SSLv2 itself is a weak protocol.
	SSLv2Specs int
	Errors     map[uint16]error
	// UnrecognizedName: the server warned that it does not know the SNI
	// name (and answered with its default certificate).
	UnrecognizedName bool
	Elapsed          time.Duration
}

// Scan probes every version and enumerates the suites of each accepted
// one, with at most parallel connections open at once. A version's offer
// list is split into chunks that are enumerated side by side: whether a
// server accepts a suite does not depend on what else is offered, so the
// union of the chunks' results is the whole answer, and the critical path
// shrinks from one connection per accepted suite to one per chunk's share.
func Scan(ctx context.Context, dial Dialer, sni string, parallel int) *Result {
	start := time.Now()
	parallel = max(1, parallel)
	dial = Limit(dial, parallel)
	reg := tlswire.Suites()
	versions := []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	res := &Result{Protocols: map[uint16]bool{}, Suites: map[uint16][]uint16{}, Errors: map[uint16]error{}}
	var mu sync.Mutex
	add := func(v uint16, suites []uint16, err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(suites) > 0 {
			res.Protocols[v] = true
			res.Suites[v] = append(res.Suites[v], suites...)
		}
		if err != nil && res.Errors[v] == nil {
			res.Errors[v] = err
		}
	}
	// Every version's first probe (its pick) runs first, side by side:
	// most versions are refused there, with one connection. Then the rest
	// of each accepted version, its offer split into chunks enumerated
	// side by side. Each chunk ends with one refused probe, so the
	// connections open at once are shared among the accepted versions: a
	// chunk is only made where a connection is free to run it (twice as
	// many chunks as that share keeps every connection busy to the end;
	// never more than the connections). A legacy endpoint with four
	// versions pays 2 refusals per version instead of 4. A version waits
	// for the others' picks only briefly: one that never answers (a
	// middlebox holding an SSLv2 hello) counts as accepted, and does not
	// hold the scan.
	firsts := map[uint16]uint16{}
	pending := 0 // picks of enumerable versions not yet answered
	for _, v := range versions {
		if v != tlswire.VersionSSL2 {
			pending++
		}
	}
	allPicked := make(chan struct{})
	picked := func(v uint16, first *uint16) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil {
			firsts[v] = *first
		}
		if pending--; pending == 0 {
			close(allPicked)
		}
	}
	var wg sync.WaitGroup
	for _, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v == tlswire.VersionSSL2 {
				f, err := Probe(ctx, dial, tlswire.Hello{Version: v}, tlswire.UntilSSLv2)
				switch {
				case Accepts(f, v):
					mu.Lock()
					res.Protocols[v], res.SSLv2Specs = true, f.SSLv2Specs
					mu.Unlock()
				case err != nil && !refusal(f, err):
					add(v, nil, err)
				}
				return
			}
			t0 := time.Now()
			first, warned, err := pick(ctx, dial, v, sni, offerOf(reg, v))
			took := time.Since(t0)
			picked(v, first)
			mu.Lock()
			res.UnrecognizedName = res.UnrecognizedName || warned
			mu.Unlock()
			if err != nil || first == nil {
				add(v, nil, err)
				return
			}
			add(v, []uint16{*first}, nil)
			grace := time.NewTimer(max(100*time.Millisecond, 4*took))
			select {
			case <-allPicked:
			case <-grace.C:
			case <-ctx.Done():
			}
			grace.Stop()
			mu.Lock()
			k := len(firsts) + pending
			mu.Unlock()
			share := min(parallel, max(1, (2*parallel+k-1)/k))
			var cw sync.WaitGroup
			for _, chunk := range chunks(without(offerOf(reg, v), *first), share) {
				cw.Add(1)
				go func() {
					defer cw.Done()
					suites, err := Enumerate(ctx, dial, v, sni, chunk)
					add(v, suites, err)
				}()
			}
			cw.Wait()
		}()
	}
	wg.Wait()
	for _, s := range res.Suites {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	}
	res.Elapsed = time.Since(start)
	return res
}

// offerOf is every suite a version can be offered.
func offerOf(reg *tlswire.Registry, v uint16) []uint16 {
	if v == tlswire.VersionTLS13 {
		return reg.TLS13()
	}
	return reg.Pre13()
}

// pick is the first step of Enumerate: the suite the server picks
// from offer, or nil when it refuses the version; and whether it warned
// that it does not know the SNI name.
func pick(ctx context.Context, dial Dialer, version uint16, sni string, offer []uint16) (*uint16, bool, error) {
	f, err := Probe(ctx, dial, tlswire.Hello{Version: version, Suites: offer, SNI: sni}, tlswire.UntilHello)
	warned := false
	if f != nil {
		for _, w := range f.Warnings {
			warned = warned || w.Description == tlswire.AlertUnrecognizedName
		}
	}
	if err != nil && (f == nil || !f.Hello) {
		if refusal(f, err) {
			return nil, warned, nil
		}
		return nil, warned, err
	}
	if f.Alert != nil || !Accepts(f, version) || !contains(offer, f.Suite) {
		return nil, warned, nil
	}
	suite := f.Suite
	return &suite, warned, nil
}

// refusal reports whether a failed probe is the server saying no: an
// alert, or closing (or resetting) the connection on our hello.
func refusal(f *tlswire.Flight, err error) bool {
	return (f != nil && f.Alert != nil) || isClosed(err)
}

func contains(list []uint16, v uint16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func without(list []uint16, v uint16) []uint16 {
	out := make([]uint16, 0, len(list))
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// chunks deals list round-robin into at most n parts of at least
// minChunk suites: dealing spreads the accepted suites (which cluster by
// code) evenly, and a short list (TLS 1.3's seven) is not spread over
// connections that each end in a refusal.
func chunks(list []uint16, n int) [][]uint16 {
	const minChunk = 16
	n = min(n, max(1, len(list)/minChunk))
	out := make([][]uint16, n)
	for i, s := range list {
		out[i%n] = append(out[i%n], s)
	}
	return out
}

// Limit wraps a dialer so that at most n of its connections are open at
// once; a connection gives its slot back when it is closed.
func Limit(dial Dialer, n int) Dialer {
	slots := make(chan struct{}, n)
	return func(ctx context.Context) (net.Conn, error) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		conn, err := dial(ctx)
		if err != nil {
			<-slots
			return nil, err
		}
		return &slotConn{Conn: conn, release: func() { <-slots }}, nil
	}
}

type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

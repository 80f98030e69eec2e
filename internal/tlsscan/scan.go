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
	conn, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	return tlswire.ReadFlight(conn, stop)
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
	Suites    map[uint16][]uint16 // version -> accepted suites
	Errors    map[uint16]error
	Elapsed   time.Duration
}

// Scan probes every version and enumerates the suites of each accepted
// one, with at most parallel connections at once.
func Scan(ctx context.Context, dial Dialer, sni string, parallel int) *Result {
	start := time.Now()
	reg := tlswire.Suites()
	versions := []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	res := &Result{Protocols: map[uint16]bool{}, Suites: map[uint16][]uint16{}, Errors: map[uint16]error{}}
	var mu sync.Mutex
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for _, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			offer := reg.Pre13()
			if v == tlswire.VersionTLS13 {
				offer = reg.TLS13()
			}
			var suites []uint16
			var err error
			if v == tlswire.VersionSSL2 {
				var f *tlswire.Flight
				f, err = Probe(ctx, dial, tlswire.Hello{Version: v}, tlswire.UntilHello)
				if Accepts(f, v) {
					suites = make([]uint16, f.SSLv2Specs)
				}
			} else {
				suites, err = Enumerate(ctx, dial, v, sni, offer)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(suites) > 0 {
				res.Protocols[v] = true
				res.Suites[v] = suites
			}
			if err != nil {
				res.Errors[v] = err
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

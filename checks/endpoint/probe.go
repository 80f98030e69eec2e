package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
)

// Stages of a probe, as the output names them.
const (
	stageResolve     = "resolve"
	stageConnect     = "connect"
	stageTLS         = "TLS handshake"
	stageSend        = "send"
	stageFirstByte   = "first byte"
	stageExpectation = "expectation"
	stageIntegrity   = "integrity"
)

// outcome is how one connection ended.
type outcome int

const (
	outcomeOK       outcome = iota
	outcomeRefused          // connection refused (port closed)
	outcomeTimeout          // the deadline passed
	outcomeMismatch         // the response does not meet the expectations
	outcomeFailed           // anything else: reset, closed, TLS error, DNS
	outcomeConfig           // a local problem the user must fix (exit 3)
)

// probe is the record of one connection.
type probe struct {
	conn    net.Conn // closed by the caller, after every connection ended
	outcome outcome
	stage   string // where it failed, or the last stage reached
	reason  string // what went wrong, for the output
	// closed: the peer closed before any byte, as socat does when its
	// backend is down.
	closed bool

	connect, handshake, firstByte, echo time.Duration
	// total is the probe's time from the start of the attempt to the end
	// of its work, without the --settle wait.
	total    time.Duration
	gotFirst bool
	received []byte // the response (not the echo), at most MaxBytes
	nrecv    int64
	matched  int // expectations met

	tlsState      *tls.ConnectionState
	certRequested bool
	// httpStatus is the code of the status line (--http-status), and
	// httpLine that line.
	httpStatus int
	httpLine   string
}

func (p *probe) fail(o outcome, stage, format string, args ...any) *probe {
	p.outcome, p.stage, p.reason = o, stage, fmt.Sprintf(format, args...)
	return p
}

// prober runs probes against the resolved addresses of one attempt.
type prober struct {
	cfg   *Config
	env   checks.Env
	addrs []target // tried in order until one connects
	start time.Time
	// chunk is the read and write size; smaller with many connections, so
	// that memory stays bounded.
	chunk  int
	dialer net.Dialer
	tls    *tls.Config
}

// target is one address to dial.
type target struct{ network, addr string }

// run performs one connection: connect, TLS, then an echo, a request and
// response, or a bare connect with a settle read.
func (pr *prober) run(ctx context.Context) *probe {
	p := pr.work(ctx)
	if p.total == 0 {
		p.total = time.Since(pr.start)
	}
	return p
}

// dial connects to the first address that accepts: a name with A and AAAA
// records behind an IPv4-only socat is reachable, as with check_tcp.
func (pr *prober) dial(ctx context.Context) (net.Conn, target, error) {
	var last error
	for _, t := range pr.addrs {
		conn, err := pr.dialer.DialContext(ctx, t.network, t.addr)
		if err == nil {
			return conn, t, nil
		}
		last = err
		if !(errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)) || ctx.Err() != nil {
			return nil, t, err
		}
	}
	return nil, pr.addrs[len(pr.addrs)-1], last
}

func (pr *prober) work(ctx context.Context) *probe {
	p := &probe{}
	pr.env.SetStage(stageConnect)
	p.stage = stageConnect
	t0 := time.Now()
	conn, dialed, err := pr.dial(ctx)
	p.connect = time.Since(t0)
	if err != nil {
		return pr.dialFailure(ctx, p, dialed, err)
	}
	pr.env.Publish(stageMetric("connect_time", "connect", p.connect))
	p.conn = conn
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	pr.env.Debugf("connected %s -> %s in %s", conn.LocalAddr(), conn.RemoteAddr(), p.connect)

	if pr.tls != nil {
		pr.env.SetStage(stageTLS)
		p.stage = stageTLS
		cfg := pr.tls.Clone()
		clientCert := cfg.Certificates
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			p.certRequested = true
			if len(clientCert) > 0 {
				return &clientCert[0], nil
			}
			return &tls.Certificate{}, nil
		}
		tc := tls.Client(conn, cfg)
		t1 := time.Now()
		err := tc.HandshakeContext(ctx)
		p.handshake = time.Since(t1)
		if err != nil {
			return pr.ioFailure(ctx, p, stageTLS, err)
		}
		pr.env.Publish(stageMetric("tls_time", "tls", p.handshake))
		st := tc.ConnectionState()
		p.tlsState = &st
		p.conn = tc
		pr.env.Debugf("TLS %s %s, client certificate requested: %v", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), p.certRequested)
	}

	switch {
	case pr.cfg.EchoBytes > 0:
		return pr.echo(ctx, p)
	case pr.cfg.readsResponse():
		return pr.request(ctx, p)
	default:
		return pr.settle(ctx, p)
	}
}

// dialFailure classifies a failed connect.
func (pr *prober) dialFailure(ctx context.Context, p *probe, t target, err error) *probe {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return p.fail(outcomeRefused, stageConnect, "connection refused")
	case errors.Is(err, syscall.EAGAIN) && pr.cfg.Unix != "":
		// A UNIX listener whose backlog is full refuses at once; Go calls
		// EAGAIN a timeout, but nothing was waited for.
		return p.fail(outcomeFailed, stageConnect, "the listener's backlog is full: it takes no more connections (max-children or backlog reached)")
	case isTimeout(ctx, err):
		return p.fail(outcomeTimeout, stageConnect, "no answer to the connection request")
	case pr.cfg.Source != "" && errors.Is(err, syscall.EADDRNOTAVAIL):
		return p.fail(outcomeConfig, stageConnect, "--source %s is not an address of this host: give a local address", pr.cfg.Source)
	case errors.Is(err, syscall.ENOENT) && pr.cfg.Unix != "":
		return p.fail(outcomeFailed, stageConnect, "no socket at %s", pr.cfg.Unix)
	case checks.OutOfFDs(err):
		return p.fail(outcomeConfig, stageConnect, "%s", checks.OutOfFDsText(err, " at connect, or lower --connections"))
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return p.fail(outcomeConfig, stageConnect, "permission denied connecting to %s: run as a user that may", t.addr)
	}
	return p.fail(outcomeFailed, stageConnect, "%s", errText(err))
}

// ioFailure classifies an error during TLS, send or read.
func (pr *prober) ioFailure(ctx context.Context, p *probe, stage string, err error) *probe {
	var opErr *net.OpError
	// A TLS 1.3 server that wants a client certificate rejects us after
	// the handshake; a request written meanwhile can meet the reset
	// before we read the alert. Read it: it says why.
	// The same holds when we presented a certificate it does not trust.
	reset := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	if reset && p.tlsState != nil && p.certRequested {
		deadline := time.Now().Add(200 * time.Millisecond)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = p.conn.SetReadDeadline(deadline)
		_, rerr := p.conn.Read(make([]byte, 1))
		switch {
		case errors.As(rerr, &opErr) && opErr.Op == "remote error":
			err = rerr
		case len(pr.tls.Certificates) == 0:
			return p.fail(outcomeFailed, stageTLS, "rejected after the handshake: %s (the server asked for a client certificate: give --cert/--key)", errText(err))
		}
	}
	switch {
	case isTimeout(ctx, err):
		what := map[string]string{
			stageTLS:         "no TLS handshake completed",
			stageSend:        "the request could not be sent",
			stageFirstByte:   "nothing received",
			stageExpectation: "the response was still incomplete",
			stageIntegrity:   "the echo was still incomplete",
		}[stage]
		return p.fail(outcomeTimeout, stage, "%s", what)
	case errors.Is(err, syscall.ECONNREFUSED):
		// UDP: the ICMP port unreachable of a closed port.
		return p.fail(outcomeRefused, stageConnect, "connection refused")
	case !p.gotFirst && (stage == stageSend || stage == stageFirstByte) &&
		(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		// socat accepted (and finished its TLS handshake), then ended the
		// connection when its own connect failed: closed or reset, by
		// timing, it is the same event and said the same way.
		p.closed = true
		return p.fail(outcomeFailed, stage, "%s", closedEarly)
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		hint := ""
		if p.certRequested && len(pr.tls.Certificates) == 0 {
			hint = " (a client certificate is required: give --cert/--key)"
		}
		if p.tlsState != nil {
			return p.fail(outcomeFailed, stageTLS, "rejected after the handshake: %s%s", errText(err), hint)
		}
		return p.fail(outcomeFailed, stageTLS, "%s%s", errText(err), hint)
	case errors.Is(err, syscall.ECONNRESET):
		return p.fail(outcomeFailed, stage, "connection reset by peer")
	case errors.Is(err, syscall.EPIPE):
		return p.fail(outcomeFailed, stage, "connection closed by peer (broken pipe)")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if stage == stageTLS {
			return p.fail(outcomeFailed, stage, "connection closed by peer during the handshake (is it a TLS port?)")
		}
		return p.fail(outcomeFailed, stage, "connection closed by peer")
	}
	if stage == stageTLS {
		var recErr tls.RecordHeaderError
		if errors.As(err, &recErr) {
			h := recErr.RecordHeader
			if h[0] >= 20 && h[0] <= 24 && h[1] == 3 {
				// A TLS record header with an impossible length: a broken
				// TLS peer, not a plaintext one.
				return p.fail(outcomeFailed, stage, "the peer sent an invalid TLS record: %s", sanitize.Text(recErr.Msg, 80))
			}
			return p.fail(outcomeFailed, stage, "the peer does not speak TLS (it answered \"%s\")", sanitize.Bytes(recErr.RecordHeader[:], 20))
		}
	}
	return p.fail(outcomeFailed, stage, "%s", errText(err))
}

// request sends --send and reads the response until every expectation is
// met, the response is complete (EOF, --max-bytes) or the deadline.
func (pr *prober) request(ctx context.Context, p *probe) *probe {
	cfg := pr.cfg
	request := cfg.Send
	if cfg.HTTP != nil {
		request = cfg.HTTP.request(cfg)
	}
	if len(request) > 0 {
		pr.env.SetStage(stageSend)
		p.stage = stageSend
		if _, err := p.conn.Write(request); err != nil {
			return pr.ioFailure(ctx, p, stageSend, err)
		}
	}
	sent := time.Now()
	pr.env.SetStage(stageFirstByte)
	p.stage = stageFirstByte
	m := newMatcher(cfg)
	buf := make([]byte, 0, min(cfg.MaxBytes, 4096))
	chunk := make([]byte, min(cfg.MaxBytes, pr.chunk))
	if cfg.UDP {
		chunk = make([]byte, 65536) // a whole datagram
	}
	deadline, hasDeadline := ctx.Deadline()
	idleIsDeadline := true      // before the first byte, reads wait for the deadline
	var pause, idleAt time.Time // a short wait to give a deferred regex its run
	var lastData time.Time
	for {
		n, err := p.conn.Read(chunk[:min(len(chunk), cfg.MaxBytes-len(buf))])
		if n > 0 || (err == nil && cfg.UDP) { // an empty datagram is an answer too
			if !p.gotFirst {
				p.gotFirst, p.firstByte = true, time.Since(sent)
				pr.env.SetStage(stageExpectation)
				p.stage = stageExpectation
			}
			buf = appendBounded(buf, chunk[:n], cfg.MaxBytes)
			p.received, p.nrecv = buf, int64(len(buf))
			lastData = time.Now()
			if cfg.HTTP != nil && p.httpStatus == 0 {
				code, line, complete, err := httpStatus(buf)
				switch {
				case err != nil:
					return p.fail(outcomeMismatch, stageExpectation, "%s", err)
				case complete && !cfg.HTTP.allows(code):
					p.httpStatus, p.httpLine = code, line
					return p.fail(outcomeMismatch, stageExpectation, "HTTP status %d, not in --http-status %s: \"%s\"", code, cfg.HTTP.Text, line)
				case complete:
					p.httpStatus, p.httpLine = code, line
				}
			}
			verdict := m.feed(buf)
			p.matched = m.met()
			// Over UDP one datagram is the whole response, unless --until
			// says what ends it.
			datagram := cfg.UDP && len(cfg.Until) == 0
			httpPending := cfg.HTTP != nil && p.httpStatus == 0
			switch {
			case verdict == matchReject:
				return p.fail(outcomeMismatch, stageExpectation, "%s", m.rejectWhy(buf))
			case verdict == matchAll && !httpPending:
				return pr.pass(p, m, buf)
			case verdict == matchNever:
				return p.fail(outcomeMismatch, stageExpectation, "%s", m.why(buf, "the response"))
			case verdict == matchUntil || datagram && cfg.readsToTheEnd():
				scope := "the response up to --until \"" + sanitize.Bytes(cfg.Until, 40) + "\""
				if verdict != matchUntil {
					scope = "the datagram (over UDP one datagram is the response: give --until for more)"
				}
				return pr.judge(p, m, buf, scope)
			case len(buf) >= cfg.MaxBytes:
				return pr.judge(p, m, buf, fmt.Sprintf("the first %d bytes (--max-bytes)", cfg.MaxBytes))
			case !cfg.readsToTheEnd() && !httpPending:
				return pr.pass(p, m, buf) // nothing (more) to judge: the first data is the answer
			}
			// More may come: wait at most --read-timeout for it (as
			// check_tcp does), then the response is complete.
			idle := time.Now().Add(cfg.ReadTimeout)
			idleIsDeadline = hasDeadline && !idle.Before(deadline)
			if idleIsDeadline {
				idle = deadline
			}
			_ = p.conn.SetReadDeadline(idle)
			// The regex skipped the last bytes (see matcher): if the peer
			// pauses, run it then rather than wait for --read-timeout.
			pause = time.Time{}
			if wait, ok := m.deferred(buf); ok && time.Now().Add(wait).Before(idle) {
				pause, idleAt = time.Now().Add(wait), idle
				_ = p.conn.SetReadDeadline(pause)
			}
		}
		if err != nil && !pause.IsZero() && isTimeout(ctx, err) && ctx.Err() == nil && time.Now().Before(idleAt) {
			pause = time.Time{}
			if m.finish(buf) == matchAll && len(cfg.Until) == 0 && (cfg.HTTP == nil || p.httpStatus != 0) {
				return pr.pass(p, m, buf)
			}
			_ = p.conn.SetReadDeadline(idleAt)
			continue
		}
		if err != nil {
			if p.gotFirst && cfg.readsToTheEnd() {
				switch v := m.finish(buf); {
				case v == matchReject:
					return p.fail(outcomeMismatch, stageExpectation, "%s", m.rejectWhy(buf))
				case v == matchAll && (cfg.HTTP == nil || p.httpStatus != 0) && (!isTimeout(ctx, err) || !idleIsDeadline):
					// Every expectation met (the regex's last run, on the
					// whole response), and nothing rejected in a response
					// that is complete: the peer closed, or nothing more
					// came for --read-timeout (a missing --until marker is
					// not a failure of its own, as at --max-bytes).
					return pr.pass(p, m, buf)
				}
			}
			if cfg.HTTP != nil && p.httpStatus == 0 && p.gotFirst && (errors.Is(err, io.EOF) || isTimeout(ctx, err)) {
				return p.fail(outcomeMismatch, stageExpectation, "no complete HTTP status line; received %d B: \"%s\"", len(buf), sanitize.Bytes(buf, 60))
			}
			if errors.Is(err, io.EOF) && p.gotFirst && cfg.readsToTheEnd() {
				return p.fail(outcomeMismatch, stageExpectation, "%s", m.why(buf, "the whole response (the peer closed)"))
			}
			if errors.Is(err, io.EOF) && !p.gotFirst {
				p.closed = true
				return p.fail(outcomeFailed, stageFirstByte, "%s", closedEarly)
			}
			if errors.Is(err, io.EOF) {
				return p
			}
			if p.gotFirst && isTimeout(ctx, err) {
				if !idleIsDeadline {
					return p.fail(outcomeMismatch, stageExpectation, "%s", m.why(buf, fmt.Sprintf("the response (nothing more came for %s)", cfg.ReadTimeout)))
				}
				// The deadline came before --read-timeout could say the
				// response was complete: whether more would come is unknown.
				scope := fmt.Sprintf("what arrived before the deadline (the last byte %s before it; the deadline left no room for --read-timeout %s)",
					time.Since(lastData).Round(time.Millisecond), cfg.ReadTimeout)
				return p.fail(outcomeTimeout, stageExpectation, "%s", m.why(buf, scope))
			}
			return pr.ioFailure(ctx, p, p.stage, err)
		}
	}
}

// judge decides on a complete response: every expectation met, and
// nothing rejected.
func (pr *prober) judge(p *probe, m *matcher, buf []byte, scope string) *probe {
	switch m.finish(buf) {
	case matchReject:
		return p.fail(outcomeMismatch, stageExpectation, "%s", m.rejectWhy(buf))
	case matchAll:
		return pr.pass(p, m, buf)
	}
	return p.fail(outcomeMismatch, stageExpectation, "%s", m.why(buf, scope))
}

// pass is the one way a response is accepted: an --http-status line
// judged, and the --reject-regex given a last run over the whole
// response (it may have skipped bytes to stay within its budget).
func (pr *prober) pass(p *probe, m *matcher, buf []byte) *probe {
	if pr.cfg.HTTP != nil && p.httpStatus == 0 {
		return p.fail(outcomeMismatch, stageExpectation, "no complete HTTP status line in %d B: \"%s\"", len(buf), sanitize.Bytes(buf, 60))
	}
	if m.rejectedIn(buf, true) {
		return p.fail(outcomeMismatch, stageExpectation, "%s", m.rejectWhy(buf))
	}
	p.matched = m.met()
	return p
}

// appendBounded appends b to buf without letting the buffer's capacity
// grow past max: append doubles, and a few connections of --max-bytes 8M
// must not cost 16 MiB each.
func appendBounded(buf, b []byte, limit int) []byte {
	if len(buf)+len(b) <= cap(buf) {
		return append(buf, b...)
	}
	grown := make([]byte, len(buf), min(limit, max(2*cap(buf), len(buf)+len(b))))
	copy(grown, buf)
	return append(grown, b...)
}

// settle waits briefly after a bare connect for the peer to close: socat
// accepts a connection even when its backend is down and closes it right
// after its own connect fails. A TLS 1.3 listener that rejects the client
// certificate says so only after the handshake, in the same way.
func (pr *prober) settle(ctx context.Context, p *probe) *probe {
	p.total = time.Since(pr.start) // the wait below is not response time
	window := pr.cfg.Settle
	if window <= 0 && !(p.certRequested && p.tlsState != nil && p.tlsState.Version >= tls.VersionTLS13) {
		return p
	}
	window = max(window, 3*p.connect)
	if p.certRequested {
		window = max(window, 3*p.handshake, 100*time.Millisecond)
	}
	deadline := time.Now().Add(window)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	pr.env.Debugf("settle: waiting up to %s for the peer to close", time.Until(deadline).Round(time.Microsecond))
	_ = p.conn.SetReadDeadline(deadline)
	start := time.Now()
	buf := make([]byte, 4096)
	n, err := p.conn.Read(buf)
	if n > 0 {
		// A banner: the attempt lasted until it came (time is never
		// less than first_byte_time).
		p.gotFirst, p.firstByte = true, time.Since(start)
		p.received, p.nrecv = append([]byte(nil), buf[:n]...), int64(n)
		p.total = time.Since(pr.start)
		return p
	}
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return p // quiet and open: fine
	}
	if d, ok := ctx.Deadline(); ok {
		_ = p.conn.SetDeadline(d)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		return pr.ioFailure(ctx, p, stageTLS, err)
	}
	after, stage := "accept", stageConnect
	if p.tlsState != nil {
		after, stage = "the TLS handshake", stageTLS // (the stage that ended: the handshake, then the close)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		p.closed = true
		return p.fail(outcomeFailed, stage, "closed by the peer right after %s (socat's backend down?)", after)
	}
	return pr.ioFailure(ctx, p, stageConnect, err)
}

// closedEarly is a connection socat ended before any byte of the answer.
const closedEarly = "closed by the peer before any byte (socat's backend down?)"

// isTimeout reports whether err is the run's deadline.
func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return ctx.Err() != nil
}

// errText is an error without Go's "dial tcp 1.2.3.4:5->...:" prefixes,
// sanitized: errors carry text from the peer (x509 errors quote the
// certificate's names, which may hold newlines or '|').
func errText(err error) string {
	return sanitize.Text(rawErrText(err), 200)
}

func rawErrText(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		if opErr.Op == "remote error" {
			return "remote error: " + opErr.Err.Error()
		}
		err = opErr.Err
	}
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		err = sysErr.Err
	}
	return err.Error()
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return n
	}
	return -1
}

package tlscheck

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/networds"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
	"github.com/check-socat/check-socat/internal/tlsscan"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// Run performs the check.
func Run(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	if err := cfg.Validate(); err != nil {
		return checks.Unknownf("%v", err)
	}
	if cfg.CertFile != "" {
		return runFile(env, cfg)
	}
	return runLive(ctx, env, cfg)
}

// weakness says whether and how badly a suite is weak under the policy.
func weakness(cfg *Config, s *tlswire.Suite) (state.State, string) {
	if cfg.AllowCiphers[s.Code] {
		return state.OK, ""
	}
	w := s.Weaknesses()
	var crit, warn []string
	add := func(cond bool, list *[]string, name string) {
		if cond {
			*list = append(*list, name)
		}
	}
	add(w.Null, &crit, "NULL")
	add(w.Anonymous, &crit, "anonymous")
	add(w.Export, &crit, "EXPORT")
	if cfg.Policy != PolicyLegacy {
		add(w.RC4, &crit, "RC4")
		add(w.DES, &crit, "DES")
		add(w.TripleDES, &crit, "3DES")
		add(w.MD5, &crit, "MD5")
	}
	if cfg.Policy == PolicyStrict {
		add(w.CBCSHA1, &warn, "CBC with SHA-1")
		add(w.NoForwardSecrecy, &warn, "no forward secrecy")
	}
	switch {
	case len(crit) > 0:
		return state.Critical, strings.Join(crit, ", ")
	case len(warn) > 0:
		return state.Warning, strings.Join(warn, ", ")
	}
	return state.OK, ""
}

func runLive(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	start := time.Now()
	roots, clientCert, err := loadTrust(&cfg)
	if err != nil {
		return checks.Unknownf("%v", err)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	target := "tls://" + sanitize.Text(addr, 120)
	isIP := false
	if _, err := netip.ParseAddr(cfg.Host); err == nil {
		isIP = true
	}
	// The name sent: --sni, else the name to verify (--hostname: a
	// name-based virtual host is judged on its own certificate, not the
	// default one), else -H when it is a name. An IP is never sent.
	sni := cfg.SNI
	if _, err := netip.ParseAddr(cfg.Hostname); sni == "" && cfg.Hostname != "" && err != nil {
		sni = strings.TrimSuffix(cfg.Hostname, ".") // (as Go's handshake sends it)
	}
	if sni == "" && !isIP {
		sni = cfg.Host
	}
	name := cfg.Hostname
	if name == "" {
		name = sni
	}
	if name == "" {
		name = cfg.Host
	}
	// The name is resolved once, not for each of a hundred probes; a name
	// that does not resolve is said as such.
	env.SetStage("resolve")
	addrs := []string{cfg.Host}
	if !isIP {
		var err error
		addrs, err = net.DefaultResolver.LookupHost(ctx, cfg.Host)
		if err != nil || len(addrs) == 0 {
			st := state.Critical
			if ctx.Err() != nil {
				st = env.TimeoutState
			}
			why := "no address"
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) {
				why = dnsErr.Err
			}
			text := fmt.Sprintf("%s does not resolve (%s)", sanitize.Text(cfg.Host, 80), sanitize.Text(why, 80))
			return checks.Result{State: st, Summary: target + ": " + text,
				Findings: []checks.Finding{{ID: "unresolvable", State: st, Subject: target, Text: text, Quiet: true}},
				Metrics:  []checks.Metric{durationMetric(start)}}
		}
	}
	// Every connection of the run, handshakes and scan, shares the
	// --parallel bound, and goes to the first address that accepted one.
	var good atomic.Int32
	dial := tlsscan.Limit(func(ctx context.Context) (net.Conn, error) {
		d := net.Dialer{KeepAlive: -1} // short connections: no keepalive system calls
		first := int(good.Load())
		var err error
		for i := range addrs {
			j := (first + i) % len(addrs)
			var conn net.Conn
			if conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(addrs[j], strconv.Itoa(cfg.Port))); err == nil {
				good.Store(int32(j))
				return conn, nil
			}
		}
		return nil, err
	}, max(1, cfg.Parallel))

	// The certificate handshake and the scan run at once.
	env.SetStage("TLS handshake")
	var scan *tlsscan.Result
	scanCut := false // the deadline came before the scan ended
	var wg sync.WaitGroup
	if !cfg.CertOnly {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := checks.Safely(func() error { scan = tlsscan.Scan(ctx, dial, sni, cfg.Parallel); return nil }); err != nil {
				scan = &tlsscan.Result{Protocols: map[uint16]bool{}, Suites: map[uint16][]uint16{}, Errors: map[uint16]error{0: err}}
			}
			scanCut = ctx.Err() != nil
		}()
	}
	// A second handshake, without our certificate, follows the first
	// when we present one: the first's wait leaves it time.
	second := clientCert != nil && (cfg.RequireClientAuth || !cfg.CertOnly)
	h := goHandshake(ctx, dial, sni, clientCert, cfg.Settle, second)
	if h.ok || h.rejected {
		env.Publish(handshakeMetric(h.duration, cfg.Warn, cfg.Crit))
	}
	// Whether a client without a certificate is turned away: asked only
	// when we presented one (the main handshake answered it otherwise),
	// and with --cert-only only when --require-client-auth wants to know:
	// socat logs that handshake as an error, and a per-minute check must
	// not raise check_socat_logs on the relay's log.
	noCert := h
	untried, separate := false, false
	if clientCert != nil && h.ok && h.requested && !h.rejected {
		if second {
			noCert, separate = goHandshake(ctx, dial, sni, nil, cfg.Settle, false), true
		} else {
			untried = true
		}
	}
	if !cfg.CertOnly {
		env.SetStage("suite scan")
	}
	wg.Wait()
	res := checks.Result{}
	// failed is a run that ends before any certificate: the summary says
	// it, the finding carries it to JSON and OpenMetrics.
	failed := func(id string, st state.State, sep, text string) checks.Result {
		return checks.Result{State: st, Summary: target + sep + text,
			Findings: []checks.Finding{{ID: id, State: st, Subject: target, Text: text, Quiet: true}},
			Metrics:  []checks.Metric{durationMetric(start)}}
	}

	switch {
	case h.refused:
		return failed("refused", state.Critical, ": ", "connection refused")
	case h.notTLS && h.echo:
		return failed("not-tls", state.Critical, " ", "does not speak TLS (it sent our ClientHello back: a plaintext relay or an echo)")
	case h.notTLS:
		return failed("not-tls", state.Critical, " ", "does not speak TLS (it answered in plaintext"+quoteAnswer(h.answer)+")")
	case h.timeout && (scan == nil || countPairs(scan) == 0):
		return failed("timeout", env.TimeoutState, " ", "timed out at stage TLS handshake: no handshake completed before the deadline")
	}

	var problems []problem
	chain := h.chain
	requested := h.requested
	rejects := noCert.rejected
	var own *tlsscan.NoCert // client auth learnt from our own hello
	var unreadable error    // the certificate came, but Go's x509 cannot read it
	if len(chain) == 0 {
		// crypto/tls could not complete a handshake (NULL, anonymous, DHE
		// or ARIA suites only, SSLv3): the certificates from our own
		// hello, and what the server does with a client without one.
		env.SetStage("TLS handshake") // our own hello, after the scan
		raw, req, nc, rerr := rawChain(ctx, dial, sni, scan)
		chain, requested = raw, requested || req
		var cpe *certParseError
		if len(raw) == 0 && errors.As(rerr, &cpe) {
			// (A brainpool or secp256k1 key: the server answers, Go
			// cannot parse what it sent. The scan stands.)
			unreadable = cpe.err
		} else if len(raw) == 0 && rerr != nil && h.err != nil {
			return failed("handshake-failed", state.Critical, ": ", "no TLS handshake succeeds ("+networds.Failure("TLS handshake", h.err)+")")
		}
		if req {
			own, rejects = &nc, nc.Refused
		}
	}
	now := time.Now()
	var cr certReport
	if unreadable == nil {
		cr = analyzeChain(chain, &cfg, roots, name, now)
	} else {
		problems = append(problems, finding("cert-unreadable", state.Unknown, fmt.Sprintf("the server's certificate cannot be read by Go's crypto/x509 (%s): its dates, name, key and chain are not checked here; check them with openssl x509", sanitize.Text(unreadable.Error(), 80))))
	}
	// Every certificate the server holds is audited, not only the one
	// this client's offer selected (issue 16: an ECDSA certificate served
	// without its intermediate passed beside a good RSA one).
	var certs []certReport
	if unreadable == nil {
		certs = []certReport{cr}
	}
	var certNotes []string
	if scan != nil && cr.leaf != nil {
		var others [][]*x509.Certificate
		others, certNotes = otherCerts(ctx, dial, sni, scan, cr.leaf)
		for _, other := range others {
			certs = append(certs, analyzeChain(other, &cfg, roots, name, now))
		}
	}
	first := cr // the first to expire, for days_left and cert_age
	for i := range certs {
		if certs[i].daysLeft < first.daysLeft {
			first = certs[i]
		}
		if len(certs) > 1 {
			for j := range certs[i].problems {
				certs[i].problems[j].Text = "the " + certKind(certs[i].leaf) + " certificate: " + certs[i].problems[j].Text
			}
		}
		problems = append(problems, certs[i].problems...)
	}

	// Client authentication.
	if clientCert != nil && h.rejected {
		// We presented a certificate and the server turned us away: the
		// certificate is not one it trusts (or has expired, or is for
		// another purpose). The endpoint serves nobody with it.
		problems = append(problems, finding("client-cert-rejected", state.Critical, fmt.Sprintf("the server rejected our client certificate (--client-cert): %s", h.reason)))
		rejects = true
	}
	undecided := own != nil && !own.Decided
	// The handshake without a certificate did not get to the server's
	// verdict (the deadline, or a failure of its own): not "accepted".
	unanswered := own == nil && requested && !noCert.rejected && (noCert.cut || (separate && !noCert.ok))
	undecided = undecided || unanswered
	switch {
	case cfg.RequireClientAuth && unanswered && (noCert.cut || noCert.timeout):
		problems = append(problems, finding("timeout", env.TimeoutState, "timed out at stage TLS handshake without a client certificate: whether the server refuses a client without one is unknown (raise -t)"))
	case cfg.RequireClientAuth && unanswered:
		problems = append(problems, finding("client-auth-unknown", state.Unknown, "the server asks for a client certificate, but the handshake without one failed before its verdict ("+networds.Failure("TLS handshake", noCert.err)+") (--require-client-auth)"))
	case cfg.RequireClientAuth && !requested:
		problems = append(problems, finding("client-auth-not-requested", state.Critical, "the server does not ask for a client certificate (--require-client-auth)"))
	case cfg.RequireClientAuth && undecided:
		problems = append(problems, finding("client-auth-unknown", state.Unknown, "the server asks for a client certificate, but whether it refuses a client without one could not be learnt (no handshake of Go's own, and no telling answer to our own hello's empty certificate) (--require-client-auth)"))
	case cfg.RequireClientAuth && !rejects:
		problems = append(problems, finding("client-auth-optional", state.Critical, "the server asks for a client certificate but accepts clients without one at the TLS layer (--require-client-auth; an application behind it may still refuse them, as nginx's ssl_verify_client on does with HTTP 400)"))
	}

	// Protocols and suites.
	var details []string
	accepted, weakProtocols, pairs, weakPairs := 0, 0, 0, 0
	if scan != nil {
		versions := []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
		var below []string
		for _, v := range versions {
			if !scan.Protocols[v] {
				continue
			}
			accepted++
			if v < cfg.MinProtocol {
				weakProtocols++
				below = append(below, tlswire.VersionName(v))
			}
		}
		if len(below) > 0 {
			problems = append(problems, finding("weak-protocol", state.Critical, fmt.Sprintf("accepts %s, below --min-protocol %s", strings.Join(below, ", "), tlswire.VersionName(cfg.MinProtocol))))
		}
		weakBy := map[string][]string{}
		worst := map[string]state.State{}
		for _, v := range versions {
			for _, code := range scan.Suites[v] {
				pairs++
				s := tlswire.Suites().ByCode(code)
				if v == tlswire.VersionSSL2 {
					continue
				}
				st, why := weakness(&cfg, s)
				if st == state.OK {
					continue
				}
				weakPairs++
				key := why
				weakBy[key] = appendUnique(weakBy[key], s.Name)
				worst[key] = state.Worst(worst[key], st)
			}
		}
		keys := make([]string, 0, len(weakBy))
		for k := range weakBy {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if worst[keys[i]] != worst[keys[j]] {
				return worst[keys[i]].Worse(worst[keys[j]])
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			problems = append(problems, finding("weak-cipher", worst[k], fmt.Sprintf("accepts %d %s suite%s: %s", len(weakBy[k]), k, plural(len(weakBy[k])), joinMax(weakBy[k], 6))))
		}
		// An incomplete scan must not pass as a clean one: a deadline is
		// --timeout-state, any other failure UNKNOWN, naming what failed.
		var failed []string
		for _, v := range versions {
			if err := scan.Errors[v]; err != nil {
				failed = append(failed, fmt.Sprintf("%s (%s)", tlswire.VersionName(v), networds.Failure("suite scan", err)))
			}
		}
		if err := scan.Errors[0]; err != nil {
			failed = append(failed, networds.Failure("suite scan", err))
		}
		// The deadline shows as the context's error, or (a moment before
		// its timer fires) as connections that timed out at it.
		deadlineHit := scanCut
		for _, err := range scan.Errors {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadlineHit = true
			}
		}
		switch {
		case deadlineHit:
			problems = append(problems, finding("timeout", env.TimeoutState, fmt.Sprintf("timed out at stage suite scan: %d protocols and %d suites seen before the deadline, the counts are incomplete (raise -t)", accepted, pairs)))
		case len(failed) > 0:
			hint := ""
			if h.ok {
				hint = "; a socat without fork serves one connection: audit it with --cert-only"
			}
			problems = append(problems, finding("scan-incomplete", state.Unknown, fmt.Sprintf("the suite scan is incomplete: probing %s failed%s", joinMax(failed, 3), hint)))
		case accepted == 0 && h.ok:
			problems = append(problems, finding("scan-incomplete", state.Unknown, "the suite scan found no protocol, though a handshake succeeded"))
		}
		if scan.UnrecognizedName {
			details = append(details, fmt.Sprintf("the server warned unrecognized_name: it does not know the SNI name %s and answered with its default certificate", sanitize.Text(sni, 80)))
		}
		if env.Verbose >= 1 {
			for _, v := range versions {
				if v == tlswire.VersionSSL2 && scan.Protocols[v] {
					details = append(details, fmt.Sprintf("SSLv2: %d cipher specs (not counted as suites, as sslscan)", scan.SSLv2Specs))
					continue
				}
				if scan.Protocols[v] {
					var names []string
					for _, c := range scan.Suites[v] {
						names = append(names, tlswire.Suites().ByCode(c).Name)
					}
					details = append(details, fmt.Sprintf("%s: %d suites: %s", tlswire.VersionName(v), len(names), strings.Join(names, " ")))
				}
			}
		}
	}

	// The handshake is timed when it completed, or went as far as the
	// server's refusal of our client certificate or of its absence: TLS
	// 1.2 and below refuse inside the handshake, TLS 1.3 after it. Either
	// way it is the time to the server's answer, which -w/-c judge.
	timed := h.ok || h.rejected
	hsState := state.OK
	if timed {
		hsState = threshold.Evaluate(h.duration.Seconds(), cfg.Warn, cfg.Crit)
		if hsState != state.OK {
			problems = append(problems, finding("slow-handshake", hsState, fmt.Sprintf("the handshake took %.3f s", h.duration.Seconds())))
		}
	}

	checks.Sort(problems)
	setSubject(problems, target)
	res.Findings = problems
	res.State = checks.Worst(res.State, problems)
	if env.Verbose >= 1 {
		for _, c := range certs {
			res.Details = append(res.Details, c.lines...)
		}
		res.Details = append(res.Details, certNotes...)
		if h.ok {
			without := fmt.Sprint(rejects)
			switch {
			case untried:
				without = "not tried (--require-client-auth tries it)"
			case unanswered:
				without = "unknown (no verdict before the deadline, or the handshake failed)"
			}
			line := fmt.Sprintf("handshake: %s %s in %.3f s, client certificate requested: %v, refused without one: %s",
				tlswire.VersionName(h.state.Version), tlswireName(h.state.CipherSuite), h.duration.Seconds(), requested, without)
			switch {
			case separate && noCert.after != "":
				line += " (the server's answer after the handshake: " + h.after + " with our certificate, " + noCert.after + " without)"
			case h.after != "":
				line += " (the server's answer after the handshake: " + h.after + ")"
			}
			res.Details = append(res.Details, line)
		}
	}
	if own != nil {
		how := "refused without one (alert " + own.Alert + ")"
		switch {
		case !own.Decided && own.Alert != "":
			how = "no telling answer to an empty certificate (alert " + own.Alert + ")"
		case !own.Decided:
			how = "no telling answer to an empty certificate (no alert)"
		case !own.Refused:
			how = "an empty certificate accepted"
		}
		line := "client authentication learnt from our own hello (no handshake of Go's own): certificate requested, " + how
		if clientCert != nil {
			line += "; our --client-cert could not be presented"
		}
		res.Details = append(res.Details, line)
	}
	if strings.HasPrefix(noCert.after, "nothing") && !noCert.rejected && !noCert.cut {
		details = append(details, "no alert, session ticket or close came "+strings.TrimPrefix(noCert.after, "nothing ")+" of the TLS 1.3 handshake without a client certificate: taken as accepted")
	}
	if h.closed || noCert.closed {
		details = append(details, "the server closed the connection right after the TLS handshake without an error alert: its TLS side accepted us (socat does this when it cannot reach its backend; check_socat_endpoint tests the relay)")
	}
	res.Details = append(res.Details, details...)

	clientAuth := "no client certificate asked"
	switch {
	case requested && rejects:
		clientAuth = "client certificate required"
	case requested && (untried || undecided):
		clientAuth = "client certificate requested"
	case requested:
		clientAuth = "client certificate optional (accepted without one at the TLS layer; the application may still refuse)"
	}
	if len(problems) > 0 {
		res.Summary = fmt.Sprintf("%s: %s", target, problems[0].Text) + checks.More(len(problems)-1, "problem")
	} else {
		// Without a handshake of Go's own (a suite or key crypto/tls does
		// not speak), the certificate was read from our own hello.
		proto := "no handshake of Go's own (the certificate read from our own hello)"
		if h.ok || (timed && h.state.Version != 0) {
			proto = tlswire.VersionName(h.state.Version)
		}
		cn, days := "?", cr.daysLeft
		if cr.leaf != nil {
			cn, days = subjectOf(cr.leaf), time.Until(cr.leaf.NotAfter).Hours()/24 // the leaf's own
		}
		what := fmt.Sprintf("certificate %s valid %.1f days", cn, days)
		if len(certs) > 1 {
			var each []string
			for _, c := range certs {
				each = append(each, fmt.Sprintf("%s (%s) valid %.1f days", subjectOf(c.leaf), certKind(c.leaf), time.Until(c.leaf.NotAfter).Hours()/24))
			}
			what = fmt.Sprintf("%d certificates: %s", len(certs), strings.Join(each, ", "))
		}
		res.Summary = fmt.Sprintf("%s %s, %s, %s", target, proto, what, clientAuth)
		if scan != nil {
			res.Summary += fmt.Sprintf(", %d protocols, %d protocol/suite pairs, none weak", accepted, pairs)
		}
	}
	if sni != "" {
		res.Details = append(res.Details, "server name sent (SNI): "+sanitize.Text(sni, 120))
	} else {
		res.Details = append(res.Details, "no server name sent (SNI): -H is an address; give --hostname or --sni for a name-based virtual host")
	}
	if !timed && (cfg.Warn.IsSet() || cfg.Crit.IsSet()) {
		res.Details = append(res.Details, "-w/-c not applied: no handshake of Go's own to time")
	}

	var metrics []checks.Metric
	if unreadable == nil {
		metrics = certMetrics(first, cfg.WarningDays, cfg.CriticalDays)
	}
	if timed {
		metrics = append(metrics, handshakeMetric(h.duration, cfg.Warn, cfg.Crit))
	}
	if scan != nil {
		metrics = append(metrics, scanMetrics(accepted, weakProtocols, pairs, weakPairs, scan.Protocols, scan.Errors)...)
	}
	if unreadable == nil {
		metrics = append(metrics, chainMetric(cr), keyMetric(cr))
	}
	res.Metrics = append(metrics, durationMetric(start))
	return res
}

// quoteAnswer quotes the first line a plaintext peer sent, sanitized
// (": \"SSH-2.0-OpenSSH_9.2\"", ": \"HTTP/1.1 400 Bad Request\""), or
// its first bytes in hex when it is not text.
func quoteAnswer(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	line, cut := b, len(b) >= echoPrefix // (what was kept of a longer answer)
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line, cut = line[:i], false
	}
	text := len(line) > 0 && utf8.Valid(line)
	for _, r := range string(line) {
		if r < 0x20 || r == 0x7f {
			text = false
			break
		}
	}
	if text {
		q := sanitize.Bytes(line, 64)
		if cut {
			q += "..."
		}
		return ": \"" + q + "\""
	}
	n := min(len(b), 8)
	return fmt.Sprintf(": bytes % x", b[:n])
}

func tlswireName(code uint16) string { return tlswire.Suites().ByCode(code).Name }

func countPairs(r *tlsscan.Result) int {
	n := 0
	for _, s := range r.Suites {
		n += len(s)
	}
	return n
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

var (
	plural  = checks.Plural
	joinMax = checks.JoinMax
)

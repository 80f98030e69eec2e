package endpoint

import (
	"context"
	"crypto/tls"
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
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/smallfile"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

// attempt is one try: a resolution and Connections probes at once.
type attempt struct {
	probes  []*probe
	elapsed time.Duration
	state   state.State
	bound   time.Duration // its own bound (0: the deadline's)
}

// local reports whether the attempt failed for a local reason that a retry
// cannot change (a bad --source, no file descriptors).
func (a *attempt) local() bool {
	for _, p := range a.probes {
		if p.outcome == outcomeConfig {
			return true
		}
	}
	return false
}

// allOK reports whether every connection got its answer.
func (a *attempt) allOK() bool {
	for _, p := range a.probes {
		if p.outcome != outcomeOK {
			return false
		}
	}
	return true
}

// Run performs the check. It returns by the deadline of ctx.
func Run(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	if err := cfg.Validate(); err != nil {
		return checks.Unknownf("%v", err)
	}
	tlsCfg, err := clientTLS(&cfg)
	if err != nil {
		return checks.Unknownf("%v", err)
	}
	if env.Verbose >= 2 {
		env.Debugf("config: %+v", cfg)
	}
	r := &runner{cfg: &cfg, env: env, tls: tlsCfg, target: targetName(&cfg)}
	var attempts []*attempt
	for i := 0; ; i++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		bound := attemptBound(ctx, &cfg, i)
		if i == 0 {
			r.perAttempt = bound
		}
		if bound > 0 {
			actx, cancel = context.WithTimeout(ctx, bound)
		}
		a := r.attempt(actx)
		a.bound = bound
		cancel()
		attempts = append(attempts, a)
		env.Debugf("attempt %d: %s in %s", i+1, a.state, a.elapsed)
		if a.state == state.OK || i >= cfg.Retries || ctx.Err() != nil || a.local() {
			break
		}
		// Retry only with time for the delay and for an attempt like this
		// one (at most --attempt-timeout): a last attempt cut short by the
		// deadline would hide the real failure behind a timeout.
		next := max(a.elapsed, 100*time.Millisecond)
		if bound > 0 {
			next = min(next, bound)
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < cfg.RetryDelay+next {
			env.Debugf("no time left for another attempt")
			r.noTime = true
			break
		}
		timer := time.NewTimer(cfg.RetryDelay)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	return r.result(attempts)
}

type runner struct {
	cfg    *Config
	env    checks.Env
	tls    *tls.Config
	target string
	// perAttempt bounds each attempt (0: the deadline alone); noTime: a
	// retry was due but the deadline left no room for it.
	perAttempt time.Duration
	noTime     bool
}

// attemptBound is attempt i's bound: --attempt-timeout, or with
// --retries its share of the time left, evenly among the attempts left
// and the delays between them, so that an attempt that hangs (a relay
// whose only child slot is taken) leaves the retries their time. Where
// the delays would take more than half the time, the share ignores them
// (fewer retries then run, and the output says so). A share is never less
// than what a response needs (--read-timeout and half a second, when one
// is read), and the last attempt that fits gets all the time left. A
// service slower than its share fails the attempt, said with the bound:
// give --attempt-timeout. 0: no bound but the deadline.
func attemptBound(ctx context.Context, c *Config, i int) time.Duration {
	d, ok := ctx.Deadline()
	switch {
	case c.AttemptTimeout > 0:
		return c.AttemptTimeout
	case c.Retries == 0 || !ok || i >= c.Retries:
		return 0
	}
	left := time.Until(d)
	k := time.Duration(c.Retries + 1 - i) // attempts left, this one included
	per := (left - (k-1)*c.RetryDelay) / k
	if per < left/(2*k) {
		per = left / k
	}
	least := 100 * time.Millisecond
	if c.readsResponse() && c.ReadTimeout > 0 {
		least = c.ReadTimeout + 500*time.Millisecond
	}
	per = max(per, least)
	if left-per-c.RetryDelay < least {
		return 0 // no retry would fit after it: this one takes it all
	}
	return per * 19 / 20 // (a margin for the work between attempts)
}

// targetName names the endpoint in the output.
func targetName(c *Config) string {
	switch {
	case c.Unix != "":
		s := "unix:" + sanitize.Text(c.Unix, 80)
		if c.TLS != nil {
			s = "tls+" + s
		}
		return s
	case c.UDP:
		return "udp://" + net.JoinHostPort(sanitize.Text(c.Host, 80), strconv.Itoa(c.Port))
	case c.TLS != nil:
		return "tls://" + net.JoinHostPort(sanitize.Text(c.Host, 80), strconv.Itoa(c.Port))
	}
	return "tcp://" + net.JoinHostPort(sanitize.Text(c.Host, 80), strconv.Itoa(c.Port))
}

// clientTLS builds the crypto/tls client configuration from the files.
func clientTLS(c *Config) (*tls.Config, error) {
	t := c.TLS
	if t == nil {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS10, // report what the endpoint offers; check_socat_tls judges it
		InsecureSkipVerify: t.Insecure,       //nolint:gosec // --insecure is the user's explicit choice
		ServerName:         t.SNI,
	}
	if cfg.ServerName == "" && c.Unix == "" {
		cfg.ServerName = c.Host
	}
	if t.CAFile != "" {
		pem, err := smallfile.Read(t.CAFile, smallfile.PEMLimit)
		if err != nil {
			return nil, fmt.Errorf("cannot read --ca-file %s: %v", t.CAFile, unwrapPathError(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate: give the CA certificate(s) in PEM", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		key := t.KeyFile
		if key == "" {
			key = t.CertFile // socat's cert= may hold the key too
		}
		var pems [2][]byte
		for i, f := range []struct{ flag, path string }{{"--cert", t.CertFile}, {"--key", key}} {
			data, err := smallfile.Read(f.path, smallfile.PEMLimit)
			if err != nil {
				return nil, fmt.Errorf("cannot read %s %s: %v", f.flag, f.path, unwrapPathError(err))
			}
			pems[i] = data
		}
		pair, err := tls.X509KeyPair(pems[0], pems[1])
		if err != nil {
			return nil, fmt.Errorf("cannot load the client certificate from --cert %s and --key %s: %v", t.CertFile, key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolve returns the addresses to dial, in the resolver's order.
func (r *runner) resolve(ctx context.Context) ([]target, *probe) {
	c := r.cfg
	if c.Unix != "" {
		return []target{{"unix", c.Unix}}, nil
	}
	proto := "tcp"
	if c.UDP {
		proto = "udp"
	}
	family := c.Family
	if family == 0 && c.Source != "" {
		if a, err := netip.ParseAddr(c.Source); err == nil {
			family = 6
			if a.Unmap().Is4() {
				family = 4
			}
		}
	}
	r.env.SetStage(stageResolve)
	var ips []netip.Addr
	if a, err := netip.ParseAddr(c.Host); err == nil {
		ip := a.Unmap()
		if family == 4 && !ip.Is4() || family == 6 && ip.Is4() {
			return nil, (&probe{}).fail(outcomeConfig, stageResolve, "-H %s is not an IPv%d address, as --source %s is", c.Host, family, c.Source)
		}
		ips = []netip.Addr{ip}
	} else {
		lookup := map[int]string{0: "ip", 4: "ip4", 6: "ip6"}[family]
		found, err := net.DefaultResolver.LookupNetIP(ctx, lookup, c.Host)
		if err != nil {
			p := &probe{}
			if isTimeout(ctx, err) {
				return nil, p.fail(outcomeTimeout, stageResolve, "no answer from DNS for %s", sanitize.Text(c.Host, 80))
			}
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				return nil, p.fail(outcomeFailed, stageResolve, "%s does not resolve (%s)", sanitize.Text(c.Host, 80), lookup)
			}
			return nil, p.fail(outcomeFailed, stageResolve, "%s", errText(err))
		}
		if len(found) == 0 {
			return nil, (&probe{}).fail(outcomeFailed, stageResolve, "%s has no %s address", sanitize.Text(c.Host, 80), lookup)
		}
		for _, ip := range found {
			ips = append(ips, ip.Unmap())
		}
		r.env.Debugf("resolved %s to %v", c.Host, ips)
	}
	var out []target
	for _, ip := range ips {
		network := proto + "4"
		if !ip.Is4() {
			network = proto + "6"
		}
		out = append(out, target{network, net.JoinHostPort(ip.String(), strconv.Itoa(c.Port))})
	}
	return out, nil
}

// attempt resolves the target and runs Connections probes at once. Every
// connection stays open until all of them ended, so that N connections
// really are held at the same time (a max-children=1 relay serves only
// one of them).
func (r *runner) attempt(ctx context.Context) *attempt {
	start := time.Now()
	a := &attempt{}
	addrs, fail := r.resolve(ctx)
	if fail != nil {
		fail.total = time.Since(start)
		a.probes = []*probe{fail}
	} else {
		pr := &prober{cfg: r.cfg, env: r.env, addrs: addrs, start: start, chunk: r.cfg.chunkSize(), tls: r.tls}
		// A probe's connection lives for seconds: no TCP keepalive (four
		// system calls per connection for nothing).
		pr.dialer.KeepAlive = -1
		if r.cfg.Source != "" {
			ip := net.ParseIP(r.cfg.Source)
			if r.cfg.UDP {
				pr.dialer.LocalAddr = &net.UDPAddr{IP: ip}
			} else {
				pr.dialer.LocalAddr = &net.TCPAddr{IP: ip}
			}
		}
		a.probes = make([]*probe, r.cfg.Connections)
		one := func(i int) {
			if err := checks.Safely(func() error { a.probes[i] = pr.run(ctx); return nil }); err != nil {
				a.probes[i] = (&probe{}).fail(outcomeFailed, r.env.Stage.Get(), "%v", err)
			}
		}
		if len(a.probes) == 1 {
			// The usual case runs here: a goroutine more wakes another
			// thread of the runtime, which a short check pays for.
			one(0)
		} else {
			var wg sync.WaitGroup
			for i := range a.probes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					one(i)
				}()
			}
			wg.Wait()
		}
		for _, p := range a.probes {
			if p.conn != nil {
				_ = p.conn.Close()
			}
		}
	}
	for _, p := range a.probes {
		a.elapsed = max(a.elapsed, p.total)
		a.state = state.Worst(a.state, r.probeState(p))
	}
	return a
}

// probeState maps a probe's outcome to a state with the user's choices.
func (r *runner) probeState(p *probe) state.State {
	c := r.cfg
	switch p.outcome {
	case outcomeOK:
		if c.RefusedState == state.OK {
			return state.Critical // "this port must be closed", and it is open
		}
		return state.OK
	case outcomeRefused:
		return c.RefusedState
	case outcomeTimeout:
		return r.env.TimeoutState
	case outcomeMismatch:
		return c.MismatchState
	case outcomeConfig:
		return state.Unknown
	}
	return state.Critical
}

// describe is one probe's result in words.
func (r *runner) describe(p *probe) string {
	switch {
	case p.outcome == outcomeOK && r.cfg.RefusedState == state.OK:
		return "the port is open but must be closed (--refused-state ok)"
	case p.outcome == outcomeOK:
		return "ok"
	case p.outcome == outcomeRefused && r.probeState(p) == state.OK:
		return "refused the connection, as required (--refused-state ok)"
	case p.outcome == outcomeTimeout:
		return fmt.Sprintf("timed out at %s: %s", p.stage, p.reason)
	case p.outcome == outcomeConfig:
		return p.reason
	}
	return fmt.Sprintf("failed at %s: %s", p.stage, p.reason)
}

func (r *runner) result(attempts []*attempt) checks.Result {
	c := r.cfg
	last := attempts[len(attempts)-1]
	res := checks.Result{State: last.state}

	// The worst connection of the last attempt speaks for it.
	probes := append([]*probe(nil), last.probes...)
	sort.SliceStable(probes, func(i, j int) bool {
		si, sj := r.probeState(probes[i]), r.probeState(probes[j])
		if si != sj {
			return si.Worse(sj)
		}
		return probes[i].outcome != outcomeOK && probes[j].outcome == outcomeOK
	})
	worst := probes[0]
	if worst.outcome == outcomeConfig {
		return checks.Unknownf("%s", worst.reason)
	}

	// Metrics of the last attempt; with several connections the slowest
	// one's stage times and the sum of the bytes.
	var connect, handshake, first time.Duration
	var gotFirst bool
	var nrecv int64
	ok := 0
	for _, p := range last.probes {
		connect = max(connect, p.connect)
		handshake = max(handshake, p.handshake)
		if p.gotFirst {
			first, gotFirst = max(first, p.firstByte), true
		}
		nrecv += p.nrecv
		if p.outcome == outcomeOK { // connections that worked, whatever --*-state makes of failures
			ok++
		}
	}
	elapsed := last.elapsed.Seconds()
	// The ranges judge a response time; a failed attempt has a state of
	// its own (and its "time" is often just the deadline).
	timeState := state.OK
	if last.allOK() {
		timeState = threshold.Evaluate(elapsed, c.Warn, c.Crit)
	}

	perf := []checks.Metric{checks.NewMetric("duration_seconds", stageHelp, perfdata.Seconds("time", elapsed).WithRanges(c.Warn, c.Crit).WithMin(0), "stage", "total")}
	if worst.stage != stageResolve || len(last.probes) > 1 || worst.outcome == outcomeOK {
		perf = append(perf, stageMetric("connect_time", "connect", connect))
	}
	if c.TLS != nil && handshake > 0 {
		perf = append(perf, stageMetric("tls_time", "tls", handshake))
	}
	if gotFirst {
		perf = append(perf, stageMetric("first_byte_time", "first_byte", first))
	}
	perf = append(perf, checks.NewMetric("received_bytes", "Bytes received from the endpoint in the last attempt.", perfdata.New("bytes_received", float64(nrecv), "B").WithMin(0)))
	var throughput float64
	if c.EchoBytes > 0 {
		var echoed int64
		var dur time.Duration
		for _, p := range last.probes {
			if p.outcome == outcomeOK {
				echoed += p.nrecv
				dur = max(dur, p.echo)
			}
		}
		if dur > 0 {
			throughput = float64(echoed) / dur.Seconds()
		}
		m := perfdata.New("throughput", throughput, "").WithMin(0)
		m.Decimals = 0
		perf = append(perf, checks.NewMetric("echo_throughput_bytes_per_second", "Bytes per second echoed back intact (--echo-bytes).", m))
	}
	if c.Connections > 1 || c.ReportConnections {
		perf = append(perf, checks.NewMetric("connections_ok", "Connections of the last attempt that did the whole probe (--connections).", perfdata.New("connections_ok", float64(ok), "").WithMin(0).WithMax(float64(c.Connections))))
	}
	if c.HTTP != nil {
		// The worst connection's status, or the first one's.
		code := worst.httpStatus
		for _, p := range last.probes {
			if code == 0 {
				code = p.httpStatus
			}
		}
		if code != 0 {
			m := perfdata.New("http_status", float64(code), "")
			m.Decimals = 0
			perf = append(perf, checks.NewMetric("http_status_code", "The HTTP status code of the response (--http-status).", m))
		}
	}
	daysState, daysText := state.OK, ""
	if t := c.TLS; t != nil && (t.WarningDays != nil || t.CriticalDays != nil) {
		for _, p := range append([]*probe{worst}, last.probes...) {
			if p.tlsState == nil || len(p.tlsState.PeerCertificates) == 0 {
				continue
			}
			cert, days := firstExpiry(p.tlsState.PeerCertificates, time.Now())
			var warn, crit threshold.Range
			if t.WarningDays != nil {
				warn = threshold.MustParse(perfdata.FormatNumber(*t.WarningDays, -1) + ":")
			}
			if t.CriticalDays != nil {
				crit = threshold.MustParse(perfdata.FormatNumber(*t.CriticalDays, -1) + ":")
			}
			m := perfdata.New("days_left", days, "").WithRanges(warn, crit)
			m.Decimals = 2
			// (days_left is perfdata only; OpenMetrics takes base units.)
			perf = append(perf, checks.Metric{Metric: m}, checks.Only("cert_expires_in_seconds",
				"Time until the first certificate the server presents expires (negative: expired), with --warning-days or --critical-days.", days*86400))
			name := sanitize.Text(cert.Subject.CommonName, 80)
			if name == "" {
				name = "\"" + sanitize.Text(cert.Subject.String(), 80) + "\""
			}
			switch {
			case time.Now().Before(p.tlsState.PeerCertificates[0].NotBefore):
				leaf := p.tlsState.PeerCertificates[0]
				daysState, daysText = state.Critical, fmt.Sprintf("certificate %s is not valid before %s", sanitize.Text(leaf.Subject.String(), 80), leaf.NotBefore.UTC().Format(time.RFC3339))
			case days < 0:
				daysState, daysText = state.Critical, fmt.Sprintf("certificate %s expired %.1f days ago", name, -days)
			case t.CriticalDays != nil && days < *t.CriticalDays:
				daysState, daysText = state.Critical, fmt.Sprintf("certificate %s expires in %.1f days (--critical-days %g)", name, days, *t.CriticalDays)
			case t.WarningDays != nil && days < *t.WarningDays:
				daysState, daysText = state.Warning, fmt.Sprintf("certificate %s expires in %.1f days (--warning-days %g)", name, days, *t.WarningDays)
			}
			break
		}
	}
	if c.Retries > 0 {
		perf = append(perf, checks.NewMetric("attempts", "Attempts made (--retries).", perfdata.New("attempts", float64(len(attempts)), "").WithMin(1).WithMax(float64(c.Retries+1))))
	}
	up := 0.0
	if last.allOK() {
		up = 1
	}
	res.Metrics = append([]checks.Metric{checks.Only("up", "Whether the last attempt proved the endpoint (1) or not (0), whatever the states make of it.", up)}, perf...)

	// Summary: the worst problem first.
	var summary string
	switch {
	case !last.allOK() && len(last.probes) > 1:
		failed := 0
		for _, p := range last.probes {
			if p.outcome != outcomeOK {
				failed++
			}
		}
		summary = fmt.Sprintf("%s: %d of %d connections failed; worst: %s", r.target, failed, len(last.probes), r.describe(worst))
		if worst.outcome == outcomeTimeout && failed < len(last.probes) {
			summary += " (max-children, backlog or fd limit reached?)"
		}
	case !last.allOK() || c.RefusedState == state.OK:
		summary = fmt.Sprintf("%s %s", r.target, r.describe(worst))
		if worst.outcome == outcomeTimeout && (worst.stage == stageFirstByte || worst.stage == stageTLS) && worst.nrecv == 0 && c.Unix == "" && !c.UDP {
			// The kernel completed the connect; nothing came: socat may
			// not have taken it at all (max-children).
			summary += " (max-children or backlog reached, or a slow service?)"
		}
	default:
		summary = fmt.Sprintf("%s %s", r.target, r.okSummary(last, throughput))
	}
	if !last.allOK() && last.state == state.OK && worst.outcome != outcomeRefused {
		summary += " (" + r.stateFlag(worst) + " ok)"
	}
	if len(attempts) > 1 && last.state == state.OK {
		res.State = state.Warning
		summary = fmt.Sprintf("%s: succeeded on attempt %d of %d after: %s", r.target, len(attempts), c.Retries+1, r.describe(worstOf(r, attempts[len(attempts)-2])))
	} else if r.noTime {
		summary += fmt.Sprintf(" (%d of %d attempts: -t left no time for another)", len(attempts), c.Retries+1)
	} else if len(attempts) > 1 {
		summary += fmt.Sprintf(" (%d attempts)", len(attempts))
	}
	if b := boundOfTimeouts(attempts); b > 0 && last.state != state.OK {
		// An attempt ended at its own bound, not at -t: name it.
		summary += fmt.Sprintf(" (attempts within %s each: --attempt-timeout, by default -t shared among the attempts; give it for a slower service)", attemptWords(b))
	}
	if timeState != state.OK && last.state == state.OK {
		rng := c.Warn
		if timeState == state.Critical {
			rng = c.Crit
		}
		summary += fmt.Sprintf(" (time %s s breaches the %s range %s)", fmtSeconds(last.elapsed), strings.ToLower(timeState.String()), rng)
	}
	if daysState != state.OK {
		summary += " (" + daysText + ")"
	}
	res.State = state.Worst(res.State, timeState, daysState)
	res.Summary = summary
	res.Details = r.details(attempts, probes)
	if res.State != state.OK || !last.allOK() {
		// The summary says it; the finding carries it to JSON and
		// OpenMetrics.
		id := r.findingID(worst, last, len(attempts), timeState)
		if daysState != state.OK && last.allOK() && !state.Worst(last.state, timeState).Worse(daysState) {
			id = "cert-expiring"
		}
		res.Findings = []checks.Finding{{ID: id, State: res.State,
			Subject: r.target, Text: strings.TrimLeft(strings.TrimPrefix(summary, r.target), ": "), Quiet: true}}
	}
	return res
}

// findingID names what went wrong, for machines: one ID per outcome.
func (r *runner) findingID(worst *probe, last *attempt, attempts int, timeState state.State) string {
	switch {
	case worst.outcome == outcomeOK && r.cfg.RefusedState == state.OK:
		return "port-open"
	case last.allOK() && attempts > 1:
		return "retried"
	case last.allOK() && timeState != state.OK:
		return "slow"
	case worst.outcome == outcomeRefused:
		return "refused"
	case worst.outcome == outcomeTimeout:
		return "timeout"
	case worst.outcome == outcomeMismatch:
		return "mismatch"
	case worst.closed:
		return "backend-down"
	}
	return "connect-failed"
}

const stageHelp = "Duration of the probe by stage: connect, tls (handshake), first_byte, total (the last attempt's slowest connection)."

// stageMetric is the duration of one stage, perfdata label label.
func stageMetric(label, stage string, d time.Duration) checks.Metric {
	return checks.NewMetric("duration_seconds", stageHelp, perfdata.Seconds(label, d.Seconds()).WithMin(0), "stage", stage)
}

// stateFlag names the flag that chose the state of an outcome.
func (r *runner) stateFlag(p *probe) string {
	switch p.outcome {
	case outcomeTimeout:
		return "--timeout-state"
	case outcomeMismatch:
		return "--mismatch-state"
	case outcomeRefused:
		return "--refused-state"
	}
	return "state"
}

func worstOf(r *runner, a *attempt) *probe {
	w := a.probes[0]
	for _, p := range a.probes[1:] {
		if r.probeState(p).Worse(r.probeState(w)) {
			w = p
		}
	}
	return w
}

// okSummary says what a successful probe proved.
func (r *runner) okSummary(a *attempt, throughput float64) string {
	c := r.cfg
	p := a.probes[0]
	var b strings.Builder
	if !c.readsResponse() && c.EchoBytes == 0 && !p.gotFirst && p.tlsState == nil {
		// A bare connect: the kernel completes it into socat's backlog
		// whether or not socat takes the connection; nothing answered.
		// (A TLS handshake is socat's answer.)
		fmt.Fprintf(&b, "connected in %s s", fmtSeconds(a.elapsed))
		if len(a.probes) > 1 {
			fmt.Fprintf(&b, ", %d connections at once", len(a.probes))
		}
		b.WriteString(" (a bare connect: give -s/-e or --echo-bytes to prove socat serves it)")
		return b.String()
	}
	fmt.Fprintf(&b, "answered in %s s", fmtSeconds(a.elapsed))
	if p.tlsState != nil {
		fmt.Fprintf(&b, ", %s", tls.VersionName(p.tlsState.Version))
	}
	if p.httpStatus != 0 {
		fmt.Fprintf(&b, ", \"%s\"", p.httpLine)
	}
	switch {
	case c.EchoBytes > 0:
		fmt.Fprintf(&b, ", echo of %s intact at %s/s", humanBytes(float64(c.EchoBytes)), humanBytes(throughput))
	case c.hasExpectations():
		fmt.Fprintf(&b, ", %d of %d expectations met (%d B)", p.matched, newMatcher(c).total(), p.nrecv)
	case p.gotFirst:
		fmt.Fprintf(&b, ", %d B received", p.nrecv)
	}
	if len(a.probes) > 1 {
		fmt.Fprintf(&b, ", %d connections at once", len(a.probes))
	}
	return b.String()
}

// details is the long output: problems first, then what -v asks for.
func (r *runner) details(attempts []*attempt, sorted []*probe) []string {
	c := r.cfg
	var out []string
	last := attempts[len(attempts)-1]
	if len(sorted) > 1 {
		for i, p := range sorted {
			if r.probeState(p) == state.OK && r.env.Verbose < 1 {
				continue
			}
			idx := indexOf(last.probes, p) + 1
			out = append(out, fmt.Sprintf("connection %d: %s: %s", idx, strings.ToLower(r.probeState(p).String()), r.describe(p)))
			_ = i
		}
	}
	for i, a := range attempts[:len(attempts)-1] {
		out = append(out, fmt.Sprintf("attempt %d of %d: %s", i+1, c.Retries+1, r.describe(worstOf(r, a))))
	}
	w := sorted[0]
	if (w.outcome != outcomeOK || r.env.Verbose >= 1) && w.received != nil {
		out = append(out, fmt.Sprintf("received %d B: \"%s\"", w.nrecv, sanitize.Bytes(w.received, 400)))
	}
	if r.env.Verbose >= 1 {
		stages := "stages: connect " + fmtSeconds(w.connect) + " s"
		if c.TLS != nil {
			stages += ", TLS handshake " + fmtSeconds(w.handshake) + " s"
		}
		if w.gotFirst {
			stages += ", first byte " + fmtSeconds(w.firstByte) + " s"
		}
		if c.EchoBytes > 0 {
			stages += ", echo " + fmtSeconds(w.echo) + " s"
		}
		out = append(out, stages+", total "+fmtSeconds(last.elapsed)+" s")
		if st := w.tlsState; st != nil {
			line := fmt.Sprintf("TLS: %s, %s, client certificate requested: %v", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), w.certRequested)
			if len(st.PeerCertificates) > 0 {
				leaf := st.PeerCertificates[0]
				line += fmt.Sprintf(", server certificate \"%s\" valid until %s", sanitize.Text(leaf.Subject.String(), 120), leaf.NotAfter.UTC().Format(time.RFC3339))
				// (With --insecure nothing else says it.)
				if now := time.Now(); now.After(leaf.NotAfter) {
					line += fmt.Sprintf(" (EXPIRED %.1f days ago)", now.Sub(leaf.NotAfter).Hours()/24)
				} else if now.Before(leaf.NotBefore) {
					line += fmt.Sprintf(" (NOT YET VALID, from %s)", leaf.NotBefore.UTC().Format(time.RFC3339))
				}
			}
			out = append(out, line)
		}
	}
	if r.env.Verbose >= 2 {
		out = append(out, r.configLines()...)
	}
	return out
}

func (r *runner) configLines() []string {
	c := r.cfg
	lines := []string{fmt.Sprintf("config: target %s, connections %d, retries %d every %s, each attempt within %s, max-bytes %d, settle %s", r.target, c.Connections, c.Retries, c.RetryDelay, attemptWords(r.perAttempt), c.MaxBytes, c.Settle)}
	lines = append(lines, fmt.Sprintf("config: states refused=%s mismatch=%s timeout=%s, time warning %q critical %q",
		strings.ToLower(c.RefusedState.String()), strings.ToLower(c.MismatchState.String()), strings.ToLower(r.env.TimeoutState.String()), c.Warn.String(), c.Crit.String()))
	switch {
	case c.EchoBytes > 0:
		lines = append(lines, fmt.Sprintf("decision: echo %d pseudo-random bytes and compare them", c.EchoBytes))
	case c.HTTP != nil:
		lines = append(lines, fmt.Sprintf("decision: send an HTTP/1.1 GET %s, judge the status line against %s, then %d more expectations", sanitize.Text(c.HTTP.Path, 80), c.HTTP.Text, newMatcher(c).total()))
	case c.readsResponse():
		lines = append(lines, fmt.Sprintf("decision: send %d B, read until %d expectations are met, the peer closes or %d B", len(c.Send), newMatcher(c).total(), c.MaxBytes))
	default:
		lines = append(lines, "decision: bare connect; wait --settle for the peer to close (a relay with its backend down does)")
	}
	return lines
}

// boundOfTimeouts is the bound of the first attempt that timed out at
// its own bound, or 0.
func boundOfTimeouts(attempts []*attempt) time.Duration {
	for _, a := range attempts {
		if a.bound == 0 {
			continue
		}
		for _, p := range a.probes {
			if p.outcome == outcomeTimeout {
				return a.bound
			}
		}
	}
	return 0
}

// firstExpiry is the served certificate that expires first (a
// self-signed root's own dates aside) and its days left.
func firstExpiry(chain []*x509.Certificate, now time.Time) (*x509.Certificate, float64) {
	first := chain[0]
	for i, c := range chain {
		if i > 0 && c.Subject.String() == c.Issuer.String() && c.CheckSignatureFrom(c) == nil {
			continue
		}
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	return first, first.NotAfter.Sub(now).Hours() / 24
}

func attemptWords(d time.Duration) string {
	if d == 0 {
		return "the deadline"
	}
	return d.Round(time.Millisecond).String()
}

func indexOf(ps []*probe, p *probe) int {
	for i, q := range ps {
		if q == p {
			return i
		}
	}
	return -1
}

func fmtSeconds(d time.Duration) string {
	return perfdata.FormatNumber(d.Seconds(), 6)
}

func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

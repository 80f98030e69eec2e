// Command oracles compares check_socat_tls's enumeration of protocols and
// (protocol, cipher suite) pairs with two independent scanners, sslscan
// and testssl.sh, on a broad set of TLS servers it starts itself on
// loopback: socat with every key type and several cipher and protocol
// settings, openssl s_server, stunnel4, nginx and gnutls-serv. It prints
// a table (the counts of each scanner, their wall times and a verdict per
// endpoint) and the differences under it, and exits 1 when a difference
// is not one written down in known.go with its reason.
//
// Every server is started by this program, stopped by its PID (process
// group) when it ends, also on an error or a SIGINT/SIGTERM. socat, s_server
// and stunnel4 listen on 127.0.0.1 with a port the kernel picks; nginx is
// handed a socket bound so (its NGINX inherited-socket variable);
// gnutls-serv, which binds every address, runs in a network namespace of
// its own with only a loopback, and the scanners are run in it too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/internal/oracles"
)

// scanResult is one scanner's view of one endpoint.
type scanResult struct {
	view    oracles.View
	wall    time.Duration
	err     error
	skipped bool
}

// outcome is one endpoint's row.
type outcome struct {
	ep               *endpoint
	ours, ssl, tssl  scanResult
	verdict          string
	failed           bool
	notes            []string // what the differences are, below the table
	startErr         error
	sslDiff, tslDiff oracles.Diff
}

func main() {
	bin := flag.String("bin", "bin", "directory of the built check_socat_tls (make build)")
	only := flag.String("only", "", "run only the endpoints whose name matches this regular expression")
	jobs := flag.Int("j", 2, "endpoints scanned at once (each runs its three scanners one after the other); 1 gives the cleanest wall times")
	out := flag.String("out", "", "also write the table and the notes to this file")
	testsslTimeout := flag.Duration("testssl-timeout", 15*time.Minute, "deadline of one testssl.sh run")
	list := flag.Bool("list", false, "list the endpoints and exit")
	withTestssl := flag.Bool("testssl", true, "run testssl.sh too (-testssl=false: a quick run, ours and sslscan only)")
	flag.Parse()
	os.Exit(run(*bin, *only, *jobs, *out, *testsslTimeout, *list, *withTestssl))
}

func run(bin, only string, jobs int, out string, testsslTimeout time.Duration, list, withTestssl bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var filter *regexp.Regexp
	if only != "" {
		var err error
		if filter, err = regexp.Compile(only); err != nil {
			fmt.Fprintln(os.Stderr, "oracles: -only:", err)
			return 2
		}
	}
	ours, err := filepath.Abs(filepath.Join(bin, "check_socat_tls"))
	if err == nil {
		_, err = os.Stat(ours)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracles: %v: run `make build` first\n", err)
		return 2
	}
	for _, p := range []string{"socat", "openssl", "sslscan", "testssl", "stunnel4", "nginx", "gnutls-serv", "unshare", "nsenter", "ip"} {
		if _, err := lookPath(p); err != nil {
			fmt.Fprintf(os.Stderr, "oracles: %s is missing: run `make oracles`, which installs it\n", p)
			return 2
		}
	}

	dir, err := os.MkdirTemp("", "oracles")
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracles:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	// Every process started from here on is stopped when run returns.
	defer procs.stopAll()

	pki, err := makePKI(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracles: certificates:", err)
		return 2
	}
	var eps []*endpoint
	for _, ep := range endpoints(pki, dir) {
		if filter == nil || filter.MatchString(ep.name) {
			eps = append(eps, ep)
		}
	}
	if list {
		for _, ep := range eps {
			fmt.Printf("%-22s %s\n", ep.name, ep.desc)
		}
		return 0
	}
	if len(eps) == 0 {
		fmt.Fprintln(os.Stderr, "oracles: no endpoint matches -only")
		return 2
	}

	start := time.Now()
	results := make([]*outcome, len(eps))
	sem := make(chan struct{}, max(1, jobs))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					results[i] = &outcome{ep: ep, startErr: fmt.Errorf("panic: %v", r), verdict: "ERROR", failed: true}
				}
			}()
			if ctx.Err() != nil {
				results[i] = &outcome{ep: ep, startErr: ctx.Err(), verdict: "ERROR: interrupted", failed: true}
				return
			}
			results[i] = scanEndpoint(ctx, ep, ours, pki, testsslTimeout, withTestssl)
			o := results[i]
			fmt.Fprintf(os.Stderr, "oracles: %-20s ours %s, sslscan %s, testssl %s: %s\n", ep.name,
				o.ours.short(), o.ssl.short(), o.tssl.short(), o.verdict)
		}()
	}
	wg.Wait()

	text := report(results, time.Since(start), jobs)
	fmt.Print(text)
	if out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "oracles:", err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "oracles: interrupted; every server started was stopped")
		return 130
	}
	for _, o := range results {
		if o.failed {
			return 1
		}
	}
	return 0
}

// scanEndpoint starts the endpoint's server, runs the three scanners on
// it one after the other, stops it and judges.
func scanEndpoint(ctx context.Context, ep *endpoint, ours string, pki *pki, testsslTimeout time.Duration, withTestssl bool) *outcome {
	o := &outcome{ep: ep}
	srv, err := ep.start(ctx)
	if err != nil {
		o.startErr, o.verdict, o.failed = err, "ERROR: the server did not start", true
		o.notes = append(o.notes, err.Error())
		return o
	}
	defer srv.stop()
	target := fmt.Sprintf("127.0.0.1:%d", srv.port)

	oursArgs := append([]string{ours, "-H", "127.0.0.1", "-p", fmt.Sprint(srv.port), "-v", "--output", "json",
		"--insecure-chain", "--ca-file", pki.ca, "-t", "120"}, ep.ours...)
	o.ours = timed(func() (oracles.View, error) {
		out, err := runScanner(ctx, 150*time.Second, srv.prefix, oursArgs, nil)
		if len(out) == 0 && err != nil {
			return oracles.View{}, err
		}
		return oracles.Ours(out) // its exit code is the audit's state
	})
	o.ssl = timed(func() (oracles.View, error) {
		out, err := runScanner(ctx, 5*time.Minute, srv.prefix, append([]string{"sslscan"}, oracles.SSLScanArgs(target, ep.sslscan...)...), nil)
		if err != nil {
			return oracles.View{}, fmt.Errorf("sslscan: %w", err)
		}
		return oracles.ParseSSLScanXML(out)
	})
	o.tssl = scanResult{skipped: true}
	if withTestssl {
		o.tssl = timed(func() (oracles.View, error) {
			jsonFile := filepath.Join(ep.dir, "testssl.json")
			_ = os.Remove(jsonFile)
			openssl, _ := lookPath("openssl")
			out, err := runScanner(ctx, testsslTimeout, srv.prefix, append([]string{"testssl"}, oracles.TestsslArgs(jsonFile, openssl, target, ep.testssl...)...), oracles.TestsslEnv)
			data, rerr := os.ReadFile(jsonFile)
			if rerr != nil {
				return oracles.View{}, fmt.Errorf("testssl wrote no JSON (%v): %v\n%s", err, rerr, tail(out, 600))
			}
			// testssl.sh's exit code is not a verdict on the run; its JSON is.
			return oracles.ParseTestssl(data)
		})
	}
	judge(o)
	return o
}

func timed(f func() (oracles.View, error)) scanResult {
	start := time.Now()
	v, err := f()
	return scanResult{view: v, wall: time.Since(start), err: err}
}

func (r scanResult) short() string {
	if r.skipped {
		return "skipped"
	}
	if r.err != nil {
		return "error"
	}
	p, s := r.view.Counts()
	return fmt.Sprintf("%d/%d in %.1fs", p, s, r.wall.Seconds())
}

// judge compares each oracle with ours and explains the differences
// with the known ones.
func judge(o *outcome) {
	var errs []string
	for _, r := range []struct {
		name string
		res  scanResult
	}{{"check_socat_tls", o.ours}, {"sslscan", o.ssl}, {"testssl", o.tssl}} {
		if r.res.err != nil {
			errs = append(errs, r.name)
			o.notes = append(o.notes, fmt.Sprintf("%s failed: %v", r.name, r.res.err))
		}
	}
	if len(errs) > 0 {
		o.verdict, o.failed = "ERROR: "+strings.Join(errs, ", ")+" failed", true
		return
	}
	var verdicts []string
	for _, oracle := range []string{"sslscan", "testssl"} {
		view := o.ssl.view
		if oracle == "testssl" {
			if o.tssl.skipped {
				continue
			}
			view = o.tssl.view
		}
		d := oracles.Compare(o.ours.view, view)
		if oracle == "sslscan" {
			o.sslDiff = d
		} else {
			o.tslDiff = d
		}
		matched, rest := oracles.Explain(oracle, d, o.ep.known)
		for _, s := range oracles.Stale(oracle, d, o.ep.known) {
			o.notes = append(o.notes, fmt.Sprintf("%s: a known difference did not happen this time: %s", oracle, s))
		}
		var reasons []string
		oursWrong := false
		for _, k := range matched {
			reasons = append(reasons, k.Why)
			oursWrong = oursWrong || k.OursWrong
		}
		switch {
		case !rest.Empty():
			o.failed = true
			verdicts = append(verdicts, "MISMATCH with "+oracle)
			o.notes = append(o.notes, fmt.Sprintf("%s, unexplained: %s", oracle, rest))
		case oursWrong:
			verdicts = append(verdicts, "known bug of check_socat_tls ("+oracle+" is right)")
			o.notes = append(o.notes, fmt.Sprintf("%s %s. Known: %s", oracle, d, strings.Join(reasons, " ")))
		case len(matched) > 0:
			verdicts = append(verdicts, "known difference of "+oracle)
			o.notes = append(o.notes, fmt.Sprintf("%s %s. Known: %s", oracle, d, strings.Join(reasons, " ")))
		}
	}
	if len(verdicts) == 0 {
		o.verdict = "match"
		return
	}
	o.verdict = strings.Join(verdicts, "; ")
}

func report(results []*outcome, took time.Duration, jobs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "check_socat_tls, sslscan and testssl.sh on %d local endpoints, %s, %d at once, %.0f s in all.\n\n",
		len(results), time.Now().UTC().Format("2006-01-02"), jobs, took.Seconds())
	b.WriteString("Counts are protocols/pairs: protocols_accepted and ciphers_accepted, (protocol, suite) pairs.\n\n")
	b.WriteString("| endpoint | ours | sslscan | testssl | ours time | sslscan time | testssl time | verdict |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	cell := func(r scanResult) (string, string) {
		if r.skipped {
			return "-", "-"
		}
		if r.err != nil {
			return "error", fmt.Sprintf("%.1f s", r.wall.Seconds())
		}
		p, s := r.view.Counts()
		return fmt.Sprintf("%d/%d", p, s), fmt.Sprintf("%.1f s", r.wall.Seconds())
	}
	for _, o := range results {
		if o.startErr != nil {
			fmt.Fprintf(&b, "| %s | - | - | - | - | - | - | %s |\n", o.ep.name, o.verdict)
			continue
		}
		oc, ot := cell(o.ours)
		sc, st := cell(o.ssl)
		tc, tt := cell(o.tssl)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", o.ep.name, oc, sc, tc, ot, st, tt, o.verdict)
	}
	b.WriteString("\nEndpoints:\n\n")
	for _, o := range results {
		fmt.Fprintf(&b, "- %s: %s\n", o.ep.name, o.ep.desc)
	}
	var notes []string
	for _, o := range results {
		for _, n := range o.notes {
			notes = append(notes, fmt.Sprintf("- %s: %s", o.ep.name, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nDifferences:\n\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

var errMissing = errors.New("not found")

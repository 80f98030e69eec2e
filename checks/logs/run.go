package logs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatlog"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

// errUnknown is a failure that makes the run UNKNOWN: a missing or
// unreadable source, an unusable state directory.
type errUnknown struct{ err error }

func (e errUnknown) Error() string { return e.err.Error() }
func (e errUnknown) Unwrap() error { return e.err }

func stateError(ctx context.Context, cfg *Config, err error) error {
	switch {
	case ctx.Err() != nil:
		return err
	case checks.OutOfFDs(err):
		// Not a problem of the directory: saying so would send the
		// operator to the wrong place.
		return errUnknown{errors.New(checks.OutOfFDsText(err, " at the state of --state-dir "+sanitize.Text(cfg.StateDir, 100)))}
	}
	return errUnknown{fmt.Errorf("--state-dir %s: %v; give a directory this user can write, or --no-state", sanitize.Text(cfg.StateDir, 100), err)}
}

// phrases are the category names as the summary says them, singular and
// plural.
var phrases = [socatlog.NumCategories][2]string{
	{"fatal error", "fatal errors"},
	{"error", "errors"},
	{"warning", "warnings"},
	{"refused connection", "refused connections"},
	{"TLS failure", "TLS failures"},
	{"backend failure", "backend failures"},
	{"reset connection", "reset connections"},
	{"timeout", "timeouts"},
	{"wait at max-children", "waits at max-children"},
	{"weak TLS session", "weak TLS sessions"},
	{"accepted connection", "accepted connections"},
	{"service exit", "service exits"},
	{"configuration error", "configuration errors"},
}

func phrase(c socatlog.Category, n int64) string {
	p := phrases[c][1]
	if n == 1 {
		p = phrases[c][0]
	}
	return thousands(n) + " " + p
}

// thousands writes 1204 as 1,204.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ensureStateDir makes the default state directory sticky and writable
// by all, like /tmp, when it has to create it.
func ensureStateDir(dir string) error {
	if info, err := os.Lstat(dir); err == nil {
		switch {
		case info.Mode()&os.ModeSymlink != 0 && dir == DefaultStateDir:
			return errors.New("it is a symbolic link: remove it, or give --state-dir")
		case info.Mode()&os.ModeSymlink != 0:
			return nil // a link the user gave: their choice
		case !info.IsDir():
			return errors.New("it is not a directory")
		case info.Mode().Perm()&0o002 != 0 && info.Mode()&os.ModeSticky == 0:
			return errors.New("it is writable by everyone without the sticky bit: another user could replace the state; chmod +t it")
		}
		return nil
	}
	if dir == DefaultStateDir {
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		return os.Chmod(dir, 0o777|os.ModeSticky)
	}
	return os.MkdirAll(dir, 0o755)
}

// Run performs the check. stdin is read for -f -.
func Run(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	stdin := env.Stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	if err := cfg.Validate(); err != nil {
		return checks.Unknownf("%v", err)
	}
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = min(runtime.NumCPU(), 4)
	}
	o := &socatlog.Options{Loc: time.Local, Now: now, Ignore: cfg.IgnorePatterns, Critical: cfg.CritPatterns,
		Warning: cfg.WarnPatterns, Show: cfg.Show, MaxLine: 64 << 10, Workers: workers}
	if cfg.Since > 0 {
		o.Since = now.Add(-cfg.Since)
	}
	if !cfg.NoState {
		if err := ensureStateDir(cfg.StateDir); err != nil {
			return checks.Unknownf("--state-dir %s cannot be created: %v; give a directory this user can write, or --no-state", sanitize.Text(cfg.StateDir, 100), unwrapPath(err))
		}
	}

	// A source that fails does not stop the others: each source's
	// position is saved when it has been read, so what was counted must be
	// reported in this run, or it would be lost.
	var results []*sourceResult
	var failed []checks.Result
	for _, path := range cfg.Files {
		env.SetStage("reading " + path)
		var r *sourceResult
		var err error
		if path == "-" {
			r, err = readStdin(ctx, &cfg, o, stdin)
		} else {
			r, err = readFile(ctx, &cfg, o, path)
		}
		if err != nil {
			failed = append(failed, failure(ctx, env.TimeoutState, err))
			continue
		}
		results = append(results, r)
	}
	if cfg.JournalUnit != "" || cfg.JournalFile != "" {
		env.SetStage("reading the journal")
		r, err := readJournal(ctx, &cfg, o)
		if err != nil {
			failed = append(failed, failure(ctx, env.TimeoutState, err))
		} else {
			results = append(results, r)
		}
	}
	if len(results) == 0 && len(failed) > 0 {
		return failed[0]
	}
	return report(cfg, env.TimeoutState, now, results, failed)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func failure(ctx context.Context, timeoutState state.State, err error) checks.Result {
	var u errUnknown
	if !errors.As(err, &u) && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
		return checks.Result{State: timeoutState, Summary: "timed out: " + sanitize.Text(err.Error(), 200)}
	}
	return checks.Unknownf("%v", err)
}

// problem is a finding of this check. Its rank orders problems of one
// state in the summary: specific categories first (0), then the level
// ones (error, warning: 1), then notes about the sources (2); by count
// within a rank. Evidence holds the last lines behind a count.
type problem = checks.Finding

// sourceNote is a problem about a source rather than a count.
func sourceNote(id string, st state.State, text string) problem {
	return checks.Finding{ID: id, State: st, Text: text, Rank: 2}
}

// evidence prefixes the last lines behind a count with its tag.
func evidence(tag string, lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, "  "+tag+": "+sanitize.Text(l, 300))
	}
	return out
}

// rankOf puts the level categories after the specific ones: "3 TLS
// failures" says more than "3 errors".
func rankOf(c socatlog.Category) int {
	switch c {
	case socatlog.Error, socatlog.Warning:
		return 1
	}
	return 0
}

// report judges the counts and renders the result.
func report(cfg Config, timeoutState state.State, now time.Time, results []*sourceResult, failed []checks.Result) checks.Result {
	var total socatlog.Tally
	var names, notes, warns []string
	first := true
	for _, r := range results {
		total.Merge(&r.tally, cfg.Show)
		names = append(names, sanitize.Text(r.name, 200))
		notes = append(notes, r.notes...)
		warns = append(warns, r.warns...)
		first = first && r.first
	}

	var problems []problem
	// Categories, worst state first, then by count.
	for c := socatlog.Category(0); c < socatlog.NumCategories; c++ {
		n := total.Count[c]
		st := threshold.Evaluate(float64(n), cfg.Warn[c], cfg.Crit[c])
		if st == state.OK {
			continue
		}
		problems = append(problems, problem{ID: "category-threshold", State: st, Subject: c.String(), Text: phrase(c, n),
			Evidence: evidence(c.String(), total.Last[c].Lines()), Rank: rankOf(c), Count: n})
	}
	if total.PatternCrit > 0 {
		problems = append(problems, problem{ID: "critical-pattern", State: state.Critical, Subject: "critical-pattern", Text: fmt.Sprintf("%s matching --critical-pattern", lines(total.PatternCrit)),
			Evidence: evidence("critical-pattern", total.LastCrit.Lines())})
	}
	if total.PatternWarn > 0 {
		problems = append(problems, problem{ID: "warning-pattern", State: state.Warning, Subject: "warning-pattern", Text: fmt.Sprintf("%s matching --warning-pattern", lines(total.PatternWarn)),
			Evidence: evidence("warning-pattern", total.LastWarn.Lines())})
	}
	if cfg.MaxAge > 0 {
		for _, r := range results {
			if r.name == "stdin" {
				continue
			}
			switch age := now.Sub(r.lastNew); {
			case r.lastNew.IsZero():
				problems = append(problems, problem{ID: "source-stale", State: state.Critical, Subject: sanitize.Text(r.name, 200), Text: fmt.Sprintf("%s has no line at all (--max-age %s)", sanitize.Text(r.name, 80), cfg.MaxAge)})
			case age > cfg.MaxAge:
				problems = append(problems, problem{ID: "source-stale", State: state.Critical, Subject: sanitize.Text(r.name, 200), Text: fmt.Sprintf("no new line in %s for %s (--max-age %s)", sanitize.Text(r.name, 80), age.Round(time.Second), cfg.MaxAge)})
			}
		}
	}
	for _, r := range results {
		if w := formatDoubt(r); w != "" {
			warns = append(warns, w)
		}
	}
	for _, w := range warns {
		problems = append(problems, sourceNote("source-warning", state.Warning, w))
	}
	for _, f := range failed {
		problems = append(problems, sourceNote("source-failed", f.State, f.Summary))
	}
	var stopped []string
	for _, r := range results {
		if r.timedOut != "" {
			stopped = append(stopped, r.timedOut)
		}
	}
	if len(stopped) > 0 {
		problems = append(problems, sourceNote("timeout", timeoutState, "timed out at stage "+strings.Join(stopped, "; ")))
	}
	checks.Sort(problems)

	res := checks.Result{Findings: problems, State: checks.Worst(state.OK, problems)}
	res.Details = append(res.Details, notes...)
	if total.Cut > 0 {
		res.Details = append(res.Details, fmt.Sprintf("note: %s over 64 KiB cut and skipped", lines(total.Cut)))
	}
	if total.Old > 0 {
		res.Details = append(res.Details, fmt.Sprintf("note: %s older than --since %s not counted", lines(total.Old), cfg.Since))
	}
	if total.Ignored > 0 {
		res.Details = append(res.Details, fmt.Sprintf("note: %s matching --ignore-pattern not counted", lines(total.Ignored)))
	}
	if total.Peer > 0 {
		res.Details = append(res.Details, fmt.Sprintf("note: %s of connections from --ignore-peer not counted", lines(total.Peer)))
	}
	if len(cfg.IgnorePeers) > 0 && total.Untied > 0 {
		res.Details = append(res.Details, fmt.Sprintf("note: %s counted could not be tied to a peer (written by no listener or fork child seen): --ignore-peer needs socat -d -d, which logs each accept and fork", lines(total.Untied)))
	}

	where := strings.Join(names, ", ")
	if len(names) > 1 {
		where = fmt.Sprintf("%d sources (%s)", len(names), where)
	}
	switch {
	case len(problems) > 0:
		// The worst counts first, at most three, then how many more; a
		// note about a source leads only when nothing was counted wrong.
		var parts []string
		counted := 0
		for _, p := range problems {
			if p.Rank < 2 {
				counted++
				if len(parts) < 3 {
					parts = append(parts, p.Text)
				}
			}
		}
		if counted == 0 {
			res.Summary = problems[0].Text + checks.More(len(problems)-1, "")
			break
		}
		res.Summary = fmt.Sprintf("%s%s in %s of %s", strings.Join(parts, ", "), checks.More(len(problems)-len(parts), ""), newLines(total.Lines), where)
	case first:
		res.Summary = fmt.Sprintf("first run on %s: position recorded, nothing counted", where)
	default:
		res.Summary = fmt.Sprintf("%s of %s, nothing to report", newLines(total.Lines), where)
		if n := total.Count[socatlog.Accepted]; n > 0 {
			res.Summary += fmt.Sprintf(" (%s)", phrase(socatlog.Accepted, n))
		}
	}

	res.Metrics = metrics(cfg, &total, results)
	return res
}

// metrics are this run's counts (the perfdata, gauges in OpenMetrics)
// and, for each source whose state is kept, the cumulative counters.
func metrics(cfg Config, total *socatlog.Tally, results []*sourceResult) []checks.Metric {
	var out []checks.Metric
	for c := socatlog.Category(0); c < socatlog.NumCategories; c++ {
		out = append(out, checks.NewMetric("run_lines", "Lines of this run by category.",
			perfdata.New(c.String(), float64(total.Count[c]), "").WithRanges(cfg.Warn[c], cfg.Crit[c]).WithMin(0), "category", c.String()))
	}
	out = append(out,
		checks.NewMetric("run_read_lines", "Lines read by this run.", perfdata.New("lines", float64(total.Lines), "").WithMin(0)),
		checks.NewMetric("run_read_bytes", "Bytes read by this run.", perfdata.New("bytes_read", float64(total.Bytes), "B").WithMin(0)),
		checks.NewMetric("run_unparsed_lines", "Lines of this run that are not socat's.", perfdata.New("unparsed", float64(total.Unparsed), "").WithMin(0)),
		checks.NewMetric("run_transferred_bytes", "Bytes socat logged as transferred, in this run's lines.", perfdata.New("transferred", float64(total.Transferred), "B").WithMin(0)),
		checks.NewMetric("run_ignored_lines", "Lines of this run from --ignore-peer connections.", perfdata.New("ignored", float64(total.Peer), "").WithMin(0)),
	)
	for _, r := range results {
		if r.totals == nil {
			continue
		}
		src := sourceLabel(r.name)
		for c := socatlog.Category(0); c < socatlog.NumCategories; c++ {
			out = append(out, checks.Only("lines_total", "Lines by category since the source's state began (it resets only with the state).",
				float64(r.totals[c.String()]), "source", src, "category", c.String()).AsCounter())
		}
		out = append(out, checks.Only("read_lines_total", "Lines read since the source's state began.",
			float64(r.totals[totalLines]), "source", src).AsCounter())
	}
	return out
}

func lines(n int64) string {
	if n == 1 {
		return "1 line"
	}
	return thousands(n) + " lines"
}

func newLines(n int64) string {
	if n == 1 {
		return "1 new line"
	}
	return thousands(n) + " new lines"
}

// formatDoubt says when most of a source's new lines are not socat's: a
// wrong file, or a format this check does not read, would otherwise be a
// silent OK.
func formatDoubt(r *sourceResult) string {
	t := &r.tally
	if t.Unparsed == 0 || t.Unparsed <= t.Socat {
		return ""
	}
	name := sanitize.Text(r.name, 80)
	if t.Socat == 0 {
		return fmt.Sprintf("%s: %s, none recognised as socat's: wrong file or format?", name, newLines(t.Unparsed))
	}
	return fmt.Sprintf("%s: %s of %s are not socat's: wrong file or format? (--ignore-pattern drops a program's own lines)",
		name, thousands(t.Unparsed), newLines(t.Unparsed+t.Socat))
}

// sourceLabel is a source's OpenMetrics label: its name, sanitized; a name
// longer than 200 characters (Kubernetes pod log paths get there) is cut
// and keeps a hash of the whole, so that two long names never become one
// series.
func sourceLabel(name string) string {
	if len(name) <= 200 {
		return sanitize.Text(name, 200)
	}
	sum := sha256.Sum256([]byte(name))
	return sanitize.Text(name, 180) + "#" + hex.EncodeToString(sum[:6])
}

// Command check_socat_logs counts what socat logged since the last run:
// failed connections, TLS failures, refusals, service exits..., from log
// files, stdin or the journal, remembered across runs and rotations.
package main

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/check-socat/check-socat/checks/logs"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/socatlog"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

const description = `Count what socat logged since the last run, by category: fatal, error, warning, refused, tls_failure, backend_failure, reset, timeout, capacity, weak_tls, accepted, exit, config. Reads socat's own log lines (-lf, stderr; with -lu, -lh, -lp), syslog records and the journal, and remembers per source where it stopped, across rotation by rename, copytruncate and truncation.

Defaults: any fatal, weak_tls or exit is CRITICAL; any error, refused, tls_failure or backend_failure is WARNING. Exits are those of listening socat processes (needs -d -d): a fork child's error is one failed connection.`

type cli struct {
	plugin.Common

	File        []string `short:"f" placeholder:"PATH" sep:"none" group:"Sources"`
	JournalUnit string   `placeholder:"UNIT" group:"Sources"`
	JournalFile string   `placeholder:"PATH" group:"Sources"`

	StateDir string              `default:"/var/tmp/check_socat" placeholder:"DIR" group:"State"`
	NoState  bool                `group:"State"`
	FirstRun string              `default:"end" placeholder:"start|end" group:"State"`
	Rotated  string              `default:"PATH.1" placeholder:"PATTERN" group:"State"`
	Since    plugin.ZeroDuration `placeholder:"DURATION" group:"State"`

	Warning         []string            `short:"w" placeholder:"CATEGORY=RANGE" sep:"none" group:"Thresholds"`
	Critical        []string            `short:"c" placeholder:"CATEGORY=RANGE" sep:"none" group:"Thresholds"`
	CriticalPattern []string            `placeholder:"RE" sep:"none" group:"Thresholds"`
	WarningPattern  []string            `placeholder:"RE" sep:"none" group:"Thresholds"`
	IgnorePattern   []string            `placeholder:"RE" sep:"none" group:"Thresholds"`
	IgnorePeer      []string            `placeholder:"CIDR" sep:"none" group:"Thresholds"`
	MaxAge          plugin.ZeroDuration `placeholder:"DURATION" group:"Thresholds"`
	Show            int                 `default:"5" placeholder:"N" group:"Thresholds"`
}

// help returns the --help text of each flag, built only when help is
// printed; defaults are added then.
func help() map[string]string {
	return map[string]string{
		"file":             "socat's log file (socat -lf PATH, or its redirected stderr); - reads stdin once, without state. Repeatable.",
		"journal-unit":     "Read the journal of this systemd unit (journalctl -u UNIT -o json), after the cursor of the last run.",
		"journal-file":     "Read this journal file (journalctl --file); with --journal-unit, that unit's records in it.",
		"state-dir":        "Where to remember each source's position (one file per source and user). Created sticky like /tmp when it is the default.",
		"no-state":         "Read each source whole, remember nothing (for a one-off look).",
		"first-run":        "What a run without state counts: end (nothing; record the position) or start (everything the log holds).",
		"rotated":          "Where a rotated log is, PATH standing for the log's path (also tried with .gz); with wildcards (PATH.*, as Kubernetes and dateext name them) the newest 8 matches are tried. Its unread rest is counted first.",
		"since":            "Count only lines whose own timestamp is this recent (e.g. 15m); older lines are read and skipped.",
		"warning":          "WARNING when a category's count is outside RANGE, e.g. refused=10 or error=0 (any). Repeatable; a category given with -w or -c loses both its default ranges.",
		"critical":         "CRITICAL when a category's count is outside RANGE, e.g. backend_failure=5. Repeatable; a category given with -w or -c loses both its default ranges.",
		"critical-pattern": "Lines matching this Go regular expression are CRITICAL. Repeatable.",
		"warning-pattern":  "Lines matching this Go regular expression are WARNING. Repeatable.",
		"ignore-pattern":   "Lines matching this Go regular expression count nowhere (socat's still tell which processes listen and end). Repeatable.",
		"ignore-peer":      "Connections from these peers (ADDR/BITS or ADDR; e.g. the host that runs check_socat_tls) and all that their fork children log count in no category, only in lines and ignored. Needs socat -d -d (the accept line names the peer, the fork line the child); lines that cannot be tied to a listener or its child are said. Repeatable.",
		"max-age":          "CRITICAL when a source has had no new line for this long (e.g. 1h): socat stopped logging, or stopped.",
		"show":             "Show the last N lines of each alerting category in the long output (0 to 100).",
	}
}

// Config turns the flags into the check's configuration; errors name the
// flag (the runtime says them as UNKNOWN).
func (c *cli) Config() (logs.Config, error) {
	// Absolute paths: the state of a log must not depend on the directory
	// the check runs in (NRPE's is not the shell's).
	files := make([]string, len(c.File))
	for i, f := range c.File {
		files[i] = f
		if f != "-" && f != "" {
			if abs, err := filepath.Abs(f); err == nil {
				files[i] = abs
			}
		}
	}
	journalFile := c.JournalFile
	if journalFile != "" {
		if abs, err := filepath.Abs(journalFile); err == nil {
			journalFile = abs
		}
	}
	cfg := logs.Config{Files: files, JournalUnit: c.JournalUnit, JournalFile: journalFile, StateDir: c.StateDir,
		NoState: c.NoState, FirstRun: c.FirstRun, Rotated: c.Rotated, Since: c.Since.D(), MaxAge: c.MaxAge.D(),
		Show: c.Show}
	cfg.Warn, cfg.Crit = logs.DefaultRanges()
	// A category given with -w or -c loses both its defaults: -w exit=0
	// makes exits WARNING, not WARNING and still the default CRITICAL.
	given := map[socatlog.Category]bool{}
	for _, level := range []struct {
		flag   string
		in     []string
		ranges map[socatlog.Category]threshold.Range
	}{{"--warning", c.Warning, cfg.Warn}, {"--critical", c.Critical, cfg.Crit}} {
		for _, s := range level.in {
			cat, r, err := logs.ParseCategoryRange(s)
			if err != nil {
				return cfg, fmt.Errorf("%s %v", level.flag, err)
			}
			if !given[cat] {
				given[cat] = true
				delete(cfg.Warn, cat)
				delete(cfg.Crit, cat)
			}
			level.ranges[cat] = r
		}
	}
	for _, p := range []struct {
		flag string
		in   []string
		out  *[]*regexp.Regexp
	}{
		{"--critical-pattern", c.CriticalPattern, &cfg.CritPatterns},
		{"--warning-pattern", c.WarningPattern, &cfg.WarnPatterns},
		{"--ignore-pattern", c.IgnorePattern, &cfg.IgnorePatterns},
	} {
		for _, s := range p.in {
			re, err := regexp.Compile(s)
			if err != nil {
				return cfg, fmt.Errorf("%s %q is not a regular expression: %v", p.flag, s, err)
			}
			*p.out = append(*p.out, re)
		}
	}
	for _, s := range c.IgnorePeer {
		p, err := logs.ParsePeer(s)
		if err != nil {
			return cfg, fmt.Errorf("--ignore-peer %v", err)
		}
		cfg.IgnorePeers = append(cfg.IgnorePeers, p)
	}
	return cfg, cfg.Validate()
}

func main() { program.Run(&cli{}) }

// program describes the binary to the runtime (and to the tests).
var program = plugin.Binary[logs.Config]{Check: logs.Run, Options: plugin.Options{
	Name:         "check_socat_logs",
	Description:  description,
	TimeoutState: state.Unknown,
	Help:         help,
	Man:          man,
}}

// man is the manual page beyond the flags.
func man() []plugin.ManSection {
	return []plugin.ManSection{
		{Title: "Findings", Paragraphs: []string{"Each finding has a stable ID (JSON, OpenMetrics); the state in parentheses is its default."},
			Entries: append([][2]string{
				{"category-threshold (-w/-c per category)", "A category's count since the last run is outside its range (by default any fatal, weak_tls or exit is CRITICAL, any error, refused, tls_failure or backend_failure WARNING); the subject is the category."},
				{"critical-pattern (CRITICAL)", "New lines match --critical-pattern."},
				{"warning-pattern (WARNING)", "New lines match --warning-pattern."},
				{"source-stale (CRITICAL)", "With --max-age: a source has had no new line for that long, or has none."},
				{"source-warning (WARNING)", "A source was read, but lines may be missed or miscounted: a reset state, a truncation or replacement, a journal without records of the unit, mostly lines that are not socat's."},
				{"source-failed (UNKNOWN)", "One source could not be read while others could."},
			}, plugin.RuntimeFindings...)},
		{Title: "Performance data", Paragraphs: []string{
			"One count per category (fatal, error, warning, refused, tls_failure, backend_failure, reset, timeout, capacity, weak_tls, accepted, exit, config; with the ranges in force), lines, bytes_read (B), unparsed, transferred (B), ignored (lines of --ignore-peer connections)."}},
		{Title: "Examples", Entries: [][2]string{
			{"check_socat_logs -f /var/log/socat.log", "What socat logged since the last run (the position is kept in the state directory)."},
			{"check_socat_logs --journal-unit socat-relay.service -w refused=10", "From the journal of a unit; WARNING above 10 refused connections."},
		}},
	}
}

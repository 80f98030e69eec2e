// Package logs is check_socat_logs: what socat logged since the last run,
// from files, stdin or the journal, classified into the contract's
// categories, counted against thresholds, and remembered per source so
// that rotation loses nothing and no line is counted twice.
package logs

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/socatlog"
	"github.com/check-socat/check-socat/internal/threshold"
)

// DefaultStateDir is where state files go unless --state-dir says
// otherwise. Created sticky and world-writable like /tmp when missing, so
// that root and an NRPE user can share it; each file is named with the
// uid that owns it and opened without following links.
const DefaultStateDir = "/var/tmp/check_socat"

// Config is the check's configuration, validated.
type Config struct {
	Files       []string // "-" is stdin
	JournalUnit string
	JournalFile string

	StateDir string
	NoState  bool
	FirstRun string // "start" or "end"
	Rotated  string // where a rotated file goes; PATH stands for the log's path

	Since, MaxAge time.Duration

	Warn, Crit                 map[socatlog.Category]threshold.Range
	CritPatterns, WarnPatterns []*regexp.Regexp
	IgnorePatterns             []*regexp.Regexp
	// IgnorePeers: connections from these peers, and what their fork
	// children log, count in no category (--ignore-peer).
	IgnorePeers []netip.Prefix
	Show        int

	Workers int
	// Now is the time of the run (tests set it).
	Now func() time.Time
}

// DefaultRanges are the contract's defaults: any fatal, weak_tls or exit
// is CRITICAL; any error, refused, tls_failure or backend_failure WARNING.
func DefaultRanges() (warn, crit map[socatlog.Category]threshold.Range) {
	anyCount := threshold.MustParse("0")
	warn = map[socatlog.Category]threshold.Range{socatlog.Error: anyCount, socatlog.Refused: anyCount, socatlog.TLSFailure: anyCount, socatlog.BackendFailure: anyCount}
	crit = map[socatlog.Category]threshold.Range{socatlog.Fatal: anyCount, socatlog.WeakTLS: anyCount, socatlog.Exit: anyCount}
	return warn, crit
}

// ParseCategoryRange reads CATEGORY=RANGE.
func ParseCategoryRange(s string) (socatlog.Category, threshold.Range, error) {
	name, rng, ok := strings.Cut(s, "=")
	if !ok {
		return 0, threshold.Range{}, fmt.Errorf("%q: give CATEGORY=RANGE, e.g. refused=10 or tls_failure=0", s)
	}
	c, ok := socatlog.ParseCategory(strings.TrimSpace(name))
	if !ok {
		return 0, threshold.Range{}, fmt.Errorf("%q: unknown category %q; the categories are %s", s, name, strings.Join(socatlog.Categories(), ", "))
	}
	r, err := threshold.Parse(strings.TrimSpace(rng))
	if err != nil {
		return 0, threshold.Range{}, fmt.Errorf("%q: %v", s, err)
	}
	return c, r, nil
}

// ParsePeer reads a CIDR (ADDR/BITS) or a single address.
func ParsePeer(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		// socat's peers are compared unmapped: ::ffff:127.0.0.0/104 is
		// 127.0.0.0/8.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: give ADDR/BITS or an address, e.g. 127.0.0.1/32, 10.0.0.0/8 or ::1", s)
}

// Validate rejects what cannot run.
func (c *Config) Validate() error {
	if len(c.Files) == 0 && c.JournalUnit == "" && c.JournalFile == "" {
		return errors.New("no source: give -f/--file PATH (- for stdin), --journal-unit UNIT or --journal-file PATH")
	}
	stdin := 0
	seen := map[string]bool{}
	for _, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			return errors.New("-f/--file is empty: give the path of socat's log (or - for stdin)")
		}
		if f == "-" {
			stdin++
		}
		if seen[f] {
			return fmt.Errorf("-f/--file %s is given twice: each source is read once", f)
		}
		seen[f] = true
	}
	if stdin > 1 {
		return errors.New("-f - (stdin) can be given once")
	}
	switch c.FirstRun {
	case "start", "end":
	default:
		return fmt.Errorf("--first-run %q: give start (count what the log holds) or end (record the position only)", c.FirstRun)
	}
	if c.Since < 0 || c.MaxAge < 0 {
		return errors.New("--since and --max-age must not be negative")
	}
	if c.Show < 0 || c.Show > 100 {
		return fmt.Errorf("--show %d is out of range: give 0 to 100", c.Show)
	}
	if !strings.Contains(c.Rotated, "PATH") && strings.TrimSpace(c.Rotated) == "" {
		return errors.New("--rotated is empty: give a pattern such as PATH.1 (PATH stands for the log's path)")
	}
	if _, err := filepath.Match(c.Rotated, ""); err != nil {
		return fmt.Errorf("--rotated %q is not a valid pattern (%v): give e.g. PATH.1, or PATH.* for every rotated copy", c.Rotated, err)
	}
	if !c.NoState && strings.TrimSpace(c.StateDir) == "" {
		return errors.New("--state-dir is empty: give a directory this user can write, or --no-state")
	}
	return nil
}

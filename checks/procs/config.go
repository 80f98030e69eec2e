package procs

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/threshold"
)

// Config is one procs check, as plain values.
type Config struct {
	Match, Exclude *regexp.Regexp
	User           string
	Warn, Crit     threshold.Range // on the number of instances

	ExpectListen []ListenSpec
	AllowedPorts *PortSet // nil: any port
	AllowPeers   []netip.Prefix

	WarnChildren, CritChildren threshold.Range
	MinUptime                  time.Duration
	Ignore                     []IgnoreRule

	Cmdline  string // audit this command line instead of processes
	UnitFile string // audit this systemd unit instead of processes

	// SampleTraffic: sample each instance's traffic for this long (0:
	// not at all).
	SampleTraffic time.Duration

	// Discover: print the instances as monitoring configuration in this
	// format (icinga2, nagios, json) instead of judging them.
	Discover string
	// DiscoverHost names the host in the configuration ("": os.Hostname).
	DiscoverHost string

	// Sudo: the check runs as root through sudo for the user SudoUID.
	// That user's own instances are audited without root's file checks
	// and traffic samples: a socat they start could name any file, or any
	// port, and root would look at it for them.
	Sudo    bool
	SudoUID int
}

// DiscoverFormats are the formats of --discover.
var DiscoverFormats = []string{"icinga2", "nagios", "json"}

// ListenSpec is one --expect-listen: [ADDR:]PORT.
type ListenSpec struct {
	Addr netip.Addr // invalid: any address
	Port int
	Raw  string
}

// ParseListenSpec reads [ADDR:]PORT, with [v6]:PORT for IPv6.
func ParseListenSpec(s string) (ListenSpec, error) {
	spec := ListenSpec{Raw: s}
	portStr := s
	if i := strings.LastIndex(s, ":"); i >= 0 {
		host := strings.Trim(s[:i], "[]")
		a, err := netip.ParseAddr(host)
		if err != nil {
			return spec, fmt.Errorf("%q: %q is not an IP address; give [ADDR:]PORT such as 8080 or 127.0.0.1:8080", s, host)
		}
		spec.Addr, portStr = a.Unmap(), s[i+1:]
	}
	p, err := strconv.Atoi(portStr)
	if err != nil || p < 1 || p > 65535 {
		return spec, fmt.Errorf("%q: the port must be 1-65535", s)
	}
	spec.Port = p
	return spec, nil
}

// PortSet is a list of ports and ranges: 443,8443,5000-5010.
type PortSet struct {
	ranges [][2]int
	raw    string
}

// ParsePortSet reads a port list.
func ParsePortSet(s string) (*PortSet, error) {
	ps := &PortSet{raw: s}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if part == "" || err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
			return nil, fmt.Errorf("%q is not a port list: give ports and ranges such as 443,8443,5000-5010", s)
		}
		ps.ranges = append(ps.ranges, [2]int{a, b})
	}
	return ps, nil
}

// Has reports whether port is in the set.
func (p *PortSet) Has(port int) bool {
	for _, r := range p.ranges {
		if port >= r[0] && port <= r[1] {
			return true
		}
	}
	return false
}

func (p *PortSet) String() string { return p.raw }

// IgnoreRule is one --ignore ID[@SELECTOR]: a port or a PID (a number
// matches either), or port:N / pid:N to be explicit.
type IgnoreRule struct {
	ID        string
	Port, PID int // 0: any
	Any       int // a bare number: port or PID
}

// ParseIgnore reads ID[@SELECTOR]; the ID must be in the catalogue.
func ParseIgnore(s string) (IgnoreRule, error) {
	id, sel, hasSel := strings.Cut(s, "@")
	r := IgnoreRule{ID: id}
	if _, _, ok := rule(id); !ok {
		return r, fmt.Errorf("%q: unknown finding ID %q; the IDs are %s", s, id, strings.Join(catalogueIDs(), ", "))
	}
	if !hasSel {
		return r, nil
	}
	kind, num, explicit := strings.Cut(sel, ":")
	if !explicit {
		num, kind = kind, ""
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return r, fmt.Errorf("%q: the selector must be @PORT, @PID, @port:N or @pid:N", s)
	}
	switch kind {
	case "":
		r.Any = n
	case "port":
		if n > 65535 {
			return r, fmt.Errorf("%q: port %d is out of range 1-65535", s, n)
		}
		r.Port = n
	case "pid":
		r.PID = n
	default:
		return r, fmt.Errorf("%q: the selector must be @PORT, @PID, @port:N or @pid:N", s)
	}
	return r, nil
}

// Matches reports whether the rule silences the finding.
func (r IgnoreRule) Matches(f Finding) bool {
	if r.ID != f.ID {
		return false
	}
	switch {
	case r.Port != 0:
		return f.Port == r.Port
	case r.PID != 0:
		return f.PID == r.PID
	case r.Any != 0:
		return f.Port == r.Any || f.PID == r.Any
	}
	return true
}

func catalogueIDs() []string {
	ids := make([]string, 0, len(Rules))
	for _, r := range Rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// Validate rejects contradictions.
func (c *Config) Validate() error {
	if c.Cmdline != "" && c.UnitFile != "" {
		return errors.New("--cmdline and --unit-file exclude each other: audit one")
	}
	if c.Cmdline != "" || c.UnitFile != "" {
		mode := "--cmdline"
		if c.UnitFile != "" {
			mode = "--unit-file"
		}
		// Flags about running processes have nothing to act on in a
		// configuration review: given, they would be silently ignored.
		var live []string
		for _, f := range []struct {
			set  bool
			name string
		}{
			{c.Match != nil, "--match"}, {c.Exclude != nil, "--exclude"}, {c.User != "", "--user"},
			{c.Warn.IsSet() || c.Crit.IsSet(), "-w/-c"}, {len(c.ExpectListen) > 0, "--expect-listen"},
			{c.AllowedPorts != nil, "--allowed-ports"}, {len(c.AllowPeers) > 0, "--allow-peer"},
			{c.WarnChildren.IsSet() || c.CritChildren.IsSet(), "--warning-children/--critical-children"},
			{c.MinUptime > 0, "--min-uptime"}, {c.SampleTraffic != 0, "--sample-traffic"},
		} {
			if f.set {
				live = append(live, f.name)
			}
		}
		if len(live) > 0 {
			return fmt.Errorf("%s reviews a configuration, %s audit running processes: drop them, or audit the processes without %s",
				mode, strings.Join(live, ", "), mode)
		}
	}
	if c.DiscoverHost != "" && c.Discover == "" {
		return errors.New("--discover-host names the host of --discover's output: give --discover too")
	}
	if c.Discover != "" {
		if !slices.Contains(DiscoverFormats, c.Discover) {
			return fmt.Errorf("--discover %q: give icinga2, nagios or json", c.Discover)
		}
		var judging []string
		for _, f := range []struct {
			set  bool
			name string
		}{
			{c.Cmdline != "", "--cmdline"}, {c.UnitFile != "", "--unit-file"},
			{c.Warn.IsSet() || c.Crit.IsSet(), "-w/-c"}, {len(c.ExpectListen) > 0, "--expect-listen"},
			{c.AllowedPorts != nil, "--allowed-ports"}, {len(c.AllowPeers) > 0, "--allow-peer"},
			{c.WarnChildren.IsSet() || c.CritChildren.IsSet(), "--warning-children/--critical-children"},
			{c.MinUptime > 0, "--min-uptime"}, {len(c.Ignore) > 0, "--ignore"}, {c.SampleTraffic != 0, "--sample-traffic"},
		} {
			if f.set {
				judging = append(judging, f.name)
			}
		}
		if len(judging) > 0 {
			return fmt.Errorf("--discover prints the running instances as configuration; %s judge or review instead: drop them (--match, --exclude and --user choose what is discovered)",
				strings.Join(judging, ", "))
		}
	}
	if c.MinUptime < 0 {
		return errors.New("--min-uptime must not be negative")
	}
	if c.SampleTraffic != 0 && (c.SampleTraffic < MinSample || c.SampleTraffic > MaxSample) {
		return fmt.Errorf("--sample-traffic %s: give a duration from 1s to 60s", c.SampleTraffic)
	}
	return nil
}

type netipPrefix = netip.Prefix

func parsePrefix(s string) (netip.Prefix, error) { return netip.ParsePrefix(s) }

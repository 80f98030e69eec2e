// Command check_socat_procs audits the socat instances of a host: which
// run, how their command lines are configured, what they listen on and
// who is connected; or a command line or systemd unit before deployment.
package main

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks/procs"
	"github.com/check-socat/check-socat/internal/flagval"
	"github.com/check-socat/check-socat/internal/plugin"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

const description = `Audit socat on this host: every running instance (a socat process whose parent is not socat; its socat descendants are its children, one per forked connection), its command line against a catalogue of risky settings, what it listens on and who is connected. Or audit a command line (--cmdline) or a systemd unit (--unit-file) before deploying it.

Findings carry a stable ID (plaintext-listener, remote-exec, docker-socket, tls-verify-off, ...) that --ignore takes. Run as root to see every process's sockets and files; as another user, what cannot be seen is said.`

type cli struct {
	plugin.Common

	Match    string          `placeholder:"RE" group:"Selection"`
	Exclude  string          `placeholder:"RE" group:"Selection"`
	User     string          `placeholder:"NAME" group:"Selection"`
	Warning  threshold.Range `short:"w" placeholder:"RANGE" group:"Selection"`
	Critical threshold.Range `short:"c" placeholder:"RANGE" group:"Selection"`

	ExpectListen []string `placeholder:"[ADDR:]PORT" sep:"none" group:"Listeners and peers"`
	AllowedPorts string   `placeholder:"LIST" group:"Listeners and peers"`
	AllowPeer    []string `placeholder:"CIDR" sep:"none" group:"Listeners and peers"`

	WarningChildren  threshold.Range     `placeholder:"RANGE" group:"Instances"`
	CriticalChildren threshold.Range     `placeholder:"RANGE" group:"Instances"`
	MinUptime        plugin.ZeroDuration `placeholder:"DURATION" group:"Instances"`
	Ignore           []string            `placeholder:"ID[@SELECTOR]" sep:"none" group:"Instances"`

	SampleTraffic plugin.Duration `placeholder:"DURATION" group:"Traffic"`

	Discover     flagval.Text `placeholder:"FORMAT" group:"Discovery"`
	DiscoverHost flagval.Text `placeholder:"NAME" group:"Discovery"`

	Cmdline  flagval.Text `placeholder:"'socat ...'" group:"Configuration review"`
	UnitFile flagval.Text `placeholder:"PATH" group:"Configuration review"`
}

// help returns the --help text of each flag, built only when help is
// printed; defaults are added then.
func help() map[string]string {
	return map[string]string{
		"match":             "Keep only instances whose command line matches this Go regular expression.",
		"exclude":           "Drop instances whose command line matches this Go regular expression.",
		"user":              "Keep only instances running as this user (name or UID).",
		"warning":           "Nagios range on the number of instances, e.g. 1: (WARNING below one).",
		"critical":          "Nagios range on the number of instances, e.g. 1: (CRITICAL when none runs).",
		"expect-listen":     "A socat instance must listen on [ADDR:]PORT (8080, 127.0.0.1:8080, [::1]:8443); a wildcard listener counts for any ADDR. Repeatable.",
		"allowed-ports":     "socat listening on any other port is CRITICAL: ports and ranges, e.g. 443,8443,5000-5010.",
		"allow-peer":        "Connections from peers outside every CIDR given are CRITICAL (e.g. 10.0.0.0/8). Repeatable.",
		"warning-children":  "Nagios range on the children (forked connections) of each instance, e.g. 50.",
		"critical-children": "Nagios range on the children of each instance, e.g. 200 (near max-children).",
		"min-uptime":        "An instance younger than this was (re)started recently: WARNING (e.g. 10m).",
		"ignore":            "Silence a finding: ID everywhere, ID@PORT or ID@PID for one instance (also @port:N, @pid:N). Repeatable.",
		"sample-traffic":    "Capture each instance's traffic for DURATION (1s to 60s, within -t) and judge every connection on both legs: plaintext to or from another host is CRITICAL plaintext-in-transit (the evidence masked), TLS 1.0/1.1 WARNING weak-tls-in-transit; loopback legs are reported, not alerted. Needs CAP_NET_RAW (root, or the README's setcap recipe), and CAP_SYS_ADMIN for instances in another network namespace.",
		"discover":          "Print the running instances (those --match, --exclude and --user keep) as monitoring configuration instead of judging them, and exit 0: icinga2 (a host template whose variables the shipped apply rules turn into services), nagios (service definitions) or json. Per listener its address, port, TLS and certificate; per instance its log file (-lf) or systemd unit. See the README's Discovery section.",
		"discover-host":     "The host name --discover writes (the Icinga 2 Host object and template socat-NAME, Nagios' host_name); default: this host's name. Give the name your monitoring knows it by, e.g. its FQDN.",
		"cmdline":           "Audit this socat command line instead of running processes (config review before deploy). Shell quoting, sh -c, env/sudo/exec wrappers and docker run of a socat image are understood.",
		"unit-file":         "Audit the ExecStart= of this systemd service unit, as the User= it names, with the files it uses and its .socket unit if there is one.",
	}
}

// config turns the flags into the check's configuration.
// Config turns the flags into the check's configuration; errors name the
// flag (the runtime says them as UNKNOWN).
func (c *cli) Config() (procs.Config, error) {
	cfg := procs.Config{User: c.User, Warn: c.Warning, Crit: c.Critical, WarnChildren: c.WarningChildren,
		CritChildren: c.CriticalChildren, MinUptime: c.MinUptime.D(), Cmdline: string(c.Cmdline), UnitFile: string(c.UnitFile),
		SampleTraffic: c.SampleTraffic.D(), Discover: string(c.Discover), DiscoverHost: string(c.DiscoverHost)}
	var err error
	if c.Match != "" {
		if cfg.Match, err = regexp.Compile(c.Match); err != nil {
			return cfg, fmt.Errorf("--match: %v", err)
		}
	}
	if c.Exclude != "" {
		if cfg.Exclude, err = regexp.Compile(c.Exclude); err != nil {
			return cfg, fmt.Errorf("--exclude: %v", err)
		}
	}
	for _, s := range c.ExpectListen {
		spec, err := procs.ParseListenSpec(s)
		if err != nil {
			return cfg, fmt.Errorf("--expect-listen %v", err)
		}
		cfg.ExpectListen = append(cfg.ExpectListen, spec)
	}
	if c.AllowedPorts != "" {
		if cfg.AllowedPorts, err = procs.ParsePortSet(c.AllowedPorts); err != nil {
			return cfg, fmt.Errorf("--allowed-ports: %v", err)
		}
	}
	for _, s := range c.AllowPeer {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			a, aerr := netip.ParseAddr(strings.TrimSpace(s))
			if aerr != nil {
				return cfg, fmt.Errorf("--allow-peer %q is not a CIDR: give e.g. 10.0.0.0/8 or 192.0.2.7", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		cfg.AllowPeers = append(cfg.AllowPeers, p.Masked())
	}
	for _, s := range c.Ignore {
		r, err := procs.ParseIgnore(s)
		if err != nil {
			return cfg, fmt.Errorf("--ignore %v", err)
		}
		cfg.Ignore = append(cfg.Ignore, r)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if plugin.UnderSudo() {
		if n, err := strconv.Atoi(os.Getenv("SUDO_UID")); err == nil {
			cfg.Sudo, cfg.SudoUID = true, n
		}
		// The sudoers recipe gives the monitoring user root's view of the
		// running instances, not root's reading (and writing) of any file.
		for _, f := range []struct {
			set  bool
			name string
		}{{c.UnitFile != "", "--unit-file"}, {c.Cmdline != "", "--cmdline"}, {c.Textfile != "", "--textfile"}} {
			if f.set {
				return cfg, fmt.Errorf("%s is refused through sudo: it would read or write a file the caller names as root; run it as yourself (sudo is for the audit of the running instances)", f.name)
			}
		}
	}
	if c.Discover != "" && (c.Output != "nagios" || c.Textfile != "") {
		return cfg, fmt.Errorf("--discover %s prints configuration: --output and --textfile are for results; drop them", c.Discover)
	}
	// The sample must end before the deadline, with time left for the
	// scan before it and the verdict after it.
	if d := c.SampleTraffic.D(); d > 0 && d+time.Second > c.Timeout.D() {
		return cfg, fmt.Errorf("--sample-traffic %s does not fit in -t %s: give -t at least %s (the sample and a second for the audit)",
			d, c.Timeout.D(), d+time.Second)
	}
	return cfg, nil
}

func main() { program.Run(&cli{}) }

// program describes the binary to the runtime (and to the tests).
var program = plugin.Binary[procs.Config]{Check: procs.Run, Options: plugin.Options{
	Name:         "check_socat_procs",
	Description:  description,
	TimeoutState: state.Unknown,
	Help:         help,
	Man:          man,
	SudoCommand:  true,
}}

// man is the manual page beyond the flags: the finding catalogue (from
// the rule table itself), the performance data, examples.
func man() []plugin.ManSection {
	var findings [][2]string
	for _, r := range procs.Rules {
		findings = append(findings, [2]string{r.ID + " (" + r.State.String() + ")", r.About + "."})
	}
	return []plugin.ManSection{
		{Title: "Findings", Paragraphs: []string{"Each finding has a stable ID; --ignore ID silences it everywhere, --ignore ID@PORT or ID@PID for one instance. The state in parentheses is its default."},
			Entries: append(findings, plugin.RuntimeFindings...)},
		{Title: "Performance data", Paragraphs: []string{
			"instances (with -w/-c), children, findings_critical, findings_warning; per instance i<PORT>_children, i<PORT>_rss (B), i<PORT>_fds, i<PORT>_uptime (s) (i<PORT>u_... for a UDP port another instance uses for TCP, pid<PID>_... without a port or for a shared one).",
			"With --sample-traffic: per instance i<PORT>_{tls,ssh,encrypted,plaintext,unknown,idle}_conns and i<PORT>_{tls,ssh,encrypted,plaintext,unknown}_bytes (B); traffic_packets, traffic_dropped.",
			"When --max-output cannot hold every item, the check's own are kept whole and the per-instance ones are left out, said on the line after the first."}},
		{Title: "Examples", Entries: [][2]string{
			{"check_socat_procs -c 1: --expect-listen 8443", "At least one instance, and one listening on port 8443."},
			{"check_socat_procs --match relay --allow-peer 10.0.0.0/8 --ignore runs-as-root", "The instances whose command line matches relay; peers outside 10.0.0.0/8 are CRITICAL."},
			{"check_socat_procs --sample-traffic 5s -t 15", "Also judge what crosses the network through each instance for 5 seconds (needs CAP_NET_RAW)."},
			{"check_socat_procs --unit-file /etc/systemd/system/socat-relay.service", "Audit a unit before deploying it."},
			{"check_socat_procs --cmdline 'socat TCP-LISTEN:2375,fork UNIX-CONNECT:/var/run/docker.sock'", "Audit a command line (this one is CRITICAL docker-socket)."},
		}},
	}
}

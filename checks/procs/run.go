package procs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/socktable"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

// problem is one line of the result: a catalogue finding, or a check of
// the flags (--expect-listen, --allowed-ports, ...), which is said as its
// text alone and comes first among the findings of its state.
type problem = checks.Finding

// onInstance gives a problem the socat_instance label of its instance.
func onInstance(inst string, p problem) problem {
	p.Labels = []checks.Label{{Name: instanceLabel, Value: inst}}
	return p
}

// flagProblem is a check of the flags that failed.
func flagProblem(id string, st state.State, subject, text string) problem {
	return checks.Finding{ID: id, State: st, Rank: -1, Subject: subject, Text: text, Line: text}
}

// instanceLabel names the label that carries a socat instance in
// OpenMetrics. Not "instance": Prometheus renames a scraped "instance" to
// "exported_instance" (its own "instance" is the scrape target, the
// host), seen with a real node_exporter and Prometheus.
const instanceLabel = "socat_instance"

// result is the finding as the result model carries it; inst is the
// value of its socat_instance label, the same as its instance's metrics.
func (f Finding) result(inst string) checks.Finding {
	return checks.Finding{ID: f.ID, State: f.State, Rank: rank(f.ID), Subject: f.Where, Text: f.Reason,
		Remedy: f.Remedy, Line: f.Line(), Labels: []checks.Label{{Name: instanceLabel, Value: inst}}}
}

// staticInstance is the socat_instance of a command line or unit audit:
// its listen port, or where it is.
func staticInstance(f Finding) string {
	if f.Port > 0 {
		return strconv.Itoa(f.Port)
	}
	return f.Where
}

// Run performs the check in the mode the configuration asks for.
func Run(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	if err := cfg.Validate(); err != nil {
		return checks.Unknownf("%v", err)
	}
	switch {
	case cfg.Cmdline != "":
		return runCmdline(env, cfg)
	case cfg.UnitFile != "":
		return runUnit(env, cfg)
	}
	return runLive(ctx, env, cfg)
}

// filter drops ignored findings.
func filter(cfg Config, fs []Finding) (kept []Finding, ignored int) {
	for _, f := range fs {
		silenced := false
		for _, r := range cfg.Ignore {
			if r.Matches(f) {
				silenced = true
				break
			}
		}
		if silenced {
			ignored++
			continue
		}
		kept = append(kept, f)
	}
	return kept, ignored
}

func unparsable(where string, pid, port int, err error) Finding {
	return Finding{ID: IDUnparsable, State: DefaultState(IDUnparsable), Where: where, PID: pid, Port: port,
		Reason: "the command line cannot be read: " + sanitize.Text(err.Error(), 160),
		Remedy: "check it with socat itself; nothing else about this instance is audited"}
}

// staticResult renders the findings of one command line (--cmdline and
// --unit-file).
func staticResult(cfg Config, what string, fs []Finding, notes []string) checks.Result {
	kept, ignored := filter(cfg, fs)
	sortFindings(kept)
	res := checks.Result{SubjectLabel: instanceLabel}
	crit, warn := 0, 0
	for _, f := range kept {
		res.Findings = append(res.Findings, f.result(staticInstance(f)))
		switch f.State {
		case state.Critical:
			crit++
		case state.Warning:
			warn++
		}
	}
	res.Summary = fmt.Sprintf("%s: %s", what, countText(crit, warn, ignored))
	if len(kept) > 0 {
		res.Summary += ": " + kept[0].ID + " (" + shortReason(kept[0].Reason) + ")"
	}
	res.State = checks.Worst(res.State, res.Findings)
	res.Details = append(res.Details, notes...)
	res.Metrics = findingCounts(crit, warn)
	return res
}

// findingCounts are the metrics of how many findings there are.
func findingCounts(crit, warn int) []checks.Metric {
	const help = "Findings of the audit by severity (after --ignore)."
	return []checks.Metric{
		checks.NewMetric("findings", help, perfdata.New("findings_critical", float64(crit), "").WithMin(0), "severity", "critical"),
		checks.NewMetric("findings", help, perfdata.New("findings_warning", float64(warn), "").WithMin(0), "severity", "warning"),
	}
}

func shortReason(s string) string {
	if len(s) > 70 {
		return s[:67] + "..."
	}
	return s
}

func countText(crit, warn, ignored int) string {
	if crit == 0 && warn == 0 {
		s := "no findings"
		if ignored > 0 {
			s += fmt.Sprintf(" (%d ignored)", ignored)
		}
		return s
	}
	s := fmt.Sprintf("%d critical, %d warning findings", crit, warn)
	if ignored > 0 {
		s += fmt.Sprintf(" (%d ignored)", ignored)
	}
	return s
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].State != fs[j].State {
			return fs[i].State.Worse(fs[j].State)
		}
		return rank(fs[i].ID) < rank(fs[j].ID)
	})
}

func runCmdline(env checks.Env, cfg Config) checks.Result {
	cmd, err := socatcmd.ParseCommandLine(cfg.Cmdline)
	var notSocat *socatcmd.NotSocatError
	if errors.As(err, &notSocat) {
		return checks.Unknownf("--cmdline is not a socat command line: %s; give the whole command, e.g. --cmdline 'socat TCP-LISTEN:80,fork TCP:backend:80'", sanitize.Text(notSocat.Reason, 120))
	}
	var fs []Finding
	if err != nil {
		fs = []Finding{unparsable("--cmdline", 0, 0, err)}
	} else {
		port := commandPort(cmd)
		sub := Subject{Cmd: cmd, Where: "--cmdline", Port: port, UID: -1, Static: true}
		// systemd-socket-activate -l PORT listens for socat, as a socket
		// unit would: that listener is the one audited.
		sub.Socket = socatcmd.SocketActivation(cfg.Cmdline)
		fs = Audit(sub)
		if env.Verbose >= 2 {
			env.Debugf("parsed: %s", cmd)
		}
	}
	notes := []string{"note: a --cmdline audit does not know the user or the files; audit a unit (--unit-file) or the running process for those"}
	if err == nil && env.Verbose >= 1 {
		notes = append(notes, "parsed: "+sanitize.Text(cmd.String(), 300))
	}
	return staticResult(cfg, "socat command line", fs, notes)
}

func runUnit(env checks.Env, cfg Config) checks.Result {
	u, err := socatcmd.ReadUnit(cfg.UnitFile)
	if err != nil {
		var pe *fs.PathError
		var te *socatcmd.TemplateError
		if errors.As(err, &te) {
			return checks.Unknownf("--unit-file %s", sanitize.Text(te.Error(), 240))
		}
		if errors.As(err, &pe) {
			return checks.Unknownf("cannot read --unit-file %s: %v", sanitize.Text(cfg.UnitFile, 120), pe.Err)
		}
		return checks.Unknownf("--unit-file %s: %s", sanitize.Text(cfg.UnitFile, 120), sanitize.Text(err.Error(), 160))
	}
	name := filepath.Base(cfg.UnitFile)
	if u.Invalid != "" {
		// systemd would not load it: nothing of it runs, so its commands
		// are not audited as if they did.
		f := Finding{ID: IDUnparsable, State: DefaultState(IDUnparsable), Where: name,
			Reason: "systemd refuses this unit (\"" + sanitize.Text(u.Invalid, 200) + "\"): it does not start, and its commands do not run",
			Remedy: "fix the unit, then check it with systemd-analyze verify " + sanitize.Text(name, 60)}
		return staticResult(cfg, "unit "+sanitize.Text(name, 60), []Finding{f}, nil)
	}
	cmds, err := u.SocatCommands()
	var notSocat *socatcmd.NotSocatError
	if errors.As(err, &notSocat) {
		return checks.Unknownf("--unit-file %s does not run socat: %s", sanitize.Text(cfg.UnitFile, 120), sanitize.Text(notSocat.Reason, 120))
	}
	var notes []string
	uid, gids, who := 0, []int{0}, "root (no User=)"
	switch {
	case u.DynamicUser:
		uid, gids, who = 65534, nil, "a dynamic user (DynamicUser=yes)"
	case u.User != "":
		who = "user " + sanitize.Text(u.User, 40)
		if acc, lerr := lookupUser(u.User); lerr == nil {
			uid, gids = acc.uid, acc.gids
		} else {
			uid, gids = -1, nil
			notes = append(notes, fmt.Sprintf("note: user %s of the unit does not exist here; file permissions are not checked for it", sanitize.Text(u.User, 40)))
		}
	}
	var findings []Finding
	var unseen []string
	for _, uc := range cmds {
		// Every socat ExecStart= is audited (a oneshot unit runs them in
		// turn), each named when there are several.
		where := name
		if len(cmds) > 1 {
			where = fmt.Sprintf("%s ExecStart #%d", name, uc.Index+1)
		}
		if uc.Err != nil {
			findings = append(findings, unparsable(where, 0, 0, uc.Err))
			continue
		}
		cuid, cgids, cwho := uid, gids, who
		if uc.Privileged {
			// ExecStart=+ and ExecStart=! run as root, ignoring User=.
			cuid, cgids, cwho = 0, []int{0}, "root (the ExecStart= prefix + or ! ignores User=)"
		}
		sub := Subject{Cmd: uc.Cmd, Where: where, Port: commandPort(uc.Cmd), UID: cuid, User: cwho, Socket: u.Socket, Static: true,
			Files: HostFiles{UID: cuid, GIDs: cgids, Root: u.RootDirectory, Dir: u.WorkingDirectory}, Unseen: &unseen}
		if sub.Port == 0 && u.Socket != nil {
			for _, l := range u.Socket.Listen {
				if p := socketFacts(l).ListenPort(); p != 0 {
					sub.Port = p
					break
				}
			}
		}
		findings = append(findings, Audit(sub)...)
		if env.Verbose >= 1 {
			notes = append(notes, where+" runs as "+cwho+"; parsed: "+sanitize.Text(uc.Cmd.String(), 300))
		}
	}
	if f, ok := noRestart(u, cmds, name); ok {
		findings = append(findings, f)
	}
	// The unit file and its environment files decide what runs: whoever
	// may change them runs code as the service's user.
	if uid >= 0 {
		acc := readAccounts(func(p string) string { return p })
		unitPath := u.Name.Path
		if unitPath == "" {
			unitPath = cfg.UnitFile
		}
		for _, p := range append([]string{unitPath}, u.EnvFiles...) {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			what := "the unit file"
			if p != unitPath {
				what = "the EnvironmentFile"
			}
			// The unit file says who the service runs as: only root may
			// own it, or its user could make itself root (User=, +).
			owner := uid
			if p == unitPath {
				owner = 0
			}
			if who := whoMayReplace(p, "/", owner, acc); who != "" {
				findings = append(findings, Finding{ID: IDFileWritable, State: DefaultState(IDFileWritable), Where: name,
					Reason: fmt.Sprintf("%s %s can be changed by another user: %s", what, sanitize.Text(p, 80), who),
					Remedy: "give it and every directory above it to root, without group or other write permission"})
			}
		}
	}
	binaries := map[string]bool{}
	for _, uc := range cmds {
		if uc.Cmd == nil {
			continue
		}
		exe := argvExecutable([]string{uc.Cmd.Program})
		if f, ok := privilegedBinary(exe, exe, name, 0, 0, binaries); ok {
			findings = append(findings, f)
		}
	}
	if len(unseen) > 0 {
		notes = append(notes, fmt.Sprintf("note: %d file(s) the unit names are not visible to this user and were not checked (%s): run as root to check them",
			len(unseen), sanitize.Text(joinMax(unseen, 3), 200)))
	}
	if len(u.Unknown) > 0 {
		notes = append(notes, fmt.Sprintf("note: the unit uses variables it does not set (%s); they were audited as written",
			sanitize.Text(joinMax(u.Unknown, 5), 120)))
	}
	if u.Socket != nil {
		notes = append(notes, fmt.Sprintf("note: connections come from %s", filepath.Base(u.Socket.Path)))
	}
	if u.Name.Path != "" && u.Name.Path != cfg.UnitFile {
		notes = append(notes, fmt.Sprintf("note: %s has no file of its own; its template %s was read with instance %s, as systemd does",
			sanitize.Text(name, 60), sanitize.Text(filepath.Base(u.Name.Path), 60), sanitize.Text(u.Name.Instance, 60)))
	}
	return staticResult(cfg, "unit "+sanitize.Text(name, 60), findings, notes)
}

// noRestart is the finding of a unit that runs a long-lived socat (a
// listener, or a connector with forever) and lets it stay dead: Restart=
// unset or no (systemd.service(5): the default is no). A socket-activated
// unit is restarted by its socket; a oneshot is not long-lived.
func noRestart(u *socatcmd.Unit, cmds []socatcmd.UnitCommand, name string) (Finding, bool) {
	if u.Restart != "no" || u.Type == "oneshot" || u.Socket != nil {
		return Finding{}, false
	}
	for _, uc := range cmds {
		if uc.Cmd == nil || uc.Err != nil {
			continue
		}
		for _, s := range uc.Cmd.Singles() {
			f := s.Facts(uc.Cmd.Globals.PreferFamily)
			what := ""
			switch {
			case f.Role == socatcmd.RoleListen:
				what = "listens (" + desc(s) + ")"
			case s.Has("forever"):
				what = "reconnects forever (" + desc(s) + ")"
			default:
				continue
			}
			return Finding{ID: IDNoRestart, State: DefaultState(IDNoRestart), Where: name,
				Reason: fmt.Sprintf("socat %s, but the unit has no Restart=: when socat exits (a crash, a signal, an error) the service stays down", what),
				Remedy: "add Restart=on-failure (or always) and RestartSec=1 to [Service]"}, true
		}
	}
	return Finding{}, false
}

type account struct {
	uid  int
	gids []int
}

func lookupUser(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if n, nerr := strconv.Atoi(name); nerr == nil {
			return account{uid: n}, nil
		}
		return account{}, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	acc := account{uid: uid}
	if gid, err := strconv.Atoi(u.Gid); err == nil {
		acc.gids = append(acc.gids, gid)
	}
	if groups, err := u.GroupIds(); err == nil {
		for _, g := range groups {
			if n, err := strconv.Atoi(g); err == nil {
				acc.gids = append(acc.gids, n)
			}
		}
	}
	return acc, nil
}

// commandPort is the first TCP/UDP listen port of a command line.
func commandPort(c *socatcmd.Command) int {
	for _, s := range c.Listeners() {
		if p := s.Facts(c.Globals.PreferFamily).ListenPort(); p != 0 {
			return p
		}
	}
	return 0
}

// scanInstances finds the running instances the selection flags keep
// and describes each; failed is the result of a scan that could not run.
func scanInstances(ctx context.Context, env checks.Env, cfg Config) (snap *Snapshot, insts []*live, orphanNotes []string, failed *checks.Result) {
	env.SetStage("process scan")
	snap, err := Discover(ctx)
	if err != nil {
		r := checks.Unknownf("%v", err)
		if ctx.Err() != nil {
			r = checks.Result{State: env.TimeoutState, Summary: "timed out scanning /proc at stage process scan"}
		}
		return nil, nil, nil, &r
	}
	env.Debugf("scanned %d processes, %d are socat", snap.Scanned, len(snap.Procs))
	env.SetStage("socket mapping")
	for _, in := range snap.Instances() {
		cmdline := strings.Join(in.Argv, " ")
		if cfg.Match != nil && !cfg.Match.MatchString(cmdline) {
			continue
		}
		if cfg.Exclude != nil && cfg.Exclude.MatchString(cmdline) {
			continue
		}
		if cfg.User != "" && in.User != cfg.User && strconv.Itoa(in.UID) != cfg.User {
			continue
		}
		insts = append(insts, describeInstance(snap, in))
	}
	insts, orphanNotes = adoptOrphans(insts)
	assignLabels(insts)
	return snap, insts, orphanNotes, nil
}

// live is what the check learned about one running instance.
type live struct {
	*Instance
	cmd      *socatcmd.Command
	parseErr error
	listens  []netip.AddrPort        // TCP/UDP listen addresses
	udpAddrs map[netip.AddrPort]bool // the listen addresses that are UDP
	unixes   []string                // UNIX listen paths
	peers    []netip.AddrPort
	inferred bool // sockets inferred from the table (fds not visible)
	port     int
	udp      bool   // the port is a UDP one
	label    string // perfdata prefix
	where    string
}

func runLive(ctx context.Context, env checks.Env, cfg Config) checks.Result {
	if cfg.User != "" {
		if _, err := lookupUser(cfg.User); err != nil {
			return checks.Unknownf("--user %s: no such user on this host; give a name from the passwd database or a numeric UID", sanitize.Text(cfg.User, 40))
		}
	}
	snap, insts, orphanNotes, failed := scanInstances(ctx, env, cfg)
	if failed != nil {
		return *failed
	}
	if cfg.Discover != "" {
		return discoverConfig(env, cfg, snap, insts, orphanNotes)
	}
	// One socat_instance value per instance, for its metrics and its
	// findings alike: its perfdata label without the "i" (8080, 8080u for
	// UDP beside TCP, pid1234 without a port or for a shared one).
	instOf := map[int]string{}
	for _, l := range insts {
		instOf[l.PID] = strings.TrimPrefix(l.label, "i")
	}

	var problems []problem
	var findings []Finding
	var notes []string
	now := time.Now()
	totalChildren := 0
	binaries := map[string]bool{}
	for _, l := range insts {
		totalChildren += len(l.Children)
		file, exe := instanceExecutable(l.PID, l.Argv)
		if f, ok := privilegedBinary(file, exe, l.where, l.PID, l.port, binaries); ok {
			findings = append(findings, f)
		}
		callers := cfg.Sudo && l.UID == cfg.SudoUID
		if l.parseErr != nil {
			findings = append(findings, unparsable(l.where, l.PID, l.port, l.parseErr))
		} else {
			var unseen []string
			sub := Subject{Cmd: l.cmd, Where: l.where, PID: l.PID, Port: l.port, UID: l.UID, User: l.User,
				Files: ProcFiles{PID: l.PID, UID: l.UID, GIDs: l.GIDs, Path: l.Path}, Unseen: &unseen}
			if callers {
				sub.Files = nil
				notes = append(notes, fmt.Sprintf("note: %s is the sudo caller's own: its files are not checked through sudo (run the check as yourself for them)", l.where))
			}
			findings = append(findings, Audit(sub)...)
			if len(unseen) > 0 && !l.inferred { // (an inferred instance's note says it already)
				notes = append(notes, fmt.Sprintf("note: %s names %d file(s) not visible to this user, not checked (%s): run as root to check them",
					l.where, len(unseen), sanitize.Text(joinMax(unseen, 3), 200)))
			}
		}
		if st := threshold.Evaluate(float64(len(l.Children)), cfg.WarnChildren, cfg.CritChildren); st != state.OK {
			problems = append(problems, onInstance(instOf[l.PID], flagProblem("children", st, l.where, fmt.Sprintf("%s has %d children (--%s-children %s)", l.where, len(l.Children),
				strings.ToLower(st.String()), rangeFor(st, cfg.WarnChildren, cfg.CritChildren)))))
		}
		if cfg.MinUptime > 0 && !l.Start.IsZero() && now.Sub(l.Start) < cfg.MinUptime {
			problems = append(problems, onInstance(instOf[l.PID], flagProblem("restarted", state.Warning, l.where, fmt.Sprintf("%s started %s ago, less than --min-uptime %s: restarted recently?",
				l.where, now.Sub(l.Start).Round(time.Second), cfg.MinUptime))))
		}
		if cfg.AllowedPorts != nil {
			for _, a := range l.listens {
				if !cfg.AllowedPorts.Has(int(a.Port())) {
					problems = append(problems, onInstance(instOf[l.PID], flagProblem("port-not-allowed", state.Critical, l.where, fmt.Sprintf("%s listens on %s, not in --allowed-ports %s", l.where, a, cfg.AllowedPorts))))
				}
			}
		}
		if len(cfg.AllowPeers) > 0 {
			for _, p := range l.peers {
				if !inPrefixes(p.Addr(), cfg.AllowPeers) {
					problems = append(problems, onInstance(instOf[l.PID], flagProblem("peer-not-allowed", state.Critical, l.where, fmt.Sprintf("%s has a connection from %s, outside every --allow-peer", l.where, p.Addr()))))
				}
			}
		}
		if l.inferred {
			who := "root"
			if l.UID != 0 {
				who += " or as " + sanitize.Text(l.User, 32)
			}
			notes = append(notes, fmt.Sprintf("note: %s belongs to %s; its open files are not visible to this user, so its sockets are inferred from the socket table and its files are not checked (run as %s to see them)",
				l.where, sanitize.Text(l.User, 32), who))
		}
	}
	var traffic *trafficAudit
	if cfg.SampleTraffic > 0 {
		ownNS, _ := os.Readlink("/proc/self/ns/net")
		var err error
		sampled := insts
		if cfg.Sudo {
			// Not the caller's own instances: root would capture, for
			// them, whatever reaches a port they chose.
			sampled = nil
			for _, l := range insts {
				if l.UID != cfg.SudoUID {
					sampled = append(sampled, l)
				}
			}
		}
		if traffic, err = auditTraffic(ctx, env, sampled, instOf, snap.Tables, cfg.SampleTraffic, ownNS); err != nil {
			return checks.Unknownf("%v", err)
		}
		findings = append(findings, traffic.findings...)
		notes = append(notes, traffic.notes...)
		if traffic.cut != "" {
			problems = append(problems, flagProblem("sample-cut", state.Unknown, "--sample-traffic", traffic.cut))
		}
	}
	for _, spec := range cfg.ExpectListen {
		if !anyListens(insts, spec) {
			problems = append(problems, flagProblem("listen-missing", state.Critical, spec.Raw, fmt.Sprintf("no socat instance listens on %s (--expect-listen)", spec.Raw)))
		}
	}
	// Who may run socat through sudo, running or not.
	sudo, sudoNotes := sudoFindings()
	findings = append(findings, sudo...)
	notes = append(notes, sudoNotes...)
	// The socat any user gets by typing socat, running or not.
	if p := pathSocat(); p != "" {
		if f, ok := privilegedBinary(p, p, "socat on the PATH", 0, 0, binaries); ok {
			findings = append(findings, f)
		}
	}
	notes = append(notes, orphanNotes...)
	notes = append(notes, snap.Notes...)
	if snap.HiddenPIDs && len(insts) == 0 {
		return checks.Unknownf("no socat instance is visible, and /proc hides other users' processes (hidepid): run as root, or in the group /proc's gid= option names")
	}

	kept, ignored := filter(cfg, findings)
	sortFindings(kept)
	crit, warn := 0, 0
	for _, f := range kept {
		problems = append(problems, f.result(instOf[f.PID]))
		switch f.State {
		case state.Critical:
			crit++
		case state.Warning:
			warn++
		}
	}
	instState := threshold.Evaluate(float64(len(insts)), cfg.Warn, cfg.Crit)
	if instState != state.OK {
		p := flagProblem("instance-count", instState, "", fmt.Sprintf("%d socat instances (--%s %s)", len(insts),
			strings.ToLower(instState.String()), rangeFor(instState, cfg.Warn, cfg.Crit)))
		p.Rank = len(Rules) + 1
		problems = append(problems, p)
	}
	checks.Sort(problems)

	res := checks.Result{SubjectLabel: instanceLabel, Findings: problems, State: checks.Worst(state.OK, problems)}
	for _, l := range insts {
		res.Details = append(res.Details, instanceLine(l, now, env.Verbose))
	}
	if traffic != nil {
		res.Details = append(res.Details, traffic.details...)
	}
	res.Details = append(res.Details, notes...)

	res.Summary = fmt.Sprintf("%d socat instance%s", len(insts), plural(len(insts)))
	if len(insts) > 0 {
		var ports []string
		for _, l := range insts {
			ports = append(ports, l.short())
		}
		res.Summary += " (" + joinMax(ports, 4) + ")"
	}
	res.Summary += ", " + countText(crit, warn, ignored)
	if traffic != nil {
		res.Summary += ", " + traffic.summary
	}
	if len(problems) > 0 && problems[0].State != state.OK {
		first := problems[0].Text
		if problems[0].Rank >= 0 && problems[0].Rank < len(Rules) {
			first = problems[0].ID + " on " + problems[0].Subject // a catalogue finding
		}
		res.Summary += "; " + shortProblem(first)
	}

	metrics := []checks.Metric{
		checks.NewMetric("instances", "socat instances selected.", perfdata.New("instances", float64(len(insts)), "").WithRanges(cfg.Warn, cfg.Crit).WithMin(0)),
		checks.NewMetric("children", "Children (one per connection) of all selected instances.", perfdata.New("children", float64(totalChildren), "").WithMin(0)),
	}
	metrics = append(metrics, findingCounts(crit, warn)...)
	for _, l := range insts {
		inst := instOf[l.PID]
		fds := float64(l.FDs)
		if l.FDs < 0 {
			fds = math.NaN() // not visible: left out, and said by the instance line
		}
		uptime := 0.0
		if !l.Start.IsZero() {
			uptime = math.Round(now.Sub(l.Start).Seconds())
		}
		metrics = append(metrics,
			checks.NewMetric("instance_children", "Children of the instance (one per connection).", perfdata.New(l.label+"_children", float64(len(l.Children)), "").WithRanges(cfg.WarnChildren, cfg.CritChildren).WithMin(0), instanceLabel, inst),
			checks.NewMetric("instance_resident_memory_bytes", "Resident memory of the instance and its children.", perfdata.New(l.label+"_rss", float64(l.RSS), "B").WithMin(0), instanceLabel, inst),
			checks.NewMetric("instance_open_fds", "Open file descriptors of the instance.", perfdata.New(l.label+"_fds", fds, "").WithMin(0), instanceLabel, inst),
			checks.NewMetric("instance_uptime_seconds", "Time since the instance started.", perfdata.New(l.label+"_uptime", uptime, "s").WithMin(0), instanceLabel, inst),
		)
	}
	if traffic != nil {
		metrics = append(metrics, traffic.metrics...)
	}
	res.Metrics = metrics
	return res
}

var (
	plural  = checks.Plural
	joinMax = checks.JoinMax
)

func shortProblem(s string) string {
	if len(s) > 90 {
		return s[:87] + "..."
	}
	return s
}

func rangeFor(st state.State, warn, crit threshold.Range) string {
	if st == state.Critical {
		return crit.String()
	}
	return warn.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func anyListens(insts []*live, spec ListenSpec) bool {
	for _, l := range insts {
		for _, a := range l.listens {
			if int(a.Port()) != spec.Port {
				continue
			}
			la := a.Addr().Unmap()
			if !spec.Addr.IsValid() || la == spec.Addr || la.IsUnspecified() {
				return true
			}
		}
	}
	return false
}

// describeInstance maps the instance's sockets (and its children's) to
// listen addresses and peers.
// forks reports whether the command forks a child per connection.
func forks(c *socatcmd.Command) bool {
	if c == nil {
		return true // unknown: count what is there
	}
	for _, s := range c.Singles() {
		if enabled(s, "fork") {
			return true
		}
	}
	return false
}

// adoptOrphans attaches connection processes that outlived their listener
// (restarted: their parent is gone, they hold no listening socket and run
// the same command line as an instance that does) to that instance as
// children, instead of counting them as instances.
func adoptOrphans(insts []*live) ([]*live, []string) {
	byCmd := map[string]*live{}
	for _, l := range insts {
		if len(l.listens) > 0 || len(l.unixes) > 0 {
			byCmd[strings.Join(l.Argv, "\x00")] = l
		}
	}
	var out []*live
	adopted := map[*live]int{}
	for _, l := range insts {
		owner, ok := byCmd[strings.Join(l.Argv, "\x00")]
		if ok && owner != l && len(l.listens) == 0 && len(l.unixes) == 0 && !l.inferred {
			owner.Children = append(owner.Children, l.Proc)
			owner.peers = append(owner.peers, l.peers...)
			adopted[owner]++
			continue
		}
		out = append(out, l)
	}
	var notes []string
	for owner, n := range adopted {
		notes = append(notes, fmt.Sprintf("note: %d of the children of %s outlived an earlier listener of the same command (it was restarted)", n, owner.where))
	}
	sort.Strings(notes)
	return out, notes
}

func describeInstance(snap *Snapshot, in *Instance) *live {
	l := &live{Instance: in}
	l.cmd, l.parseErr = socatcmd.Parse(in.Argv)
	if l.parseErr != nil {
		l.cmd = nil
	}
	// Children: one per forked connection, the instance's direct socat
	// children. A SYSTEM address adds a socat helper below each of them
	// (socat -> socat -> sh), and a non-forking instance has only such
	// helpers: neither is a connection.
	var children []*Proc
	if forks(l.cmd) {
		for _, c := range in.Children {
			if c.PPID == in.PID {
				children = append(children, c)
			}
		}
	}
	all := in.Children
	l.Instance = &Instance{Proc: in.Proc, Children: children}
	table := snap.Tables[in.NetNS]
	var cmdPorts map[int]bool
	if l.cmd != nil {
		cmdPorts = map[int]bool{}
		for _, s := range l.cmd.Listeners() {
			if p := s.Facts(l.cmd.Globals.PreferFamily).ListenPort(); p != 0 {
				cmdPorts[p] = true
			}
		}
	}
	listenPorts := map[int]bool{}
	if !in.FDsHidden {
		for _, ino := range in.Inodes {
			s, ok := table[ino]
			if !ok || !s.Listening() {
				continue
			}
			if s.Proto == "unix" {
				l.unixes = append(l.unixes, s.Path)
				continue
			}
			l.addListen(s.Local, s.Proto)
			listenPorts[int(s.Local.Port())] = true
			if len(l.listens) == 1 {
				l.udp = strings.HasPrefix(s.Proto, "udp")
			}
		}
	} else if table != nil {
		// Not our process: a listening socket of the same user on a port
		// its command line names is its listener.
		l.inferred = true
		for _, s := range table {
			if s.Proto != "unix" && s.Listening() && s.UID == in.UID && cmdPorts[int(s.Local.Port())] {
				l.addListen(s.Local, s.Proto)
				listenPorts[int(s.Local.Port())] = true
			}
		}
	}
	sort.Slice(l.listens, func(i, j int) bool { return l.listens[i].String() < l.listens[j].String() })
	// Peers are the remote ends of connections on a listen port: the ports
	// seen listening and those the command line names (a listener without
	// fork closes its listening socket once it accepted; UDP-LISTEN
	// connects its socket to the first peer).
	for p := range cmdPorts {
		listenPorts[p] = true
	}
	procs := append([]*Proc{in.Proc}, all...)
	seen := map[uint64]bool{}
	addPeer := func(s socktable.Socket) {
		if s.Proto == "unix" || !listenPorts[int(s.Local.Port())] || seen[s.Inode] {
			return
		}
		connectedUDP := (s.Proto == "udp" || s.Proto == "udp6") && s.Remote.Port() != 0
		if s.State == socktable.StateEstablished || connectedUDP {
			seen[s.Inode] = true
			l.peers = append(l.peers, s.Remote)
			if connectedUDP && !containsAddr(l.listens, s.Local) {
				l.addListen(s.Local, s.Proto)
			}
		}
	}
	hidden := false
	for _, p := range procs {
		if p.FDsHidden {
			hidden = true
			continue
		}
		for _, ino := range p.Inodes {
			if s, ok := table[ino]; ok {
				addPeer(s)
			}
		}
	}
	if hidden && table != nil {
		for _, s := range table {
			if s.UID == in.UID || l.inferred {
				addPeer(s)
			}
		}
	}
	// The port that names the instance: its first TCP/UDP listener, else
	// the one its command line gives.
	for _, a := range l.listens {
		l.port = int(a.Port())
		break
	}
	if l.port == 0 && l.cmd != nil {
		l.port = commandPort(l.cmd)
	}
	l.where = fmt.Sprintf("pid %d", in.PID)
	if l.port != 0 {
		l.where += fmt.Sprintf(" :%d", l.port)
	}
	return l
}

// addListen records a TCP/UDP listen address of the instance.
func (l *live) addListen(a netip.AddrPort, proto string) {
	l.listens = append(l.listens, a)
	if strings.HasPrefix(proto, "udp") {
		if l.udpAddrs == nil {
			l.udpAddrs = map[netip.AddrPort]bool{}
		}
		l.udpAddrs[a] = true
	}
}

func containsAddr(list []netip.AddrPort, a netip.AddrPort) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// assignLabels gives each instance a stable perfdata prefix: i<PORT>; a
// UDP instance on the port of a TCP one (a DNS relay) i<PORT>u; pid<PID>
// without a port, or when two instances share one (reuseport, or
// containers in separate network namespaces).
func assignLabels(insts []*live) {
	count := map[string]int{}
	key := func(l *live) string { return fmt.Sprintf("%d/%v", l.port, l.udp) }
	tcp := map[int]bool{}
	for _, l := range insts {
		count[key(l)]++
		if !l.udp {
			tcp[l.port] = true
		}
	}
	for _, l := range insts {
		switch {
		case l.port == 0 || count[key(l)] > 1:
			l.label = fmt.Sprintf("pid%d", l.PID)
		case l.udp && tcp[l.port]:
			l.label = fmt.Sprintf("i%du", l.port)
		default:
			l.label = fmt.Sprintf("i%d", l.port)
		}
	}
}

func (l *live) short() string {
	if l.port != 0 {
		return fmt.Sprintf(":%d", l.port)
	}
	if len(l.unixes) > 0 {
		return sanitize.Text(l.unixes[0], 40)
	}
	return fmt.Sprintf("pid %d", l.PID)
}

func instanceLine(l *live, now time.Time, verbose int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "instance %s user %s", l.where, sanitize.Text(l.User, 32))
	if !l.Start.IsZero() {
		fmt.Fprintf(&b, " up %s", now.Sub(l.Start).Round(time.Second))
	}
	fmt.Fprintf(&b, " rss %.1f MiB", float64(l.RSS)/(1<<20))
	if l.FDs >= 0 {
		fmt.Fprintf(&b, " fds %d", l.FDs)
	} else {
		b.WriteString(" fds not visible to this user (left out of the perfdata)")
	}
	fmt.Fprintf(&b, " children %d", len(l.Children))
	if len(l.listens) > 0 || len(l.unixes) > 0 {
		var ls []string
		for _, a := range l.listens {
			ls = append(ls, a.String())
		}
		for _, u := range l.unixes {
			ls = append(ls, sanitize.Text(u, 60))
		}
		fmt.Fprintf(&b, " listens %s", strings.Join(ls, ","))
		if l.inferred {
			b.WriteString(" (inferred)")
		}
	}
	if len(l.peers) > 0 {
		var ps []string
		for _, p := range l.peers {
			ps = append(ps, p.String())
		}
		fmt.Fprintf(&b, " peers %s", joinMax(ps, 8))
	}
	if verbose >= 1 {
		fmt.Fprintf(&b, " cmd %s", sanitize.Text(strings.Join(l.Argv, " "), 200))
	}
	return b.String()
}

var _ = os.Getpid

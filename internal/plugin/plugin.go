// Package plugin is the runtime every check_socat binary shares: command
// line parsing (internal/flags), the common flags, one deadline per run, a
// watchdog that ends the run by the deadline whatever the check does, panic
// recovery, rendering and the exit code.
//
// Argument parsers' and plugin libraries' usual defaults are wrong for a
// monitoring plugin in ways this package owns: exit 80 or 2 on usage
// errors and 0 on --help, "-w -5:-1" and a bare "-t 10" rejected, a panic
// reported as CRITICAL (or swallowed as OK by a deferred wrapper). Here
// every one of those is exit 3 with a one-line "UNKNOWN: ..." or the
// result the user asked for.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/flags"
	"github.com/check-socat/check-socat/internal/output"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/version"
)

// Grace is how long after the deadline the watchdog waits for a check to
// return its own (more precise) result before it reports the timeout
// itself. The contract allows the deadline + 1 s.
const Grace = 500 * time.Millisecond

// Common holds the flags of every binary. Embed it in a command struct.
//
// Help texts are not in the struct tags but in functions (commonHelp,
// and Options.Help for each binary), called only when help is printed:
// every start pays for what it builds, and a check needs none of them.
// Version, ManPage and Icinga2 are actions: they print and exit 3.
type Common struct {
	Timeout      Duration    `short:"t" default:"10s" placeholder:"DURATION"`
	TimeoutState state.State `default:"${timeout_state}" placeholder:"STATE"`
	Verbose      int         `short:"v" type:"counter"`
	MaxOutput    int         `default:"8000" placeholder:"BYTES"`
	Output       string      `default:"nagios" enum:"nagios,openmetrics,json" placeholder:"FORMAT"`
	Textfile     string      `placeholder:"PATH"`
	Version      bool        `short:"V"`
	ManPage      bool        `name:"man-page" hidden:""`
	Icinga2      bool        `name:"icinga2-command" hidden:""`
}

// The action flags: each prints something and ends the run with exit 3.
const (
	versionFlag = "version"
	manFlag     = "man-page"
	icingaFlag  = "icinga2-command"
)

// commonHelp is the --help text of the common flags.
func commonHelp() map[string]string {
	return map[string]string{
		"help":            "Print this help and exit 3 (so that a misconfigured service does not turn green).",
		"timeout":         "Whole-run deadline: seconds (10, 2.5) or with a unit (500ms, 1m). The run ends by this plus half a second whatever the peer does, naming the stage that timed out.",
		"timeout-state":   "State to return when the deadline is reached: ok, warning, critical or unknown.",
		"verbose":         "Repeat for more output: -v adds detail per item, -vv configuration and decisions, -vvv debug lines on stderr.",
		"max-output":      "Bound the whole output to BYTES (at least 256; NRPE 4 takes 65536, NRPE 2 1024). What is cut is said; perfdata is kept (if even it does not fit, the check's own items are kept whole and the per-instance ones left out, said). Nagios output only.",
		"output":          "Output format: nagios (plugin output with perfdata), openmetrics (OpenMetrics 1.0 text, for a Prometheus scrape) or json (packaging/json/result.schema.json). The exit code is the same whatever the format.",
		"textfile":        "Also write the metrics to PATH for node_exporter's textfile collector (in the Prometheus text format it reads, ending in # EOF), atomically: a temporary file in its directory, then rename; mode 0644. stdout and the exit code stay those of --output.",
		"version":         "Print '<binary> <version> (<commit>, <go version>)' and exit 3, like --help.",
		"man-page":        "Print the manual page (roff) and exit 3; the packages are built with it.",
		"icinga2-command": "Print the Icinga 2 CheckCommand object and exit 3; packaging/icinga2 is built with it.",
	}
}

// Flags returns the common flags; promoted to the embedding command.
func (c *Common) Flags() *Common { return c }

// Command is a binary's flag struct: it embeds Common, and turns its own
// flags into the check's configuration C. Config's error names the flag
// and says what to do; it is the run's UNKNOWN line.
type Command[C any] interface {
	Flags() *Common
	Config() (C, error)
}

// Binary is one check_socat binary: how the runtime describes it, and
// its check, which every binary calls with the same signature.
type Binary[C any] struct {
	Options
	// Check performs the check. ctx carries the run's deadline; env the
	// verbosity, the stage, stdin and the --timeout-state.
	Check func(ctx context.Context, env checks.Env, cfg C) checks.Result
}

// Run is the binary's main: it never returns.
func (b Binary[C]) Run(cmd Command[C]) {
	os.Exit(b.main(true, cmd, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Main parses args into cmd, builds the configuration, runs the check
// under the deadline, writes the output and returns the exit code (0-3,
// nothing else).
func (b Binary[C]) Main(cmd Command[C], args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return b.main(false, cmd, args, stdin, stdout, stderr)
}

// main is Main; exits says that the process ends right after it.
func (b Binary[C]) main(exits bool, cmd Command[C], args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runMain(b.Options, exits, cmd, cmd.Flags, func() (runner, error) {
		cfg, err := cmd.Config()
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, env checks.Env) checks.Result { return b.Check(ctx, env, cfg) }, nil
	}, args, stdin, stdout, stderr)
}

// runner is a check with its configuration.
type runner func(ctx context.Context, env checks.Env) checks.Result

// Options describe one binary to Main.
type Options struct {
	Name        string // binary name, e.g. check_socat_endpoint
	Description string // one paragraph for --help
	// TimeoutState is the default of --timeout-state for this binary.
	TimeoutState state.State
	// Help returns the --help text of each of the binary's own flags, by
	// long name. TestHelp in each binary checks that none is missing.
	Help func() map[string]string
	// Man returns the manual page's sections beyond the flags (findings,
	// performance data, examples), built only for --man-page.
	Man func() []ManSection
	// SudoCommand: the binary has an Icinga 2 command that runs it through
	// sudo (<command>_sudo), for the README's sudoers recipe.
	SudoCommand bool
}

// ManSection is a section of the manual page: entries (a term and its
// text, .TP) after paragraphs.
type ManSection struct {
	Title      string
	Paragraphs []string
	Entries    [][2]string
}

// runMain is Main without the type parameter: cmd is the struct of flags
// args are parsed into, common its common flags, prepare builds the check from them.
func runMain(opts Options, exits bool, cmd any, common func() *Common, prepare func() (runner, error), args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	start := time.Now()
	verbose := 0
	defer func() {
		if v := recover(); v != nil {
			r := panicResult(&checks.PanicError{Value: v, Stack: debug.Stack()}, verbose, stderr)
			code = write(stdout, r, output.MinSize*4)
		}
	}()

	// First of all: the Go runtime opens its poller (two descriptors) at
	// the first timer or file, and dies with exit 2 and a goroutine dump
	// when it cannot.
	if err := enoughFDs(); err != nil {
		return write(stdout, checks.Unknownf("%s", checks.OutOfFDsText(err, fmt.Sprintf(": %s needs %d free", opts.Name, minFDs+2))), 0)
	}
	if done, err := parse(opts, cmd, args, stdout); err != nil {
		return write(stdout, checks.Unknownf("%s", usageLine(err, opts.Name)), 0)
	} else if done {
		return int(state.Unknown) // --help, --version and the generators
	}
	// From here the flags are parsed: every result, errors too, is in
	// the format --output asks for (a JSON consumer gets JSON).
	cf := common()
	verbose = cf.Verbose
	short := strings.TrimPrefix(opts.Name, "check_socat_")
	unknown := func(format string, args ...any) int {
		return render(stdout, checks.Unknownf(format, args...), short, cf.Output, 0)
	}
	check, err := prepare()
	if err != nil {
		return unknown("%s", usageLine(err, opts.Name))
	}
	if cf.MaxOutput < output.MinSize {
		return unknown("--max-output %d is too small: give at least %d bytes", cf.MaxOutput, output.MinSize)
	}
	if cf.Textfile != "" {
		if err := textfileDirOK(cf.Textfile); err != nil {
			return unknown("%v", err)
		}
	}
	out := func(r checks.Result) int {
		if r.Document != nil && r.State == state.OK {
			stdout.Write(r.Document)
			return 0
		}
		if cf.Textfile != "" {
			if err := writeTextfile(cf.Textfile, r, short); err != nil {
				return unknown("%v", err)
			}
		}
		return render(stdout, r, short, cf.Output, cf.MaxOutput)
	}

	// SIGTERM is what Icinga, NRPE and Nagios send at their own timeout,
	// SIGINT a user's ^C: either ends the run as the deadline would, with
	// the timeout line, the stage, and the perfdata measured so far.
	// signal.Stop is left out when the process exits right after: it
	// waits for the runtime's signal loop to be idle (sleeps, measured at
	// 0.03-0.5 ms), time every short check would pay.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if !exits {
		defer signal.Stop(sigs)
	}

	deadline := start.Add(cf.Timeout.D())
	stopCtx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	ctx, cancel := context.WithDeadline(stopCtx, deadline)
	defer cancel()

	debugOut := io.Discard
	if cf.Verbose >= 3 {
		debugOut = stderr
	}
	env := checks.Env{Verbose: cf.Verbose, Debug: debugOut, Stage: &checks.Stage{}, Stdin: stdin, TimeoutState: cf.TimeoutState}
	if cf.Verbose >= 3 { // formatted only then: a local time reads the zone file
		env.Debugf("%s: deadline %s (in %s)", opts.Name, deadline.Format(time.RFC3339Nano), cf.Timeout.D())
	}

	done := make(chan checks.Result, 1)
	go func() {
		var r checks.Result
		if err := checks.Safely(func() error { r = check(ctx, env); return nil }); err != nil {
			r = panicResult(err, cf.Verbose, stderr)
		}
		done <- r
	}()

	watchdog := time.NewTimer(time.Until(deadline) + Grace)
	defer watchdog.Stop()
	// stopped is the result of a run cut short: the summary, a finding
	// for the machines, and what the check measured so far.
	stopped := func(id, summary string) checks.Result {
		stage := env.Stage.Get()
		return checks.Result{State: cf.TimeoutState, Summary: summary, Metrics: env.Stage.Published(),
			Findings: []checks.Finding{{ID: id, State: cf.TimeoutState, Subject: stage, Text: summary, Quiet: true}}}
	}
	var r checks.Result
	select {
	case r = <-done:
	case <-watchdog.C:
		select {
		case r = <-done: // finished as the watchdog fired: its result stands
			return out(r)
		default:
		}
		r = stopped("timeout", fmt.Sprintf("%s timed out after %s at stage %s (--timeout)",
			opts.Name, cf.Timeout.D(), env.Stage.Get()))
	case sig := <-sigs:
		select {
		case r = <-done: // finished as the signal came: its result stands
			return out(r)
		default:
		}
		stage := env.Stage.Get()
		// The check sees checks.ErrStopped as its context's cause: it
		// keeps no partial state (what it read is read again next time,
		// not counted now and lost), and ends within the grace period.
		stop(checks.ErrStopped)
		select {
		case <-done:
		case <-time.After(Grace):
		}
		r = stopped("stopped", fmt.Sprintf("%s was stopped by %s after %s at stage %s (the caller's timeout is shorter than -t %s? keep -t below it)",
			opts.Name, signalName(sig), time.Since(start).Round(time.Millisecond), stage, cf.Timeout.D()))
	}
	return out(r)
}

// minFDs is how many free file descriptors a run needs at least, beside
// the runtime's own: a socket or a log. What a check needs beyond it
// (a state file and its lock, parallel connections) ends in the check's
// own "out of file descriptors" when it is not there.
const minFDs = 1

// enoughFDs reports whether a run can go on: minFDs free descriptors,
// and two more for the runtime's poller (an epoll and an eventfd) unless
// it is open already. The usual case costs three opens; only when they
// fail is /proc/self/fd searched for the poller (with readlink, which
// opens nothing; a millisecond or two).
func enoughFDs() error {
	err := reserveFDs(minFDs + 2)
	if err == nil || pollerOpen() && reserveFDs(minFDs) == nil {
		return nil
	}
	return err
}

// pollerOpen reports whether the runtime has opened its epoll descriptor.
// The runtime also keeps the cgroup files it reads the CPU quota from
// open; those count as used either way.
func pollerOpen() bool {
	limit := checks.FDLimit()
	if limit < 0 || limit > 1024 {
		limit = 1024
	}
	buf := make([]byte, 64)
	for fd := 3; fd < int(limit); fd++ {
		n, err := syscall.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
		if err == nil && string(buf[:n]) == "anon_inode:[eventpoll]" {
			return true
		}
	}
	return false
}

// reserveFDs checks that n descriptors can be opened, with raw system
// calls (no poller), and closes them again.
func reserveFDs(n int) error {
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	for range n {
		fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			if checks.OutOfFDs(err) {
				return err
			}
			return nil // no /dev/null (a chroot): nothing to learn here
		}
		fds = append(fds, fd)
	}
	return nil
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}

// Vars are the variables the flags' default tags may name.
func (o Options) Vars() map[string]string {
	return map[string]string{"timeout_state": strings.ToLower(o.TimeoutState.String())}
}

// newSet describes the flags of cmd, defaults set.
func newSet(opts Options, cmd any) (*flags.Set, error) {
	set, err := flags.New(cmd, opts.Vars())
	if err != nil {
		return nil, fmt.Errorf("internal error building the command line: %w", err)
	}
	return set, nil
}

// parse sets cmd's flags from args. done says that an action flag
// (--help, --version, --man-page, --icinga2-command) has printed what it
// prints: the run ends there, with exit 3.
func parse(opts Options, cmd any, args []string, stdout io.Writer) (done bool, err error) {
	set, err := newSet(opts, cmd)
	if err != nil {
		return false, err
	}
	action, err := set.Parse(args, versionFlag, manFlag, icingaFlag)
	if err != nil || action == "" {
		return false, err
	}
	if action == versionFlag {
		fmt.Fprintln(stdout, version.String(opts.Name))
		return true, nil
	}
	applyHelp(set, opts.Help)
	switch action {
	case manFlag:
		writeMan(stdout, set, opts)
	case icingaFlag:
		WriteIcinga2(stdout, set, opts)
	default:
		set.WriteHelp(stdout, opts.Name, opts.Description)
	}
	return true, nil
}

// applyHelp fills in the help texts just before help is printed, adding
// each flag's default.
func applyHelp(set *flags.Set, own func() map[string]string) {
	texts := commonHelp()
	if own != nil {
		for k, v := range own() {
			texts[k] = v
		}
	}
	for _, f := range set.Flags {
		text := texts[f.Name]
		if f.Default != "" && !strings.Contains(text, "(default") {
			text += " (default: " + f.Default + ")"
		}
		f.Help = text
	}
}

// MissingHelp lists the flags of cmd that have no help text, and the help
// texts that name no flag; both should be empty.
func MissingHelp(cmd any, own func() map[string]string) (missing, stale []string, err error) {
	set, err := newSet(Options{TimeoutState: state.Critical}, cmd)
	if err != nil {
		return nil, nil, err
	}
	texts := own()
	common := commonHelp()
	for _, f := range set.Flags {
		if texts[f.Name] == "" && common[f.Name] == "" {
			missing = append(missing, f.Name)
		}
	}
	for name := range texts {
		if set.Lookup(name) == nil {
			stale = append(stale, name)
		}
	}
	return missing, stale, nil
}

// usageLine turns a parse or validation error into one line that names the
// flag and says what to do.
func usageLine(err error, name string) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return fmt.Sprintf("%s (see %s --help)", msg, name)
}

func panicResult(err error, verbose int, stderr io.Writer) checks.Result {
	var pe *checks.PanicError
	if errors.As(err, &pe) && verbose >= 3 && len(pe.Stack) > 0 {
		fmt.Fprintf(stderr, "panic: %v\n%s", pe.Value, pe.Stack)
	}
	return checks.Unknownf("%v; this is a bug, please report it (-vvv prints the stack on stderr)", err)
}

func write(w io.Writer, r checks.Result, max int) int {
	io.WriteString(w, output.Render(r, max))
	return r.State.ExitCode()
}

// UnderSudo reports whether the run is root's through sudo for another
// user, this binary being the command sudo ran (the README's sudoers
// recipe): sudo sets SUDO_UID and SUDO_COMMAND itself, the caller cannot
// leave them out. A binary refuses then the flags that would read or
// write a file the caller names with root's rights. An administrator in
// a root shell (sudo -i: SUDO_COMMAND is the shell) is not held back.
func UnderSudo() bool {
	uid := os.Getenv("SUDO_UID")
	if os.Geteuid() != 0 || uid == "" || uid == "0" {
		return false
	}
	cmd, _, _ := strings.Cut(os.Getenv("SUDO_COMMAND"), " ")
	exe, err := os.Executable()
	return cmd == "" || err != nil || filepath.Base(cmd) == filepath.Base(exe)
}

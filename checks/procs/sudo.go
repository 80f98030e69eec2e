package procs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/sudoers"
)

// sudoersPath is where sudo's rules start; tests point it elsewhere.
var sudoersPath = "/etc/sudoers"

// sudoFindings reads the sudoers rules and reports each that lets a user
// other than root run socat: with arguments of their choice (none given,
// or wildcards) CRITICAL, pinned to fixed arguments WARNING. A socat run
// by sudo opens files, runs programs and binds ports as root. notes say
// what could not be read.
func sudoFindings() ([]Finding, []string) {
	if _, err := os.Stat(sudoersPath); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no sudo on this host
	}
	rules, errs := sudoers.ReadFile(sudoersPath)
	var notes []string
	for _, err := range errs {
		if errors.Is(err, fs.ErrPermission) {
			notes = append(notes, fmt.Sprintf("note: %s is not readable by this user: sudo-socat was not checked there (run as root)", sanitize.Text(errPath(err), 80)))
		}
	}
	var out []Finding
	for _, r := range rules {
		users := nonRoot(r.Users)
		if len(users) == 0 {
			continue
		}
		for _, c := range r.Commands {
			if c.Negated || c.All || !mayBeSocat(c.Path) {
				continue
			}
			as := "root"
			if c.RunAs != "" {
				as = sanitize.Text(c.RunAs, 40)
			}
			who := sanitize.Text(strings.Join(users, ", "), 60)
			f := Finding{ID: IDSudoSocat, State: state.Critical, Where: "sudoers " + sanitize.Text(r.Source, 80)}
			if c.Wildcard() {
				args := "any arguments"
				if !c.AnyArgs {
					args = "arguments matching " + sanitize.Text(c.Args, 60)
				}
				f.Reason = fmt.Sprintf("%s may run %s as %s with %s: socat then opens any file, runs any program and binds any port as that user (a root shell: sudo socat - EXEC:sh)", who, sanitize.Text(c.Path, 60), as, args)
				f.Remedy = "remove the rule, or pin socat to the exact arguments the task needs (no wildcards)"
			} else {
				f.State = state.Warning
				f.Reason = fmt.Sprintf("%s may run %s as %s, pinned to %q: review what those addresses give", who, sanitize.Text(c.Path, 60), as, sanitize.Text(c.Args, 80))
				f.Remedy = "keep the arguments fixed, and prefer a unit the user may start (systemctl) over sudo"
			}
			out = append(out, f)
		}
	}
	return out, notes
}

// socatPaths are where socat is installed, for a rule's wildcards and
// directories.
var socatPaths = []string{"/usr/bin/socat", "/usr/local/bin/socat", "/bin/socat", "/usr/sbin/socat", "/usr/bin/socat1"}

// mayBeSocat reports whether a sudoers command path allows socat: socat
// itself, a directory (every file in it, sudoers(5)) holding socat, or a
// wildcard that matches a socat.
func mayBeSocat(p string) bool {
	if socatcmd.IsSocatProgram(p) {
		return true
	}
	if strings.HasSuffix(p, "/") {
		_, err := os.Stat(p + "socat")
		return err == nil
	}
	if strings.ContainsAny(p, "*?[") {
		for _, c := range append(socatPaths, filepath.Join(filepath.Dir(p), "socat")) {
			if ok, _ := filepath.Match(p, c); ok {
				return true
			}
		}
	}
	return false
}

func nonRoot(users []string) []string {
	var out []string
	for _, u := range users {
		if u != "root" && u != "#0" && u != "!root" {
			out = append(out, u)
		}
	}
	return out
}

func errPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return sudoersPath
}

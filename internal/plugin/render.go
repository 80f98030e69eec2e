package plugin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/output"
)

// render writes r in the format --output names and returns the exit
// code, which is the state's whatever the format. An encoding failure
// (a bug) is said as UNKNOWN in Nagios form.
func render(w io.Writer, r checks.Result, check, format string, max int) int {
	var b []byte
	var err error
	switch format {
	case "openmetrics":
		b, err = output.OpenMetrics(r, check, time.Now())
	case "json":
		b, err = output.JSON(r, check)
	default:
		return write(w, r, max)
	}
	if err != nil {
		return write(w, checks.Unknownf("cannot render the result as %s: %v; this is a bug, please report it", format, err), 0)
	}
	w.Write(b)
	return r.State.ExitCode()
}

// textfileDirOK says early (before a long run, whose result would be
// lost) when --textfile cannot be written: its directory must exist and
// be writable by this user, and the path must not be a directory.
func textfileDirOK(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("--textfile %s: its directory cannot be used (%v): give a path in an existing, writable directory (node_exporter's --collector.textfile.directory)", path, unwrap(err))
	case !info.IsDir():
		return fmt.Errorf("--textfile %s: %s is not a directory", path, dir)
	case syscall.Access(dir, 0x2|0x1) != nil: // W_OK|X_OK: create and rename in it
		return fmt.Errorf("--textfile %s: this user may not write in %s: give a directory it may write, or run the check as its owner", path, dir)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("--textfile %s is a directory: give the path of the file to write in it, e.g. %s", path, filepath.Join(path, "socat.prom"))
	}
	return nil
}

// writeTextfile writes r in the Prometheus text format (Textfile) to path
// atomically: a temporary
// file in the same directory, synced, mode 0644, renamed over path. A
// reader (node_exporter) sees the old file or the new one, never half.
func writeTextfile(path string, r checks.Result, check string) error {
	b, err := output.Textfile(r, check, time.Now())
	if err != nil {
		return fmt.Errorf("--textfile %s: cannot render the result: %v; this is a bug, please report it", path, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("cannot write --textfile %s: %v: give a path in a directory this user may write", path, unwrap(err))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing there
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// unwrap drops the paths an *os.PathError or *os.LinkError repeats (the
// temporary file's name means nothing to the user).
func unwrap(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

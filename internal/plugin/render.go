package plugin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// textfileDirOK says early (before a long run) when --textfile cannot be
// written: its directory must exist.
func textfileDirOK(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("--textfile %s: its directory cannot be used (%v): give a path in an existing, writable directory (node_exporter's --collector.textfile.directory)", path, unwrap(err))
	case !info.IsDir():
		return fmt.Errorf("--textfile %s: %s is not a directory", path, dir)
	}
	return nil
}

// writeTextfile writes r as OpenMetrics to path atomically: a temporary
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

// unwrap drops the path an *os.PathError repeats.
func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

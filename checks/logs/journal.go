package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/checkpoint"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatlog"
)

// journalCheckpoint is what is remembered of a journal source.
type journalCheckpoint struct {
	Key    string `json:"key"`
	Cursor string `json:"cursor"`
	Micros int64  `json:"micros"` // realtime of the last record read
	socatlog.Memory
	Counters
}

// journalKey names a journal source: the unit, the file, or both.
func journalKey(cfg *Config) string {
	var parts []string
	if cfg.JournalFile != "" {
		parts = append(parts, "file="+cfg.JournalFile)
	}
	if cfg.JournalUnit != "" {
		parts = append(parts, "unit="+cfg.JournalUnit)
	}
	return "journal:" + strings.Join(parts, ",")
}

func journalName(cfg *Config) string {
	switch {
	case cfg.JournalFile != "" && cfg.JournalUnit != "":
		return fmt.Sprintf("journal file %s, unit %s", cfg.JournalFile, cfg.JournalUnit)
	case cfg.JournalFile != "":
		return "journal file " + cfg.JournalFile
	}
	return "journal unit " + cfg.JournalUnit
}

// journalctl runs journalctl with the source's selection and extra
// arguments, and counts the records it prints.
func journalctl(ctx context.Context, cfg *Config, o *socatlog.Options, tr *socatlog.Tracker, extra ...string) (socatlog.Tally, error) {
	args := []string{"-o", "json", "--no-pager", "-q"}
	if cfg.JournalFile != "" {
		args = append(args, "--file", cfg.JournalFile)
	}
	if cfg.JournalUnit != "" {
		args = append(args, "-u", cfg.JournalUnit)
	}
	args = append(args, extra...)
	// A record is one JSON line: allow long messages, so that the cursor
	// of the last record is always read.
	jo := *o
	jo.MaxLine = 1 << 20
	o = &jo
	cmd := exec.CommandContext(ctx, "journalctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return socatlog.Tally{}, err
	}
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return socatlog.Tally{}, ctx.Err() // the deadline, not journalctl
		}
		if errors.Is(err, exec.ErrNotFound) {
			return socatlog.Tally{}, errUnknown{errors.New("journalctl is not installed: install systemd, or read socat's log file with -f")}
		}
		return socatlog.Tally{}, errUnknown{fmt.Errorf("cannot run journalctl: %v", err)}
	}
	t, _, scanErr := o.ScanReader(ctx, out, true, tr)
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return t, ctx.Err()
	}
	if waitErr != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return t, fmt.Errorf("journalctl %s failed: %s", strings.Join(args, " "), sanitize.Text(msg, 160))
	}
	return t, scanErr
}

// readJournal reads the records of the unit (or journal file) after the
// remembered cursor.
func readJournal(ctx context.Context, cfg *Config, o *socatlog.Options) (*sourceResult, error) {
	res := &sourceResult{name: journalName(cfg)}
	if cfg.JournalFile != "" {
		if _, _, err := openLog(cfg.JournalFile); err != nil {
			return nil, errUnknown{fmt.Errorf("--journal-file: %v", strings.TrimPrefix(err.Error(), "log "))}
		}
	}
	if cfg.NoState {
		t, err := journalctl(ctx, cfg, o, socatlog.NewTracker(cfg.IgnorePeers, socatlog.Memory{}))
		if err != nil {
			return nil, journalError(ctx, err)
		}
		res.tally = t
		res.lastNew = microsTime(t.Micros)
		return res, nil
	}
	key := journalKey(cfg)
	lock, err := checkpoint.Acquire(ctx, cfg.StateDir, checkpoint.Path(cfg.StateDir, key))
	if err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	defer lock.Release()
	var cp journalCheckpoint
	loadErr := lock.Load(&cp)
	fresh := false
	switch {
	case loadErr == nil && cp.Key != key:
		res.warns = append(res.warns, fmt.Sprintf("the state of %s belonged to another source: replaced", res.name))
		fresh = true
	case errors.Is(loadErr, fs.ErrNotExist):
		fresh = true
	case errors.Is(loadErr, checkpoint.ErrCorrupt):
		res.warns = append(res.warns, fmt.Sprintf("the state of %s could not be trusted (%s): replaced, counting as on a first run", res.name, sanitize.Text(loadErr.Error(), 100)))
		fresh = true
	case loadErr != nil:
		return nil, stateError(ctx, cfg, loadErr)
	}
	if fresh {
		// Nothing of a distrusted or foreign state is kept: not its
		// cursor, its listeners, nor its counters.
		cp = journalCheckpoint{}
	}
	tr := socatlog.NewTracker(cfg.IgnorePeers, cp.Memory)
	var t socatlog.Tally
	switch {
	case fresh && cfg.FirstRun == "end":
		// Learn the listeners from the last records and take the cursor
		// of the newest; count nothing.
		learnOpts := *o
		learnOpts.Since = time.Time{}
		learn, err := journalctl(ctx, cfg, &learnOpts, tr, "-n", "5000")
		if err != nil {
			return nil, journalError(ctx, err)
		}
		t.Cursor, t.Micros = learn.Cursor, learn.Micros
		res.first = true
		res.notes = append(res.notes, fmt.Sprintf("first run: position recorded in %s; nothing counted (--first-run start counts what it holds)", res.name))
	case fresh:
		t, err = journalctl(ctx, cfg, o, tr)
	case cp.Cursor == "":
		t, err = journalctl(ctx, cfg, o, tr)
	default:
		t, err = journalctl(ctx, cfg, o, tr, "--after-cursor", cp.Cursor)
		if err != nil && ctx.Err() == nil && cp.Micros > 0 {
			// The cursor is gone (the journal was rotated or vacuumed):
			// read from the time of the last record instead.
			res.notes = append(res.notes, fmt.Sprintf("the cursor of %s is no longer in the journal: read from the time of the last record", res.name))
			// What the failed run read must not be applied twice.
			tr = socatlog.NewTracker(cfg.IgnorePeers, cp.Memory)
			t, err = journalctl(ctx, cfg, o, tr, "--since", "@"+strconv.FormatFloat(float64(cp.Micros)/1e6+1e-6, 'f', 6, 64))
		}
	}
	if err != nil {
		return nil, journalError(ctx, err)
	}
	if !res.first {
		res.tally = t
	}
	// No record of the unit, in this run or any before (a wrong name, or
	// a unit that never logged): said on every run, not only the first.
	if t.Cursor == "" && cp.Cursor == "" {
		res.warns = append(res.warns, fmt.Sprintf("the journal has no record of %s: check the unit name (journalctl -u), and that this user may read the system journal (group systemd-journal or adm)", res.name))
	}
	cp.Key = key
	if t.Cursor != "" {
		cp.Cursor, cp.Micros = t.Cursor, t.Micros
	}
	if checks.Stopped(ctx) {
		return res, nil // a signal stopped the run: the next one reads this again
	}
	cp.Memory = tr.Memory()
	res.totals = cp.Counters.add(&res.tally)
	if err := lock.Save(&cp); err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	res.lastNew = microsTime(cp.Micros)
	return res, nil
}

func microsTime(us int64) time.Time {
	if us <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

func journalError(ctx context.Context, err error) error {
	var u errUnknown
	if errors.As(err, &u) || ctx.Err() != nil {
		return err
	}
	return errUnknown{err}
}

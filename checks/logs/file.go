package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatlog"
	"github.com/check-socat/check-socat/internal/statefile"
)

// fileState is what is remembered of a log file between runs.
type fileState struct {
	Key    string `json:"key"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"` // after the last line counted
	Size   int64  `json:"size"`
	// FP is a hash of the file's first FPLen bytes: a file truncated and
	// written again, or a copy made by copytruncate, is told by it.
	FP        string `json:"fp"`
	FPLen     int    `json:"fp_len"`
	Listeners []int  `json:"listeners,omitempty"`
}

const (
	fpBytes      = 256
	maxListeners = 1024
	// learnBytes is how much of the end of a log the first run reads to
	// learn which PIDs are listeners (nothing is counted).
	learnBytes = 8 << 20
)

// sourceResult is what one source contributed to the run.
type sourceResult struct {
	name    string
	tally   socatlog.Tally
	notes   []string // said in the long output
	warns   []string // make the run WARNING at least
	first   bool     // a first run that only recorded the position
	lastNew time.Time
}

// fingerprint hashes the first n bytes of r (fewer if shorter).
func fingerprint(r io.Reader, n int) (string, int, error) {
	buf := make([]byte, n)
	got, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", 0, err
	}
	sum := sha256.Sum256(buf[:got])
	return hex.EncodeToString(sum[:]), got, nil
}

func devIno(info fs.FileInfo) (uint64, uint64) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}

// openLog opens a log for reading, with errors that name the file and
// what to do.
func openLog(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("log %s does not exist (deleted, or not created yet): check the path and socat's -lf", sanitize.Text(path, 120))
		case errors.Is(err, fs.ErrPermission):
			return nil, nil, fmt.Errorf("log %s is not readable by this user: run as a user that may read it (e.g. in group adm)", sanitize.Text(path, 120))
		}
		return nil, nil, fmt.Errorf("cannot open log %s: %v", sanitize.Text(path, 120), err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot stat log %s: %v", sanitize.Text(path, 120), err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("log %s is not a regular file: give socat's log file (or - for stdin)", sanitize.Text(path, 120))
	}
	return f, info, nil
}

// lastNewline is the offset after the last newline at or before end.
func lastNewline(f io.ReaderAt, end int64) int64 {
	const chunk = 64 << 10
	for pos := end; pos > 0; {
		start := max(0, pos-chunk)
		buf := make([]byte, pos-start)
		if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
			return 0
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			return start + int64(i) + 1
		}
		pos = start
	}
	return 0
}

// readFile reads the new lines of one log file and updates its state.
func readFile(ctx context.Context, cfg *Config, o *socatlog.Options, path string) (*sourceResult, error) {
	res := &sourceResult{name: path}
	f, info, err := openLog(path)
	if err != nil {
		return nil, errUnknown{err}
	}
	defer f.Close()
	size := info.Size()
	res.lastNew = info.ModTime()

	if cfg.NoState {
		t, _, err := o.ScanFile(ctx, f, 0, size, true)
		t.Resolve(map[int]bool{}, o.Show)
		res.tally = t
		return res, err
	}

	lock, err := statefile.Acquire(ctx, cfg.StateDir, statefile.Path(cfg.StateDir, path))
	if err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	defer lock.Release()
	var st fileState
	loadErr := lock.Load(&st)
	fresh := false
	switch {
	case loadErr == nil && st.Key != path:
		res.warns = append(res.warns, fmt.Sprintf("the state of %s belonged to another source (%s): replaced", sanitize.Text(path, 80), sanitize.Text(st.Key, 80)))
		fresh = true
	case errors.Is(loadErr, fs.ErrNotExist):
		fresh = true
	case errors.Is(loadErr, statefile.ErrCorrupt):
		res.warns = append(res.warns, fmt.Sprintf("the state of %s could not be trusted (%s): replaced, counting as on a first run", sanitize.Text(path, 80), sanitize.Text(loadErr.Error(), 100)))
		fresh = true
	case loadErr != nil:
		return nil, stateError(ctx, cfg, loadErr)
	}

	listeners := map[int]bool{}
	for _, p := range st.Listeners {
		listeners[p] = true
	}
	known := *o
	known.Known = listeners
	o = &known
	dev, ino := devIno(info)
	fp, fpLen, err := fingerprint(io.NewSectionReader(f, 0, size), fpBytes)
	if err != nil {
		return nil, errUnknown{fmt.Errorf("cannot read log %s: %v", sanitize.Text(path, 120), err)}
	}
	var total socatlog.Tally
	from := int64(0)
	if fresh {
		st = fileState{Key: path}
		if cfg.FirstRun == "end" {
			// Record the position; learn the listeners from the end of
			// the log so that their exits count from now on.
			from = lastNewline(f, size)
			learn, _, _ := o.ScanFile(ctx, f, max(0, from-learnBytes), from, false)
			learn.Resolve(listeners, 0)
			res.first = true
			res.notes = append(res.notes, fmt.Sprintf("first run: position recorded at %d bytes of %s; nothing counted (--first-run start counts what the log holds)", from, sanitize.Text(path, 80)))
		}
	} else {
		sameFile := st.Dev == dev && st.Ino == ino
		prefixSame := st.FPLen <= fpLen && prefixMatches(f, st.FPLen, st.FP)
		switch {
		case sameFile && size >= st.Offset && prefixSame:
			from = st.Offset
		default:
			// Rotated by rename, copied and truncated, truncated, or
			// replaced: read the rest of the old content first, wherever
			// it is now, then the current file from its start.
			rest, where, rerr := readRotated(ctx, cfg, o, path, &st, sameFile)
			switch {
			case rerr != nil:
				res.warns = append(res.warns, rerr.Error())
			case where != "":
				total.Merge(&rest, o.Show)
				res.notes = append(res.notes, fmt.Sprintf("%s was rotated: read the rest of %s (%d lines)", sanitize.Text(path, 80), sanitize.Text(where, 80), rest.Lines))
			case sameFile:
				res.notes = append(res.notes, fmt.Sprintf("%s was truncated: counted from its start", sanitize.Text(path, 80)))
			default:
				res.warns = append(res.warns, fmt.Sprintf("%s was replaced by another file and the old one is not at %s: what it got since the last run is not counted",
					sanitize.Text(path, 80), sanitize.Text(strings.Join(rotatedCandidates(cfg.Rotated, path), " or "), 120)))
			}
		}
	}

	off := from
	if !res.first {
		t, used, err := o.ScanFile(ctx, f, from, size, false)
		total.Merge(&t, o.Show)
		off = used
		if err != nil && !errors.Is(err, socatlog.ErrCanceled) {
			return nil, errUnknown{fmt.Errorf("cannot read log %s: %v", sanitize.Text(path, 120), err)}
		}
		if errors.Is(err, socatlog.ErrCanceled) {
			res.warns = append(res.warns, fmt.Sprintf("the deadline stopped reading %s at byte %d of %d: the rest is read next time", sanitize.Text(path, 80), used, size))
		}
	}
	total.Resolve(listeners, o.Show)
	res.tally = total

	st.Dev, st.Ino, st.Offset, st.Size, st.FP, st.FPLen = dev, ino, off, size, fp, fpLen
	st.Listeners = listenerList(listeners)
	if err := lock.Save(&st); err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	return res, nil
}

func prefixMatches(f io.ReaderAt, n int, want string) bool {
	got, gotLen, err := fingerprint(io.NewSectionReader(f, 0, int64(n)), n)
	return err == nil && gotLen == n && got == want
}

func listenerList(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Ints(out)
	if len(out) > maxListeners {
		out = out[len(out)-maxListeners:]
	}
	return out
}

// rotatedCandidates are the places a rotated log may be: the --rotated
// pattern with PATH replaced, and the same compressed.
func rotatedCandidates(pattern, path string) []string {
	c := strings.ReplaceAll(pattern, "PATH", path)
	if strings.HasSuffix(c, ".gz") {
		return []string{c}
	}
	return []string{c, c + ".gz"}
}

// readRotated finds the old content of a log and reads it from the
// remembered offset: the file the log was renamed to (same inode), or a
// copy whose first bytes are those remembered (copytruncate, gzip). It
// returns where it read, or "" when there is nothing to read.
func readRotated(ctx context.Context, cfg *Config, o *socatlog.Options, path string, st *fileState, sameFile bool) (socatlog.Tally, string, error) {
	for _, cand := range rotatedCandidates(cfg.Rotated, path) {
		f, err := os.Open(cand)
		if err != nil {
			continue
		}
		info, err := f.Stat()
		if err != nil || !info.Mode().IsRegular() {
			f.Close()
			continue
		}
		var r io.Reader = f
		if strings.HasSuffix(cand, ".gz") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				f.Close()
				continue
			}
			r = gz
		} else {
			dev, ino := devIno(info)
			if !(dev == st.Dev && ino == st.Ino) && !(info.Size() >= int64(st.FPLen) && prefixMatches(f, st.FPLen, st.FP)) {
				f.Close()
				continue
			}
			if dev == st.Dev && ino == st.Ino && sameFile {
				// Still our file (a hard link): not a rotated copy.
				f.Close()
				continue
			}
			t, _, err := o.ScanReader(ctx, io.NewSectionReader(f, st.Offset, max(0, info.Size()-st.Offset)), true)
			f.Close()
			return t, cand, err
		}
		// Compressed: the first bytes must be ours, then skip to the
		// offset.
		fp, n, err := fingerprint(io.LimitReader(r, int64(st.FPLen)), st.FPLen)
		if err != nil || n != st.FPLen || fp != st.FP {
			f.Close()
			continue
		}
		if _, err := io.CopyN(io.Discard, r, st.Offset-int64(n)); err != nil {
			f.Close()
			return socatlog.Tally{}, "", fmt.Errorf("the rotated %s is shorter than the position remembered: %v", sanitize.Text(cand, 80), err)
		}
		t, _, err := o.ScanReader(ctx, r, true)
		f.Close()
		return t, cand, err
	}
	return socatlog.Tally{}, "", nil
}

// readStdin counts everything on standard input, without state.
func readStdin(ctx context.Context, o *socatlog.Options, r io.Reader) (*sourceResult, error) {
	t, _, err := o.ScanReader(ctx, r, true)
	if err != nil && !errors.Is(err, socatlog.ErrCanceled) {
		return nil, errUnknown{fmt.Errorf("cannot read standard input: %v", err)}
	}
	t.Resolve(map[int]bool{}, o.Show)
	return &sourceResult{name: "stdin", tally: t}, nil
}

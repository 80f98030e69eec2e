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
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/checkpoint"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/smallfile"
	"github.com/check-socat/check-socat/internal/socatlog"
)

// fileCheckpoint is what is remembered of a log file between runs.
type fileCheckpoint struct {
	Key    string `json:"key"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"` // after the last line counted
	Size   int64  `json:"size"`
	// FP is a hash of the file's first FPLen bytes: a file truncated and
	// written again, or a copy made by copytruncate, is told by it.
	FP    string `json:"fp"`
	FPLen int    `json:"fp_len"`
	// The listeners and children known at the end of the last run.
	socatlog.Memory
	Counters
	// EmptySeen: the log was empty when this state was saved, and
	// RotatedSeen holds the first bytes (hash and length) of each rotated
	// copy that existed then. A copy not among them holds only lines
	// written after that run.
	EmptySeen   bool       `json:"empty_seen,omitempty"`
	RotatedSeen []prefixFP `json:"rotated_seen,omitempty"`
	// Tail marks the last lines before Offset (see tail.go).
	Tail []lineMark `json:"tail,omitempty"`
}

const (
	fpBytes = 256
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
	// timedOut says where the deadline stopped the reading.
	timedOut string
	// totals are the source's cumulative counts after this run; nil
	// when no state is kept.
	totals map[string]int64
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
	// A FIFO with no writer must not hold the run until the deadline.
	f, info, err := smallfile.OpenRegular(path)
	if err != nil {
		switch {
		case errors.Is(err, smallfile.ErrNotRegular):
			return nil, nil, fmt.Errorf("log %s is not a regular file: give socat's log file (or - for stdin)", sanitize.Text(path, 120))
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("log %s does not exist (deleted, or not created yet): check the path and socat's -lf", sanitize.Text(path, 120))
		case errors.Is(err, fs.ErrPermission):
			return nil, nil, fmt.Errorf("log %s is not readable by this user: run as a user that may read it (e.g. in group adm)", sanitize.Text(path, 120))
		}
		if checks.OutOfFDs(err) {
			return nil, nil, errors.New(checks.OutOfFDsText(err, " opening log "+sanitize.Text(path, 120)))
		}
		return nil, nil, fmt.Errorf("cannot open log %s: %v", sanitize.Text(path, 120), err)
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

// loadFileCheckpoint reads the remembered state of path and says whether it
// is a fresh start; a state that cannot be trusted (corrupt, another
// source's, impossible values) is reported and replaced.
func loadFileCheckpoint(lock *checkpoint.Lock, path string, res *sourceResult) (fileCheckpoint, bool, error) {
	var cp fileCheckpoint
	err := lock.Load(&cp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileCheckpoint{Key: path}, true, nil
	case errors.Is(err, checkpoint.ErrCorrupt):
		res.warns = append(res.warns, fmt.Sprintf("the state of %s could not be trusted (%s): replaced, counting as on a first run", sanitize.Text(path, 80), sanitize.Text(err.Error(), 100)))
		return fileCheckpoint{Key: path}, true, nil
	case err != nil:
		return cp, false, err
	case cp.Key != path:
		res.warns = append(res.warns, fmt.Sprintf("the state of %s belonged to another source (%s): replaced", sanitize.Text(path, 80), sanitize.Text(cp.Key, 80)))
		return fileCheckpoint{Key: path}, true, nil
	case cp.Offset < 0 || cp.Size < 0 || cp.FPLen < 0 || cp.FPLen > fpBytes || len(cp.FP) != 64:
		res.warns = append(res.warns, fmt.Sprintf("the state of %s holds impossible values (offset %d, fingerprint of %d bytes): replaced, counting as on a first run", sanitize.Text(path, 80), cp.Offset, cp.FPLen))
		return fileCheckpoint{Key: path}, true, nil
	}
	if !validTail(cp.Tail, cp.Offset) {
		cp.Tail = nil // a tampered tail must not make a run read far or much
	}
	return cp, false, nil
}

// readFile reads the new lines of one log file and updates its state.
func readFile(ctx context.Context, cfg *Config, o *socatlog.Options, path string) (*sourceResult, error) {
	res := &sourceResult{name: path}
	if cfg.NoState {
		f, info, err := openLog(path)
		if err != nil {
			return nil, errUnknown{err}
		}
		defer f.Close()
		res.lastNew = info.ModTime()
		t, used, err := o.ScanFile(ctx, f, 0, info.Size(), true, socatlog.NewTracker(cfg.IgnorePeers, socatlog.Memory{}))
		if err != nil && !errors.Is(err, socatlog.ErrCanceled) {
			return nil, errUnknown{fmt.Errorf("cannot read log %s: %v", sanitize.Text(path, 120), err)}
		}
		if errors.Is(err, socatlog.ErrCanceled) {
			res.timedOut = fmt.Sprintf("reading %s: %d of %d bytes read", sanitize.Text(path, 80), used, info.Size())
		}
		res.tally = t
		return res, nil
	}

	// The lock first, then the file: its size is then the one this run
	// owns (a run that stat'ed before another saved a larger offset would
	// take the log for truncated).
	lock, err := checkpoint.Acquire(ctx, cfg.StateDir, checkpoint.Path(cfg.StateDir, path))
	if err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	defer lock.Release()
	cp, fresh, err := loadFileCheckpoint(lock, path, res)
	if err != nil {
		return nil, stateError(ctx, cfg, err)
	}
	f, info, err := openLog(path)
	if err != nil {
		return nil, errUnknown{err}
	}
	defer f.Close()
	size := info.Size()
	res.lastNew = info.ModTime()
	tr := socatlog.NewTracker(cfg.IgnorePeers, cp.Memory)
	dev, ino := devIno(info)
	fp, fpLen, err := fingerprint(io.NewSectionReader(f, 0, size), fpBytes)
	if err != nil {
		return nil, errUnknown{fmt.Errorf("cannot read log %s: %v", sanitize.Text(path, 120), err)}
	}
	save := func() error {
		if checks.Stopped(ctx) {
			return nil // a signal stopped the run: the next one reads this again
		}
		cp.Memory = tr.Memory()
		res.totals = cp.Counters.add(&res.tally)
		if err := lock.Save(&cp); err != nil {
			return stateError(ctx, cfg, err)
		}
		return nil
	}

	var total socatlog.Tally
	from := int64(0)
	if fresh {
		cp = fileCheckpoint{Key: path}
		if cfg.FirstRun == "end" {
			// Record the position; learn the listeners from the end of
			// the log (all of it, whatever --since says) so that their
			// exits count from now on.
			from = lastNewline(f, size)
			learnOpts := *o
			learnOpts.Since = time.Time{}
			_, _, _ = learnOpts.ScanFile(ctx, f, max(0, from-learnBytes), from, false, tr)
			res.first = true
			res.notes = append(res.notes, fmt.Sprintf("first run: position recorded at %d bytes of %s; nothing counted (--first-run start counts what the log holds)", from, sanitize.Text(path, 80)))
		}
	} else {
		rotatedRead := false
		if cp.FPLen == 0 && cp.Offset == 0 && cp.EmptySeen {
			// The log was empty at the last run: no first bytes tell its
			// rotated copy. A copy that was not there then (logrotate
			// create and compress, the inode even reused) holds only lines
			// written after it: read it whole. A deadline here counts
			// nothing and saves nothing: the next run reads it again.
			rest, where, rerr := readRotatedNew(ctx, cfg, o, path, cp.RotatedSeen, f, tr)
			switch {
			case errors.Is(rerr, socatlog.ErrCanceled):
				res.timedOut = fmt.Sprintf("reading the rotated %s: it is read again next time", sanitize.Text(where, 80))
				return res, nil
			case rerr != nil:
				res.warns = append(res.warns, rerr.Error())
			case where != "":
				total.Merge(&rest, o.Show)
				res.notes = append(res.notes, fmt.Sprintf("%s was rotated: read %s (%d lines)", sanitize.Text(path, 80), sanitize.Text(where, 80), rest.Lines))
				rotatedRead = true // the current log is all new: from its start
			}
		}
		sameFile := cp.Dev == dev && cp.Ino == ino
		prefixSame := cp.FPLen <= fpLen && prefixMatches(f, cp.FPLen, cp.FP)
		// Where the lines marked at the last run still stand unchanged: a
		// log truncated below its position and written again keeps only
		// the lines before the cut.
		intactAt, tailIntact := intactUpTo(f, cp.Tail)
		rewritten := func() {
			from = intactAt
			res.notes = append(res.notes, fmt.Sprintf("%s was truncated and written again since the last run: counted from byte %d, after its last line that is unchanged", sanitize.Text(path, 80), from))
		}
		facts := logFacts{emptyBefore: cp.FPLen == 0 && cp.Offset == 0 && cp.EmptySeen, rotatedCopy: rotatedRead,
			sameFile: sameFile, prefixSame: prefixSame, size: size, offset: cp.Offset,
			hasTail: len(cp.Tail) > 0, tailIntact: tailIntact, intactAt: intactAt}
		switch decide(facts) {
		case rotatedWhileEmpty:
			from = 0
		case grew:
			from = cp.Offset
		case rewrittenKept:
			rewritten()
		case rewrittenLost:
			from = cp.Offset
			res.warns = append(res.warns, fmt.Sprintf("%s was truncated before its last %d lines and written again since the last run: what was written after the cut and before byte %d is not counted",
				sanitize.Text(path, 80), len(cp.Tail), cp.Offset))
		case search:
			// Rotated by rename, copied and truncated, truncated, or
			// replaced: read the rest of the old content first, wherever
			// it is now, then the current file from its start.
			rest, where, used, rerr := readRotated(ctx, cfg, o, path, &cp, sameFile, !sameFile && prefixSame && size >= cp.Offset, tr)
			if errors.Is(rerr, socatlog.ErrCanceled) {
				// The deadline came while reading the old content: count
				// what was read, and remember the old file and how far,
				// so that the next run reads the rest of it first.
				total.Merge(&rest, o.Show)
				res.tally = total
				res.timedOut = fmt.Sprintf("reading the rotated %s: the rest is read next time", sanitize.Text(where, 80))
				var skip gzipSkipError
				if errors.As(rerr, &skip) {
					res.timedOut = fmt.Sprintf("reading the rotated %s: %v", sanitize.Text(where, 80), skip)
				}
				cp.Offset += used
				cp.Tail = nil // the marks are of the current log, the offset of the old one
				cp.EmptySeen, cp.RotatedSeen = false, nil
				return res, save()
			}
			if rerr != nil {
				res.warns = append(res.warns, rerr.Error())
				break
			}
			switch settle(facts, where, where == path) {
			case copyOfSelf:
				// The same content under a new inode (cp and mv, sed -i):
				// go on from where the last run stopped.
				from = cp.Offset
				res.notes = append(res.notes, fmt.Sprintf("%s was replaced by a file with the same beginning: continued at byte %d", sanitize.Text(path, 80), from))
			case rotated:
				total.Merge(&rest, o.Show)
				res.notes = append(res.notes, fmt.Sprintf("%s was rotated: read the rest of %s (%d lines)", sanitize.Text(path, 80), sanitize.Text(where, 80), rest.Lines))
			case truncatedKept:
				// Truncated within its first bytes, but not below all its
				// marked lines: those are counted already.
				rewritten()
			case truncatedLost:
				res.warns = append(res.warns, fmt.Sprintf("%s was truncated and no copy of it is at %s: what was written between the last run and the truncation is not counted (give --rotated)",
					sanitize.Text(path, 80), sanitize.Text(rotatedWhere(cfg.Rotated, path), 120)))
			default: // replacedLost
				res.warns = append(res.warns, fmt.Sprintf("%s was replaced by another file and the old one is not at %s: what it got since the last run is not counted",
					sanitize.Text(path, 80), sanitize.Text(rotatedWhere(cfg.Rotated, path), 120)))
			}
		}
	}

	off := from
	if !res.first {
		t, used, err := o.ScanFile(ctx, f, from, size, false, tr)
		total.Merge(&t, o.Show)
		off = used
		if err != nil && !errors.Is(err, socatlog.ErrCanceled) {
			return nil, errUnknown{fmt.Errorf("cannot read log %s: %v", sanitize.Text(path, 120), err)}
		}
		if errors.Is(err, socatlog.ErrCanceled) {
			res.timedOut = fmt.Sprintf("reading %s: stopped at byte %d of %d, the rest is read next time", sanitize.Text(path, 80), used, size)
		}
	}
	res.tally = total
	cp.Dev, cp.Ino, cp.Offset, cp.Size, cp.FP, cp.FPLen = dev, ino, off, size, fp, fpLen
	cp.Tail = tailMarks(f, off)
	cp.EmptySeen, cp.RotatedSeen = fpLen == 0, nil
	if fpLen == 0 {
		cp.RotatedSeen = rotatedPrefixes(cfg, path)
	}
	return res, save()
}

func prefixMatches(f io.ReaderAt, n int, want string) bool {
	got, gotLen, err := fingerprint(io.NewSectionReader(f, 0, int64(n)), n)
	return err == nil && gotLen == n && got == want
}

// rotatedCandidates are the places a rotated log may be: the --rotated
// pattern with PATH replaced, and the same compressed; or, for a pattern
// with wildcards (Kubernetes names rotated logs 0.log.20240301-100000),
// the files it matches, the newest first, at most maxRotated.
func rotatedCandidates(pattern, path string) []string {
	if isGlob(pattern) {
		matches, _ := filepath.Glob(strings.ReplaceAll(pattern, "PATH", globEscape(path)))
		type cand struct {
			path string
			mod  time.Time
		}
		var cands []cand
		for _, m := range matches {
			if info, err := os.Lstat(m); err == nil && m != path && info.Mode().IsRegular() {
				cands = append(cands, cand{m, info.ModTime()})
			}
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].mod.After(cands[j].mod) })
		out := make([]string, 0, min(len(cands), maxRotated))
		for i := 0; i < len(cands) && i < maxRotated; i++ {
			out = append(out, cands[i].path)
		}
		return out
	}
	c := strings.ReplaceAll(pattern, "PATH", path)
	if strings.HasSuffix(c, ".gz") {
		return []string{c}
	}
	return []string{c, c + ".gz"}
}

// maxRotated bounds the rotated copies a wildcard --rotated looks at.
const maxRotated = 8

// rotatedWhere says where the rotated copy was looked for.
func rotatedWhere(pattern, path string) string {
	if isGlob(pattern) {
		return strings.ReplaceAll(pattern, "PATH", path)
	}
	return strings.Join(rotatedCandidates(pattern, path), " or ")
}

func isGlob(pattern string) bool { return strings.ContainsAny(pattern, "*?[") }

// globEscape makes path match itself in a glob pattern.
func globEscape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readRotated finds the old content of a log and reads it from the
// remembered offset: the file the log was renamed to (same inode), or a
// copy whose first bytes are those remembered (copytruncate, gzip). When
// no renamed file exists and copyOfSelf is true (the log itself is a new
// inode with the old beginning), it returns path itself as where, and
// reads nothing. It returns where it read ("" when nowhere) and how many
// bytes past the offset it consumed.
func readRotated(ctx context.Context, cfg *Config, o *socatlog.Options, path string, cp *fileCheckpoint, sameFile, copyOfSelf bool, tr *socatlog.Tracker) (socatlog.Tally, string, int64, error) {
	cands := rotatedCandidates(cfg.Rotated, path)
	// A file renamed from our inode is the surest sign: look for it first.
	for _, cand := range cands {
		if info, err := os.Stat(cand); err == nil && info.Mode().IsRegular() && !strings.HasSuffix(cand, ".gz") {
			if dev, ino := devIno(info); dev == cp.Dev && ino == cp.Ino && !sameFile {
				return readPlain(ctx, o, cand, cp.Offset, tr)
			}
		}
	}
	if copyOfSelf {
		return socatlog.Tally{}, path, 0, nil
	}
	for _, cand := range cands {
		f, info, err := smallfile.OpenRegular(cand)
		if err != nil {
			continue
		}
		if !strings.HasSuffix(cand, ".gz") {
			dev, ino := devIno(info)
			match := info.Size() >= int64(cp.FPLen) && prefixMatches(f, cp.FPLen, cp.FP) && !(dev == cp.Dev && ino == cp.Ino && sameFile)
			f.Close()
			if match {
				return readPlain(ctx, o, cand, cp.Offset, tr)
			}
			continue
		}
		t, used, err := readGzip(ctx, o, f, cp, tr)
		f.Close()
		if err == errNotOurs {
			continue
		}
		return t, cand, used, err
	}
	return socatlog.Tally{}, "", 0, nil
}

var errNotOurs = errors.New("not the rotated log")

// prefixFP identifies a rotated copy by its first bytes (of its content,
// decompressed for a .gz): Len bytes hashing to FP.
type prefixFP struct {
	FP  string `json:"fp"`
	Len int    `json:"len"`
}

// openContent opens a rotated copy for reading its content.
func openContent(cand string) (io.Reader, func(), error) {
	f, _, err := smallfile.OpenRegular(cand)
	if errors.Is(err, smallfile.ErrNotRegular) {
		return nil, nil, errNotOurs
	}
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasSuffix(cand, ".gz") {
		return f, func() { f.Close() }, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("the rotated %s is not gzip: %v", sanitize.Text(cand, 80), err)
	}
	return gz, func() { f.Close() }, nil
}

// rotatedPrefixes identifies the rotated copies of path that exist now.
func rotatedPrefixes(cfg *Config, path string) []prefixFP {
	var out []prefixFP
	for _, cand := range rotatedCandidates(cfg.Rotated, path) {
		r, done, err := openContent(cand)
		if err != nil {
			continue
		}
		fp, n, err := fingerprint(r, fpBytes)
		done()
		if err == nil && n > 0 {
			out = append(out, prefixFP{fp, n})
		}
	}
	return out
}

// readRotatedNew reads whole the first rotated copy of path that is none
// of seen (by its first bytes, so a copy compressed since, or one socat
// still writes to, is still recognised) and is no copy of the current log
// (copytruncate between its copy and its truncation): "" when there is
// none.
func readRotatedNew(ctx context.Context, cfg *Config, o *socatlog.Options, path string, seen []prefixFP, current io.ReaderAt, tr *socatlog.Tracker) (socatlog.Tally, string, error) {
	cur := make([]byte, fpBytes)
	curN, _ := current.ReadAt(cur, 0)
	for _, cand := range rotatedCandidates(cfg.Rotated, path) {
		r, done, err := openContent(cand)
		if err != nil {
			continue
		}
		head := make([]byte, fpBytes)
		n, _ := io.ReadFull(r, head)
		m := min(n, curN)
		known := n == 0 || (m > 0 && bytes.Equal(head[:m], cur[:m]))
		for _, s := range seen {
			if s.Len <= n {
				sum := sha256.Sum256(head[:s.Len])
				known = known || hex.EncodeToString(sum[:]) == s.FP
			}
		}
		if known {
			done()
			continue
		}
		t, _, err := o.ScanReader(ctx, io.MultiReader(bytes.NewReader(head[:n]), r), true, tr)
		done()
		return t, cand, err
	}
	return socatlog.Tally{}, "", nil
}

func readPlain(ctx context.Context, o *socatlog.Options, path string, offset int64, tr *socatlog.Tracker) (socatlog.Tally, string, int64, error) {
	f, info, err := smallfile.OpenRegular(path)
	if err != nil {
		return socatlog.Tally{}, path, 0, err
	}
	defer f.Close()
	t, used, err := o.ScanReader(ctx, io.NewSectionReader(f, offset, max(0, info.Size()-offset)), true, tr)
	return t, path, used, err
}

// readGzip reads a compressed rotated log whose first bytes are ours,
// from the remembered offset (in the uncompressed content).
func readGzip(ctx context.Context, o *socatlog.Options, f *os.File, cp *fileCheckpoint, tr *socatlog.Tracker) (socatlog.Tally, int64, error) {
	gz, err := gzip.NewReader(f)
	if err != nil {
		return socatlog.Tally{}, 0, errNotOurs
	}
	fp, n, err := fingerprint(io.LimitReader(gz, int64(cp.FPLen)), cp.FPLen)
	if err != nil || n != cp.FPLen || fp != cp.FP {
		return socatlog.Tally{}, 0, errNotOurs
	}
	// A gzip stream cannot seek: decompress up to the position, watching
	// the deadline (at a few hundred MB/s, a large log takes seconds).
	for skip := cp.Offset - int64(n); skip > 0; {
		if ctx.Err() != nil {
			return socatlog.Tally{}, 0, gzipSkipError{cp.Offset}
		}
		k, err := io.CopyN(io.Discard, gz, min(skip, 1<<20))
		skip -= k
		if err != nil {
			return socatlog.Tally{}, 0, fmt.Errorf("the rotated %s is shorter than the position remembered: %v", sanitize.Text(f.Name(), 80), err)
		}
	}
	return o.ScanReader(ctx, gz, true, tr)
}

// gzipSkipError is a deadline met while decompressing a rotated .gz up to
// the remembered position: the next run starts over, so it says what to do.
type gzipSkipError struct{ offset int64 }

func (e gzipSkipError) Error() string {
	return fmt.Sprintf("decompressing it up to the remembered position (%d MiB) did not fit in the deadline: raise -t, or its rest is never counted", e.offset>>20)
}

func (e gzipSkipError) Unwrap() error { return socatlog.ErrCanceled }

// readStdin counts everything on standard input, without state. A
// stdin that stalls does not hold the run past its deadline.
func readStdin(ctx context.Context, cfg *Config, o *socatlog.Options, r io.Reader) (*sourceResult, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, r)
		pw.CloseWithError(err)
	}()
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(socatlog.ErrCanceled) })
	defer stop()
	res := &sourceResult{name: "stdin"}
	t, _, err := o.ScanReader(ctx, pr, true, socatlog.NewTracker(cfg.IgnorePeers, socatlog.Memory{}))
	switch {
	case errors.Is(err, socatlog.ErrCanceled) || ctx.Err() != nil:
		res.timedOut = fmt.Sprintf("reading standard input: %d lines read", t.Lines)
	case err != nil:
		return nil, errUnknown{fmt.Errorf("cannot read standard input: %v", err)}
	}
	res.tally = t
	return res, nil
}

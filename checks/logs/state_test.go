package logs

import (
	"compress/gzip"
	"context"
	"fmt"
	"github.com/check-socat/check-socat/internal/golden"
	"github.com/check-socat/check-socat/internal/output"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/socatlog"
	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/threshold"
)

func baseConfig(t *testing.T, files ...string) Config {
	warn, crit := DefaultRanges()
	return Config{Files: files, StateDir: filepath.Join(t.TempDir(), "state"), FirstRun: "end", Rotated: "PATH.1",
		Warn: warn, Crit: crit, Show: 5}
}

func run(t *testing.T, cfg Config) checks.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, checks.Env{Stage: &checks.Stage{}, TimeoutState: state.Unknown}, cfg)
	golden.Result(t, r, "logs")
	return r
}

func perf(r checks.Result, label string) float64 {
	for _, m := range r.Perf() {
		if m.Label == label {
			return m.Value
		}
	}
	return -1
}

func dump(r checks.Result) string {
	return fmt.Sprintf("%s: %s | %s\n%s", r.State, r.Summary, perfdata.Join(r.Perf()), strings.Join(output.LongOutput(r), "\n"))
}

// errLines writes n socat E lines (each a failed backend connect).
func errLines(n int, tag string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] E connect(5, AF=2 10.0.0.%d:80, 16): Connection refused %s\n", 1000+i, i%250, tag)
	}
	return b.String()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func expectErrors(t *testing.T, r checks.Result, n float64, what string) {
	t.Helper()
	if got := perf(r, "error"); got != n {
		t.Errorf("%s: error=%v, want %v\n%s", what, got, n, dump(r))
	}
}

func TestRunsAndRotations(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	appendFile(t, log, errLines(5, "old"))
	cfg := baseConfig(t, log)

	// First run: position only (the default --first-run end).
	r := run(t, cfg)
	if r.State != state.OK || !strings.Contains(r.Summary, "first run") {
		t.Fatalf("first run:\n%s", dump(r))
	}
	expectErrors(t, r, 0, "first run")
	appendFile(t, log, errLines(3, "new"))
	r = run(t, cfg)
	expectErrors(t, r, 3, "second run")
	if r.State != state.Warning || !strings.HasPrefix(r.Summary, "3 backend failures, 3 errors in 3 new lines of "+log) {
		t.Errorf("second run:\n%s", dump(r))
	}
	expectErrors(t, run(t, cfg), 0, "nothing new")

	// Rotation by rename, with lines left unread in the old file.
	appendFile(t, log, errLines(2, "before-rotation"))
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, errLines(1, "after-rotation"))
	r = run(t, cfg)
	expectErrors(t, r, 3, "rename")
	if !strings.Contains(dump(r), "was rotated: read the rest of "+log+".1 (2 lines)") {
		t.Errorf("rename not said:\n%s", dump(r))
	}
	expectErrors(t, run(t, cfg), 0, "after rename")

	// copytruncate: the old content copied to .1, the log truncated.
	os.Remove(log + ".1")
	appendFile(t, log, errLines(2, "before-copy"))
	data, _ := os.ReadFile(log)
	if err := os.WriteFile(log+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, errLines(4, "after-copy"))
	expectErrors(t, run(t, cfg), 6, "copytruncate")
	expectErrors(t, run(t, cfg), 0, "after copytruncate")

	// Truncation without a copy: counted from the start, said.
	os.Remove(log + ".1")
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, errLines(1, "after-truncate"))
	r = run(t, cfg)
	expectErrors(t, r, 1, "truncate")
	if !strings.Contains(dump(r), "was truncated") {
		t.Errorf("truncation not said:\n%s", dump(r))
	}

	// Rotated and compressed: the rest is read from PATH.1.gz.
	appendFile(t, log, errLines(2, "before-gzip"))
	gzipFile(t, log, log+".1.gz")
	os.Remove(log)
	appendFile(t, log, errLines(1, "after-gzip"))
	r = run(t, cfg)
	expectErrors(t, r, 3, "gzip")
	if !strings.Contains(dump(r), "read the rest of "+log+".1.gz") {
		t.Errorf("gzip not said:\n%s", dump(r))
	}

	// Replaced by another file, the old one nowhere: WARNING, counted
	// from the start of the new one.
	// (Made before the old one goes, so that it cannot reuse its inode.)
	os.Remove(log + ".1.gz")
	appendFile(t, log+".new", "2026/11/26 06:24:49 socat[1] N accepting connection from AF=2 127.0.0.1:1 on AF=2 127.0.0.1:2\n")
	if err := os.Rename(log+".new", log); err != nil {
		t.Fatal(err)
	}
	r = run(t, cfg)
	if r.State != state.Warning || !strings.Contains(dump(r), "was replaced by another file") || perf(r, "accepted") != 1 {
		t.Errorf("replaced:\n%s", dump(r))
	}

	// Deleted: UNKNOWN naming the path.
	os.Remove(log)
	r = run(t, cfg)
	if r.State != state.Unknown || !strings.Contains(r.Summary, "log "+log+" does not exist") {
		t.Errorf("deleted:\n%s", dump(r))
	}
}

func gzipFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
}

func TestFirstRunStartAndNoState(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, errLines(4, "x"))
	cfg := baseConfig(t, log)
	cfg.FirstRun = "start"
	expectErrors(t, run(t, cfg), 4, "--first-run start")
	expectErrors(t, run(t, cfg), 0, "then nothing new")
	cfg.NoState = true
	expectErrors(t, run(t, cfg), 4, "--no-state")
	expectErrors(t, run(t, cfg), 4, "--no-state again")
}

func TestCorruptState(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, errLines(2, "x"))
	cfg := baseConfig(t, log)
	run(t, cfg)
	files, _ := filepath.Glob(filepath.Join(cfg.StateDir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("state files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, errLines(1, "y"))
	r := run(t, cfg)
	if r.State != state.Warning || !strings.Contains(dump(r), "could not be trusted") {
		t.Errorf("corrupt state:\n%s", dump(r))
	}
	// Replaced: the next run trusts it again.
	appendFile(t, log, errLines(2, "z"))
	r = run(t, cfg)
	expectErrors(t, r, 2, "after the corrupt state")
	if strings.Contains(dump(r), "could not be trusted") {
		t.Errorf("still untrusted:\n%s", dump(r))
	}
}

// A line still being written is not counted until it is complete, and
// then once.
func TestPartialLine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, "")
	cfg := baseConfig(t, log)
	run(t, cfg)
	appendFile(t, log, "2026/11/26 06:24:49 socat[7] E connect(5, AF=2 10.0.0.1:80, 16): Conn")
	expectErrors(t, run(t, cfg), 0, "half a line")
	appendFile(t, log, "ection refused\n")
	expectErrors(t, run(t, cfg), 1, "the line completed")
}

// Hostile content: a 6 MB line without newline, NUL bytes, invalid
// UTF-8, and text with | and = that must not reach the perfdata.
func TestHostileContent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, "")
	cfg := baseConfig(t, log)
	run(t, cfg)
	appendFile(t, log, "2026/11/26 06:24:49 socat[7] E connect(5, AF=2 10.0.0.1:80, 16): bad|'x'=1;2;3 \x00\xff\x1b[31m\n")
	appendFile(t, log, strings.Repeat("A", 6<<20))
	r := run(t, cfg)
	expectErrors(t, r, 1, "hostile")
	out := dump(r)
	if strings.Contains(out, "|'x'") || strings.Contains(out, "\x00") || strings.Contains(out, "\x1b") {
		t.Errorf("unsanitized:\n%q", out)
	}
	if !strings.Contains(out, `bad\x7c'x'=1;2;3 \x00\xff\x1b[31m`) || strings.Contains(out, "cut and skipped") {
		t.Errorf("the line as shown:\n%s", out)
	}
	// The 6 MB line is still being written: not counted until its
	// newline comes, then once.
	appendFile(t, log, "\n")
	r = run(t, cfg)
	if perf(r, "lines") != 1 || !strings.Contains(dump(r), "1 line over 64 KiB cut and skipped") {
		t.Errorf("the long line completed:\n%s", dump(r))
	}
	r = run(t, cfg)
	if perf(r, "lines") != 0 {
		t.Errorf("the cut line was read again:\n%s", dump(r))
	}
}

func TestThresholdsAndPatterns(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	refused := "2026/11/26 06:24:49 socat[1] W refusing connection from AF=2 10.1.2.3:5 due to range option\n"
	appendFile(t, log, strings.Repeat(refused, 3)+errLines(2, "ignored-host"))
	cfg := baseConfig(t, log)
	cfg.NoState = true
	cfg.Warn[socatlog.Refused] = mustRange("5") // refused: WARNING above 5
	cfg.IgnorePatterns = compile(`ignored-host`)
	cfg.CritPatterns = compile(`10\.1\.2\.3`)
	r := run(t, cfg)
	if r.State != state.Critical || !strings.HasPrefix(r.Summary, "3 lines matching --critical-pattern in 5 new lines of ") ||
		perf(r, "refused") != 3 || perf(r, "error") != 0 {
		t.Errorf("patterns:\n%s", dump(r))
	}
	if !strings.Contains(dump(r), "refused=3;5;;0;") {
		t.Errorf("the refused range is not in the perfdata:\n%s", dump(r))
	}
}

func mustRange(s string) threshold.Range { return threshold.MustParse(s) }

func compile(res ...string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, s := range res {
		out = append(out, regexp.MustCompile(s))
	}
	return out
}

func TestMaxAgeAndFinalLine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, errLines(1, "x")+"2026/11/26 06:24:49 socat[9] E connect(5, AF=2 10.0.0.9:80, 16): no newline")
	cfg := baseConfig(t, log)
	cfg.NoState = true
	// --no-state reads everything, the unterminated last line too.
	expectErrors(t, run(t, cfg), 2, "--no-state with a last line without newline")

	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(log, old, old); err != nil {
		t.Fatal(err)
	}
	cfg.MaxAge = time.Hour
	r := run(t, cfg)
	if r.State != state.Critical || !strings.Contains(r.Summary, "no new line in "+log+" for 2h0m0s (--max-age 1h0m0s)") {
		t.Errorf("--max-age:\n%s", dump(r))
	}
	cfg.MaxAge = 3 * time.Hour
	if r := run(t, cfg); strings.Contains(dump(r), "--max-age") {
		t.Errorf("within --max-age:\n%s", dump(r))
	}
}

// The deadline while the rest of a rotated log is read: what was read
// counts, and the next run reads the rest of the old file before the new
// one. Nothing is lost, nothing counted twice.
func TestDeadlineDuringRotation(t *testing.T) {
	// A deadline before the run, and deadlines that fall somewhere in the
	// rotated file (several MiB: many reads): whatever the first run
	// counted, the second counts the rest, nothing twice. How much each
	// run counts depends on timing ("50,010" or "10" masks differently),
	// so the outputs are not golden; the sum is the test.
	golden.Skip(t)
	for _, d := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond} {
		log := filepath.Join(t.TempDir(), "socat.log")
		appendFile(t, log, "")
		cfg := baseConfig(t, log)
		run(t, cfg)
		appendFile(t, log, errLines(50000, "old"))
		if err := os.Rename(log, log+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, log, errLines(10, "new"))
		ctx, cancel := context.WithTimeout(context.Background(), d)
		r := Run(ctx, checks.Env{Stage: &checks.Stage{}, TimeoutState: state.Unknown}, cfg)
		cancel()
		if d == 0 && (r.State != state.Unknown || !strings.Contains(r.Summary, "timed out at stage reading the rotated "+log+".1")) {
			t.Fatalf("a run that meets its deadline:\n%s", dump(r))
		}
		first := max(0, perf(r, "error"))
		r = run(t, cfg)
		if got := first + perf(r, "error"); got != 50010 {
			t.Errorf("deadline %v: %v + %v counted, want 50010\n%s", d, first, perf(r, "error"), dump(r))
		}
	}
}

// A source that fails does not lose what the others counted: their
// positions are saved as they are read, so their lines are reported in
// the same run, with the failure.
func TestFailingSourceKeepsTheOthersCounts(t *testing.T) {
	// b comes back under the old inode number or a new one, as the file
	// system allocates it: "truncated" or "replaced" (both right).
	golden.Skip(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, a, errLines(1, "a"))
	appendFile(t, b, errLines(1, "b"))
	cfg := baseConfig(t, a, b)
	run(t, cfg)
	appendFile(t, a, errLines(2, "a2"))
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	r := run(t, cfg)
	expectErrors(t, r, 2, "a grew, b is gone")
	if r.State == state.OK || !strings.Contains(strings.Join(output.LongOutput(r), "\n"), "UNKNOWN: log "+b+" does not exist") {
		t.Errorf("the missing source is not said:\n%s", dump(r))
	}
	appendFile(t, b, errLines(1, "b2"))
	expectErrors(t, run(t, cfg), 1, "b is back")
}

func TestImpossibleState(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, errLines(2, "x"))
	cfg := baseConfig(t, log)
	run(t, cfg)
	files, _ := filepath.Glob(filepath.Join(cfg.StateDir, "*.json"))
	data, _ := os.ReadFile(files[0])
	appendFile(t, log+".1.gz", "not gzip")
	for _, tamper := range []struct{ from, to string }{
		{`"fp_len":`, `"fp_len":-5,"x":`},
		{`"fp_len":`, `"fp_len":1099511627776,"x":`},
		{`"offset":`, `"offset":-50,"x":`},
	} {
		bad := strings.Replace(string(data), tamper.from, tamper.to, 1)
		if err := os.WriteFile(files[0], []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, cfg)
		if r.State != state.Warning || !strings.Contains(dump(r), "replaced, counting as on a first run") {
			t.Errorf("%s:\n%s", tamper.to, dump(r))
		}
	}
}

// A log replaced by a copy of itself with more lines (cp, append, mv;
// sed -i): only the new lines count.
func TestReplacedByACopy(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	appendFile(t, log, errLines(10, "x"))
	cfg := baseConfig(t, log)
	cfg.FirstRun = "start"
	expectErrors(t, run(t, cfg), 10, "first run")
	data, _ := os.ReadFile(log)
	appendFile(t, log+".tmp", string(data)+errLines(1, "added"))
	if err := os.Rename(log+".tmp", log); err != nil {
		t.Fatal(err)
	}
	r := run(t, cfg)
	expectErrors(t, r, 1, "a copy with one more line")
	if !strings.Contains(dump(r), "replaced by a file with the same beginning: continued at byte") {
		t.Errorf("not said:\n%s", dump(r))
	}
}

// A rotated .gz is decompressed up to the remembered position: a
// deadline during that says what to do (raise -t), ends the run in time,
// and a run with time enough counts the rest.
func TestDeadlineSkippingAGzip(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	appendFile(t, log, errLines(300000, "old")) // about 30 MB
	cfg := baseConfig(t, log)
	cfg.Rotated = "PATH.1"
	run(t, cfg)
	appendFile(t, log, errLines(3, "new"))
	gzipFile(t, log, log+".1.gz")
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	start := time.Now()
	r := Run(ctx, checks.Env{Stage: &checks.Stage{}, TimeoutState: state.Unknown}, cfg)
	cancel()
	if took := time.Since(start); took > time.Second {
		t.Errorf("the run took %v past a 5 ms deadline", took)
	}
	if !strings.Contains(r.Summary+strings.Join(output.LongOutput(r), "\n"), "did not fit in the deadline: raise -t") {
		t.Errorf("a deadline while decompressing:\n%s", dump(r))
	}
	expectErrors(t, run(t, cfg), 3, "with time enough")
}

// A log empty at the last run has no first bytes to recognise its rotated
// copy by: a rotated file changed since that run is read whole (logrotate
// create + compress, the new log even on the old inode); an older one is
// not.
func TestRotatedWhileEmpty(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		log := filepath.Join(dir, "socat.log")
		appendFile(t, log, "")
		old := log + ".1"
		appendFile(t, old, errLines(5, "long ago")) // a rotation before the first run
		past := time.Now().Add(-time.Hour)
		if err := os.Chtimes(old, past, past); err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(t, log)
		run(t, cfg)
		expectErrors(t, run(t, cfg), 0, "quiet, an old rotated file")
		appendFile(t, log, errLines(1, "new"))
		if err := os.Rename(log, old); err != nil {
			t.Fatal(err)
		}
		if compress {
			gzipFile(t, old, old+".gz")
			if err := os.Remove(old); err != nil {
				t.Fatal(err)
			}
		}
		appendFile(t, log, "")
		expectErrors(t, run(t, cfg), 1, fmt.Sprintf("rotated while empty (compressed %v)", compress))
		expectErrors(t, run(t, cfg), 0, "the run after")
	}
}

// A log truncated to a non-zero size and written past the remembered
// position again: counted from its last line that is still intact,
// nothing lost, nothing twice.
func TestTruncatedAndGrownPast(t *testing.T) {
	// Cut after 4 lines (past the 256 fingerprinted bytes) and after 1
	// (within them), a part of the next line kept.
	for _, keep := range []int{4, 1} {
		log := filepath.Join(t.TempDir(), "socat.log")
		appendFile(t, log, errLines(6, "old"))
		cfg := baseConfig(t, log)
		cfg.FirstRun = "start"
		expectErrors(t, run(t, cfg), 6, "first run")
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		cut := 0
		for range keep {
			cut += strings.Index(string(data[cut:]), "\n") + 1
		}
		cut += 10
		if err := os.Truncate(log, int64(cut)); err != nil {
			t.Fatal(err)
		}
		appendFile(t, log, "\n"+errLines(8, "new")) // past the old size
		r := run(t, cfg)
		expectErrors(t, r, 8, fmt.Sprintf("kept %d lines and a part (the cut line is no error any more)", keep))
		if !strings.Contains(strings.Join(output.LongOutput(r), "\n"), "was truncated and written again since the last run") {
			t.Errorf("kept %d: the rewrite is not said:\n%s", keep, dump(r))
		}
		expectErrors(t, run(t, cfg), 0, "the run after")
	}
}

// A rotated copy already counted is recognised by its first bytes, not
// its time: compressed after the run that read it, touched, or still
// written to by a socat that never reopened its log, it is not counted
// again.
func TestRotatedCopyCountedOnce(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	appendFile(t, log, "")
	cfg := baseConfig(t, log)
	cfg.FirstRun = "start"
	run(t, cfg)
	appendFile(t, log, errLines(3, "before"))
	expectErrors(t, run(t, cfg), 3, "three lines")
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "")
	expectErrors(t, run(t, cfg), 0, "renamed, nothing new")
	appendFile(t, log+".1", errLines(1, "socat still writes to the renamed file"))
	now := time.Now().Add(time.Minute)
	if err := os.Chtimes(log+".1", now, now); err != nil {
		t.Fatal(err)
	}
	expectErrors(t, run(t, cfg), 0, "the renamed file grew and was touched")
	gzipFile(t, log+".1", log+".1.gz")
	if err := os.Remove(log + ".1"); err != nil {
		t.Fatal(err)
	}
	expectErrors(t, run(t, cfg), 0, "compressed after the run that read it")
}

// copytruncate copies the log, then truncates it: a run between the two,
// the log empty at the run before, counts the lines once.
func TestCopytruncateInProgressAfterEmpty(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	appendFile(t, log, "")
	cfg := baseConfig(t, log)
	run(t, cfg)
	appendFile(t, log, errLines(3, "x"))
	data, _ := os.ReadFile(log)
	if err := os.WriteFile(log+".1", data, 0o644); err != nil { // copied, not yet truncated
		t.Fatal(err)
	}
	expectErrors(t, run(t, cfg), 3, "between the copy and the truncation")
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	expectErrors(t, run(t, cfg), 0, "after the truncation")
}

// The state file is bounded whatever the log holds: a hundred thousand
// listeners that never said they ended (SIGKILL), as many children, and
// connections from ignored peers that never reached their fork.
func TestStateFileBounded(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "socat.log")
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] N listening on AF=2 0.0.0.0:80\n", 1000000+i)
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] N accepting connection from AF=2 127.0.0.1:%d on AF=2 127.0.0.1:80\n", 1000000+i, 1024+i%60000)
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] N forked off child process %d\n", 1000000+i, 3000000+i)
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] N accepting connection from AF=2 127.0.0.1:%d on AF=2 127.0.0.1:80\n", 1000000+i, 1024+i%60000)
	}
	appendFile(t, log, b.String())
	cfg := baseConfig(t, log)
	cfg.FirstRun = "start"
	cfg.IgnorePeers = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	r := run(t, cfg)
	if r.State != state.OK || perf(r, "ignored") != 300000 {
		t.Fatalf("first run:\n%s", dump(r))
	}
	files, _ := filepath.Glob(filepath.Join(cfg.StateDir, "*"))
	var total int64
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			total += info.Size()
		}
	}
	t.Logf("state: %d bytes", total)
	if total == 0 || total > 256<<10 {
		t.Errorf("state: %d bytes in %d files, want at most 256 KiB", total, len(files))
	}
	// The most recent listener and child are still known: the listener's
	// exit counts, and the child of an ignored peer stays ignored.
	appendFile(t, log, "2026/11/26 06:25:00 socat[3099999] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher\n"+
		"2026/11/26 06:25:00 socat[1099999] W exiting on signal 15\n")
	r = run(t, cfg)
	if r.State != state.Critical || perf(r, "exit") != 1 || perf(r, "tls_failure") != 0 || perf(r, "ignored") != 1 {
		t.Errorf("next run:\n%s", dump(r))
	}
}

// counter is the value of the cumulative lines_total{category} of the
// run's only source, and whether there is one.
func counter(r checks.Result, category string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == "lines_total" && len(m.Labels) == 2 && m.Labels[1].Value == category {
			return m.Value, true
		}
	}
	return 0, false
}

// The counters are cumulative across runs and count each line once; a
// run a signal stopped keeps no state, so the next run counts (and
// reports) what it had read; without a state there are no counters.
func TestCountersAcrossRuns(t *testing.T) {
	log := filepath.Join(t.TempDir(), "socat.log")
	failure := "2026/11/26 06:24:49 socat[7] E connect(5, AF=2 10.0.0.1:80, 16): Connection refused\n"
	appendFile(t, log, strings.Repeat(failure, 5))
	cfg := baseConfig(t, log)
	cfg.FirstRun = "start"

	ctx, stop := context.WithCancelCause(context.Background())
	stop(checks.ErrStopped)
	Run(ctx, checks.Env{Stage: &checks.Stage{}, TimeoutState: state.Unknown}, cfg)
	if saved, _ := filepath.Glob(filepath.Join(cfg.StateDir, "*.json")); len(saved) > 0 {
		t.Fatalf("a run a signal stopped saved its state: %v", saved)
	}

	r := run(t, cfg)
	if perf(r, "backend_failure") != 5 {
		t.Fatalf("after a stopped run, the next one counted %v backend failures, want 5:\n%s", perf(r, "backend_failure"), dump(r))
	}
	if v, ok := counter(r, "backend_failure"); !ok || v != 5 {
		t.Errorf("counter after run 1: %v (%v), want 5", v, ok)
	}
	appendFile(t, log, strings.Repeat(failure, 2))
	r = run(t, cfg)
	if v, _ := counter(r, "backend_failure"); perf(r, "backend_failure") != 2 || v != 7 {
		t.Errorf("run 2: %v new, counter %v; want 2 and 7", perf(r, "backend_failure"), v)
	}
	r = run(t, cfg)
	if v, _ := counter(r, "backend_failure"); perf(r, "backend_failure") != 0 || v != 7 {
		t.Errorf("run 3, nothing new: %v new, counter %v; want 0 and 7", perf(r, "backend_failure"), v)
	}
	cfg.NoState = true
	if _, ok := counter(run(t, cfg), "backend_failure"); ok {
		t.Errorf("--no-state has counters: they would reset every run")
	}
}

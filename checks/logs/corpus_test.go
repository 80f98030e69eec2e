package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/internal/socatlog"
)

// corpusCase is one excerpt of a socat log that somebody posted in
// public (testdata/realworld/NAME.log), with where it came from and what
// an operator reads in it, judged by hand by the README's rules before
// the check ran on it (NAME.json).
type corpusCase struct {
	Source     string           `json:"source"`
	Where      string           `json:"where"`
	Version    string           `json:"socat_version"`
	Platform   string           `json:"platform"`
	Format     string           `json:"format"`
	Edits      string           `json:"edits"`
	SocatLines *int64           `json:"socat_lines"`
	Expect     map[string]any   `json:"expect"`
	Why        string           `json:"why"`
	Doubt      string           `json:"doubt"`
	Revised    []corpusRevision `json:"revised"`
}

// corpusRevision records an expectation changed after the first
// judgement, and why (a rule of the README that the first judge missed,
// or a rule that changed).
type corpusRevision struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
	Why   string `json:"why"`
}

// TestRealWorldCorpus runs the check (--no-state, default thresholds) on
// every excerpt of the corpus and scores it: a file is right when its
// state, every category's count and the number of lines recognised as
// socat's are what its judge expected. The score is printed; every file
// must be right.
func TestRealWorldCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "realworld", "*.json"))
	if err != nil || len(files) < 40 {
		t.Fatalf("the corpus has %d cases (%v), want at least 40", len(files), err)
	}
	sort.Strings(files)
	right := 0
	var wrong []string
	for _, jf := range files {
		name := strings.TrimSuffix(filepath.Base(jf), ".json")
		var c corpusCase
		data, err := os.ReadFile(jf)
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil || c.Source == "" || c.Why == "" || c.Expect["state"] == nil || c.SocatLines == nil {
			t.Errorf("%s: a case needs source, why, socat_lines and expect.state (%v)", jf, err)
			continue
		}
		log := strings.TrimSuffix(jf, ".json") + ".log"
		got, diff := judgeCorpusCase(t, log, &c)
		if len(diff) == 0 {
			right++
			continue
		}
		wrong = append(wrong, fmt.Sprintf("%s (%s): %s\n    got: %s", name, c.Format, strings.Join(diff, ", "), got))
	}
	t.Logf("real-world corpus: %d of %d files right (%.0f%%)", right, len(files), 100*float64(right)/float64(len(files)))
	for _, w := range wrong {
		t.Errorf("%s", w)
	}
}

// judgeCorpusCase runs the check on one excerpt and says how it differs
// from what was expected.
func judgeCorpusCase(t *testing.T, log string, c *corpusCase) (string, []string) {
	cfg := baseConfig(t, log)
	cfg.NoState = true
	r := run(t, cfg)
	var diff []string
	if want := fmt.Sprint(c.Expect["state"]); r.State.String() != want {
		diff = append(diff, fmt.Sprintf("state %s, want %s", r.State, want))
	}
	for _, cat := range socatlog.Categories() {
		want := 0.0
		if v, ok := c.Expect[cat]; ok {
			f, isNum := v.(float64)
			if !isNum {
				diff = append(diff, fmt.Sprintf("%s: %v is not a number", cat, v))
				continue
			}
			want = f
		}
		if got := perf(r, cat); got != want {
			diff = append(diff, fmt.Sprintf("%s %v, want %v", cat, got, want))
		}
	}
	for k := range c.Expect {
		if _, ok := socatlog.ParseCategory(k); !ok && k != "state" {
			diff = append(diff, fmt.Sprintf("unknown category %q in expect", k))
		}
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := &socatlog.Options{}
	tally, _, err := o.ScanReader(context.Background(), f, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Socat != *c.SocatLines {
		diff = append(diff, fmt.Sprintf("%d lines recognised as socat's, want %d", tally.Socat, *c.SocatLines))
	}
	return fmt.Sprintf("%s: %s", r.State, r.Summary), diff
}

// Package golden keeps the rendered output of the checks' end-to-end
// scenarios as files in testdata/golden, so that a change of the result
// model or of a renderer that alters one byte of what Nagios receives is
// seen. Numbers (times, ports, PIDs, counts that depend on the machine)
// and temporary paths are masked; everything else must match exactly.
//
// GOLDEN_UPDATE=1 go test ./... rewrites the files; review the diff.
package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	calls = map[string]int{}
)

var (
	hex     = regexp.MustCompile(`\b0x[0-9a-fA-F]+`)
	number  = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
	tmpPath = regexp.MustCompile(`/tmp/[^\s:,;)'"]*`)
	plural  = regexp.MustCompile(`(# (?:[a-z_]+ )?[a-z_]+?)s\b`)
	rate    = regexp.MustCompile(`# [KMGT]?i?B/s\b`)
)

// Mask replaces what changes from run to run: every number (decimal or
// 0x hex) becomes "#", the plural after it is dropped ("# lines" and "1
// line" are the same text with other numbers), and every path under
// /tmp, whose length varies and decides where a long one is cut, becomes
// "/tmp/X"; a rate's unit goes with its number (a loaded machine says
// KiB/s where a quiet one says MiB/s).
func Mask(s string) string {
	s = tmpPath.ReplaceAllString(s, "/tmp/X")
	s = hex.ReplaceAllString(s, "#")
	s = number.ReplaceAllString(s, "#")
	s = rate.ReplaceAllString(s, "# B/s")
	return plural.ReplaceAllString(s, "$1")
}

// Skip leaves the current test out: its output depends on timing (how
// many of N connections a full backlog refuses, which probes of a scan
// fail first), which masking cannot hide.
func Skip(t testing.TB) {
	mu.Lock()
	calls[t.Name()] = -1 << 30
	mu.Unlock()
}

// Check compares out (masked) with the test's next golden file: the n-th
// call in a test is testdata/golden/<test>.<n>.txt.
func Check(t testing.TB, out string) {
	t.Helper()
	mu.Lock()
	calls[t.Name()]++
	n := calls[t.Name()]
	mu.Unlock()
	if n < 0 {
		return
	}
	name := strings.NewReplacer("/", "__", " ", "_").Replace(t.Name())
	path := filepath.Join("testdata", "golden", fmt.Sprintf("%s.%d.txt", name, n))
	Compare(t, path, Mask(out))
}

// Compare compares got with the file at path, or writes it under
// GOLDEN_UPDATE=1.
func Compare(t testing.TB, path, got string) {
	t.Helper()
	if os.Getenv("GOLDEN_UPDATE") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("golden %s: %v (GOLDEN_UPDATE=1 writes it)", path, err)
		return
	}
	if string(want) != got {
		t.Errorf("the output differs from %s (masked):\n--- want\n%s--- got\n%s", path, want, got)
	}
}

// Package readme keeps README.md's examples true: the test runs
// scripts/demo.sh (the lab `make demo` starts) with freshly built
// binaries and compares each command's output with the README's, numbers
// and temporary paths masked.
package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/internal/golden"
	"github.com/check-socat/check-socat/internal/testlab"
)

// example is one "$ command" and the output under it.
type example struct{ cmd, out string }

var labDir = regexp.MustCompile(`/tmp/check_socat_demo\.[A-Za-z0-9]+`)

// examples splits a console transcript into examples; lines before the
// first "$ " are dropped.
func examples(s string) []example {
	var list []example
	for _, line := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(line, "$ "):
			list = append(list, example{cmd: strings.TrimSpace(line)})
		case len(list) > 0:
			list[len(list)-1].out += line
		}
	}
	for i := range list {
		list[i].out = strings.TrimRight(list[i].out, "\n") + "\n"
	}
	return list
}

// readmeExamples are the "$ bin/check_socat_..." examples of the README's
// console blocks.
// An example's command may repeat (the same audit of two relays, a log
// read twice): each masked command maps to its outputs in order.
func readmeExamples(t *testing.T) map[string][]string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	blocks := regexp.MustCompile("(?s)```console\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	for _, m := range blocks {
		for _, e := range examples(m[1]) {
			if strings.HasPrefix(e.cmd, "$ bin/check_socat_") {
				k := golden.Mask(e.cmd)
				found[k] = append(found[k], e.out)
			}
		}
	}
	return found
}

func TestExamplesAreTheDemosOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo lab")
	}
	testlab.Need(t, "socat", "openssl")
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "../../cmd/...")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	demo := exec.Command("scripts/demo.sh")
	demo.Dir = "../.."
	demo.Env = append(os.Environ(), "BIN="+bin)
	out, err := demo.Output()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	transcript := strings.ReplaceAll(string(out), bin+"/", "bin/")
	transcript = labDir.ReplaceAllString(transcript, "/tmp/lab")

	readme := readmeExamples(t)
	ran := examples(transcript)
	if len(ran) < 20 {
		t.Fatalf("the demo ran %d examples; expected more:\n%s", len(ran), transcript)
	}
	for _, e := range ran {
		// The demo prints "(exit N)" after each; the README does not.
		got := golden.Mask(regexp.MustCompile(`\(exit \d\)\n$`).ReplaceAllString(e.out, ""))
		got = strings.TrimRight(got, "\n") + "\n"
		k := golden.Mask(e.cmd)
		if len(readme[k]) == 0 {
			t.Errorf("the README does not show the demo's example %s", e.cmd)
			continue
		}
		want := readme[k][0]
		readme[k] = readme[k][1:]
		if strings.Contains(e.cmd, "--ignore-peer") {
			// socat's forked child sometimes writes its SSL_accept error
			// before its parent writes "forked off child process": the
			// log itself differs from run to run (noted on issue 12).
			continue
		}
		if !elided(golden.Mask(want), got) {
			t.Errorf("README example %s differs from the demo (masked):\n--- README\n%s--- demo\n%s", e.cmd, golden.Mask(want), got)
		}
	}
}

// elided reports whether got is want, where the README shortened a long
// output by hand: a line "..." stands for any lines, and a line ending in
// "..." for any line that starts with the rest.
func elided(want, got string) bool {
	w := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	g := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		switch {
		case i == len(w):
			return j == len(g)
		case w[i] == "...":
			for k := j; k <= len(g); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		case j == len(g):
			return false
		case strings.HasSuffix(w[i], "..."):
			return strings.HasPrefix(g[j], strings.TrimSuffix(w[i], "...")) && match(i+1, j+1)
		}
		return w[i] == g[j] && match(i+1, j+1)
	}
	return match(0, 0)
}

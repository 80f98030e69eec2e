package socatcmd

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.txt with the current results (review the diff!)")

type corpusEntry struct {
	cmd, want, err string
}

func readCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	f, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "cmd: "):
			out = append(out, corpusEntry{cmd: line[5:]})
		case strings.HasPrefix(line, "want: ") && len(out) > 0:
			out[len(out)-1].want = line[6:]
		case strings.HasPrefix(line, "error: ") && len(out) > 0:
			out[len(out)-1].err = line[7:]
		}
	}
	return out
}

func describe(line string) (want, errText string) {
	c, err := ParseCommandLine(line)
	if err != nil {
		return "", err.Error()
	}
	var b strings.Builder
	b.WriteString(c.String())
	for _, s := range c.Singles() {
		f := s.Facts(c.Globals.PreferFamily)
		fmt.Fprintf(&b, " | %s %s", s.Type, f.Role)
		if f.Proto != "" {
			fmt.Fprintf(&b, " %s", f.Proto)
		}
		if f.Family != 0 {
			fmt.Fprintf(&b, "%d", f.Family)
		}
		if f.TLS {
			b.WriteString(" tls")
		}
		if f.Host != "" || f.Port != "" {
			fmt.Fprintf(&b, " host=%q port=%q", f.Host, f.Port)
		}
		if f.Path != "" {
			fmt.Fprintf(&b, " path=%q", f.Path)
		}
		if f.Command != "" {
			fmt.Fprintf(&b, " command=%q", f.Command)
		}
		if len(s.Ignored) > 0 {
			fmt.Fprintf(&b, " ignored=%q", s.Ignored)
		}
		if len(s.Warnings) > 0 {
			fmt.Fprintf(&b, " warnings=%q", s.Warnings)
		}
	}
	return b.String(), ""
}

// TestCorpus parses every real-world command line of testdata/corpus.txt
// and compares the model (canonical address, role, protocol, family, TLS,
// host, port, path, program) with the reviewed expectation.
func TestCorpus(t *testing.T) {
	entries := readCorpus(t)
	if len(entries) < 60 {
		t.Fatalf("the corpus has %d command lines, want at least 60", len(entries))
	}
	if *update {
		var b strings.Builder
		data, _ := os.ReadFile("testdata/corpus.txt")
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			if strings.HasPrefix(line, "want: ") || strings.HasPrefix(line, "error: ") {
				continue
			}
			b.WriteString(line + "\n")
			if strings.HasPrefix(line, "cmd: ") {
				want, errText := describe(line[5:])
				if errText != "" {
					b.WriteString("error: " + errText + "\n")
				} else {
					b.WriteString("want: " + want + "\n")
				}
			}
		}
		if err := os.WriteFile("testdata/corpus.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, e := range entries {
		want, errText := describe(e.cmd)
		if want != e.want || errText != e.err {
			t.Errorf("%s\n got: %s%s\nwant: %s%s", e.cmd, want, errText, e.want, e.err)
		}
	}
}

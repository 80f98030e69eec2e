package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/check-socat/check-socat/internal/oracles"
)

// testsslRuns is how many times each program runs for the testssl.sh row:
// one testssl.sh -p -E of the legacy endpoint takes 60 to 200 s on the
// two-CPU test machines, so three alternating runs each (the median is
// the middle one), and the peak RSS is read from those same runs (under
// GNU time) instead of extra ones.
const testsslRuns = 3

// benchTestssl compares a full audit of the legacy endpoint with
// testssl.sh doing the same enumeration and nothing else, as make oracles
// and TestTestsslOracle run it (internal/oracles.TestsslArgs): -p
// (protocols) and -E (every suite of its mapping, per protocol), no
// banner, no DNS, JSON into a temporary file, HEADER_MAXSLEEP=1 (its
// service detection otherwise waits 5 s for an HTTP answer that PIPE
// never sends).
func benchTestssl(ours []string, port string, rows *[]row) error {
	testssl, err := exec.LookPath("testssl")
	if err != nil {
		return fmt.Errorf("testssl is missing: install testssl.sh")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-testssl")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	n := 0
	peer := func() []string {
		n++
		argv := append(append([]string{"env"}, oracles.TestsslEnv...), testssl)
		return append(argv, oracles.TestsslArgs(filepath.Join(dir, fmt.Sprintf("run%d.json", n)), openssl, "127.0.0.1:"+port)...)
	}
	const name = "tls: full audit of a legacy endpoint"
	fmt.Fprintf(os.Stderr, "bench: %s vs testssl.sh (%d runs each, alternating)...\n", name, testsslRuns)
	var samples [2][]sample
	var fails [2]int
	var first [2]string
	var rss [2]int64
	for i := 0; i < testsslRuns; i++ {
		for k := 0; k < 2; k++ {
			j := k
			if i%2 == 1 {
				j = 1 - k
			}
			argv := ours
			if j == 1 {
				argv = peer()
			}
			s, out, kib, err := measureWithRSS(argv)
			samples[j] = append(samples[j], s)
			rss[j] = max(rss[j], kib)
			if first[j] == "" {
				first[j] = strings.SplitN(out, "\n", 2)[0]
			}
			if err != nil {
				fails[j]++
			}
		}
	}
	// testssl.sh's exit code is not a failure of the run (it is 1 after -p
	// found TLS 1.0): its JSON having the findings is.
	fails[1] = 0
	for i := 1; i <= n; i++ {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("run%d.json", i)))
		if err != nil || !strings.Contains(string(data), `"cipher-tls1_2_`) {
			fails[1]++
		}
	}
	var st [2]stats
	for j := range st {
		st[j] = summarize(samples[j], fails[j], first[j])
		st[j].peakRSS = rss[j]
	}
	first[1] = fmt.Sprintf("(testssl.sh: %d runs, JSON findings in %d)", n, n-fails[1])
	*rows = append(*rows, row{name: name, ours: st[0], peer: st[1], peerName: "testssl.sh -p -E", timeTarget: 0.1,
		note: fmt.Sprintf("; %d runs each: testssl.sh takes minutes a run", testsslRuns)})
	fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", first[0], first[1])
	return nil
}

// measureWithRSS runs argv under GNU time: its wall time (GNU time's own
// cost is a millisecond, nothing next to these runs), stdout and peak RSS
// in KiB.
func measureWithRSS(argv []string) (sample, string, int64, error) {
	f, err := os.CreateTemp("", "bench-rss")
	if err != nil {
		return sample{}, "", 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	s, out, runErr := measure(append([]string{"/usr/bin/time", "-f", "%M", "-o", f.Name(), "--"}, argv...))
	var kib int64
	if data, err := os.ReadFile(f.Name()); err == nil {
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		_, _ = fmt.Sscan(lines[len(lines)-1], &kib)
	}
	return s, out, kib, runErr
}

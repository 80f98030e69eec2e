package procs

import (
	"bufio"
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/state"
)

var update = flag.Bool("update", false, "rewrite testdata/findings.txt from the current results (review the diff!)")

// findingsOf audits a command line as --cmdline does and lists the
// findings as STATE:ID, sorted; "parse error" when it cannot be read.
func findingsOf(line string) string {
	cmd, err := socatcmd.ParseCommandLine(line)
	if err != nil {
		if _, ok := err.(*socatcmd.NotSocatError); ok {
			return "not socat"
		}
		return "W:unparsable"
	}
	var ids []string
	for _, f := range Audit(Subject{Cmd: cmd, Where: "t", UID: -1, Static: true}) {
		ids = append(ids, f.State.String()[:1]+":"+f.ID)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, " ")
}

// TestFindingsCorpus audits every real-world command line of the parser
// corpus, and targeted ones, and compares the findings with the reviewed
// expectation in testdata/findings.txt.
func TestFindingsCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/findings.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var cmd string
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "cmd: "):
			cmd = line[5:]
			n++
			out.WriteString(line + "\n")
			if *update {
				out.WriteString("findings: " + findingsOf(cmd) + "\n")
			}
		case strings.HasPrefix(line, "findings: "):
			if *update {
				continue
			}
			if got := findingsOf(cmd); got != line[10:] {
				t.Errorf("%s\n got: %s\nwant: %s", cmd, got, line[10:])
			}
		default:
			out.WriteString(line + "\n")
		}
	}
	if n < 60 {
		t.Fatalf("%d command lines, want at least 60", n)
	}
	if *update {
		if err := os.WriteFile("testdata/findings.txt", []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every ID of the catalogue is produced by some command line of the
// corpus (or by the file and live tests, listed here).
func TestCatalogueCovered(t *testing.T) {
	data, err := os.ReadFile("testdata/findings.txt")
	if err != nil {
		t.Fatal(err)
	}
	byFiles := map[string]bool{IDKeyFileExposed: true, IDFileMissing: true, IDRunsAsRoot: true,
		IDPrivilegedBinary: true, IDFileWritable: true, IDNoRestart: true, IDSudoSocat: true,
		IDPlaintextInTransit: true, IDWeakTLSInTransit: true} // traffic: TestJudgeTraffic, TestSampleTraffic
	for _, r := range Rules {
		id, st := r.ID, r.State
		if byFiles[id] {
			continue
		}
		if !strings.Contains(string(data), st.String()[:1]+":"+id) {
			t.Errorf("no command line of the corpus yields %s %s", st, id)
		}
	}
}

func TestWeakCiphers(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"HIGH:!aNULL:!MD5", ""},
		{"DEFAULT", ""},
		{"ALL:eNULL:@SECLEVEL=0", "@SECLEVEL=0 (every weak suite and protocol), NULL (no encryption)"},
		{"RC4-MD5", "MD5, RC4"},
		{"EXP-RC4-MD5:!RC4", "EXPORT, MD5"},
		{"aNULL+ECDH", "anonymous (aNULL)"},
		{"DES-CBC3-SHA", "DES"},
		{"HIGH:!3DES", ""},
		{"ECDHE-RSA-AES128-GCM-SHA256", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(WeakCiphers(tt.in), ", "); got != tt.want {
			t.Errorf("WeakCiphers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	_ = state.OK
}

// Every ID constant has exactly one row in Rules, and no row lacks a
// constant: a finding whose ID has no row would have no rank and a
// default state of UNKNOWN.
func TestRulesCoverEveryID(t *testing.T) {
	src, err := os.ReadFile("findings.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := regexp.MustCompile(`(?m)^\s+(ID\w+)\s+= "([a-z-]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(consts) < 20 {
		t.Fatalf("found only %d ID constants in findings.go", len(consts))
	}
	rows := map[string]int{}
	for _, r := range Rules {
		rows[r.ID]++
		if r.About == "" || (r.State != state.Critical && r.State != state.Warning) {
			t.Errorf("rule %s: about %q, state %s", r.ID, r.About, r.State)
		}
	}
	for _, c := range consts {
		if rows[c[2]] != 1 {
			t.Errorf("%s (%s) has %d rows in Rules, want 1", c[1], c[2], rows[c[2]])
		}
		delete(rows, c[2])
	}
	for id := range rows {
		t.Errorf("rule %s has no ID constant", id)
	}
}

func TestUnitFromCgroup(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0::/system.slice/socat-relay.service\n", "socat-relay.service"},
		{"0::/system.slice/system-socat.slice/socat@9000.service\n", "socat@9000.service"},
		{"12:pids:/\n1:name=systemd:/system.slice/relay.service\n0::/\n", "relay.service"},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/relay.service\n", ""},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", ""},
		{"0::/system.slice/docker-0123abcd.scope\n", ""},
		{"0::/\n", ""},
		{"garbage", ""},
	} {
		if got := UnitFromCgroup([]byte(c.in)); got != c.want {
			t.Errorf("UnitFromCgroup(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

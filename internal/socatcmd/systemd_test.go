package socatcmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The specifiers of systemd.unit(5) that a socat unit uses, for an
// instance and for a plain unit.
func TestSpecifiers(t *testing.T) {
	inst := ParseUnitName("/etc/systemd/system/socat-relay@dev-ttyS0.service")
	plain := ParseUnitName("/etc/systemd/system/docker-proxy.service")
	for _, tt := range []struct {
		n        UnitName
		in, want string
	}{
		{inst, "%n", "socat-relay@dev-ttyS0.service"},
		{inst, "%N", "socat-relay@dev-ttyS0"},
		{inst, "%p", "socat-relay"},
		{inst, "%P", "socat/relay"},
		{inst, "%i", "dev-ttyS0"},
		{inst, "%I", "dev/ttyS0"},
		{inst, "%j", "relay"},
		{inst, "%f", "/dev/ttyS0"},
		{inst, "FILE:%f,b115200 TCP-L:%%i", "FILE:/dev/ttyS0,b115200 TCP-L:%i"},
		{inst, "%y", "/etc/systemd/system/socat-relay@dev-ttyS0.service"},
		{inst, "%Y", "/etc/systemd/system"},
		{plain, "%n %N %p %i.", "docker-proxy.service docker-proxy docker-proxy ."},
		{plain, "%f", "/docker/proxy"},
		{plain, "%t/x.sock %S %C %L %E %T %V %h %u %U", "/run/x.sock /var/lib /var/cache /var/log /etc /tmp /var/tmp /root root 0"},
		{ParseUnitName("a@x\\x2dy.service"), "%I", "x-y"},
		{plain, "100% and %-5s", "100% and %-5s"}, // kept as written, as systemd keeps them
	} {
		got, err := tt.n.Specifiers(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q = %q, %v; want %q", tt.n.Name, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"%z", "TCP-L:%Z", "%9"} {
		if _, err := plain.Specifiers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if inst.Template || plain.Template || !ParseUnitName("socat@.service").Template {
		t.Errorf("template detection: %+v %+v", inst, plain)
	}
}

// EnvironmentFile= syntax, from systemd.exec(5) case by case.
func TestParseEnvFile(t *testing.T) {
	file := "# comment\n" +
		"; also a comment\n" +
		"no equals sign here\n" +
		"\n" +
		"  PLAIN = value with  inner   spaces  \t\n" + // outer blanks dropped, inner kept
		"QUOTES_KEPT=file:/dev/ttyS0,b115200,raw \"EXEC:/usr/bin/ncat -l -k -p 10000\"\n" +
		"ESC=a\\ b\\\\c\\$d\n" +
		"CONT=first \\\nsecond\n" +
		"SQ='single $x \\n kept\nover two lines' trailing dropped\n" +
		"DQ=\"a \\\"q\\\" \\$HOME \\n \\\\ end\"\n" +
		"EMPTY=\n" +
		"AFTER=\"127.0.0.1\" # note\n" +
		"JOINED='a' 'b'\"c\"d\n" +
		"9BAD=x\n" +
		"LAST=1\nLAST=2\n"
	got := parseEnvFile([]byte(file))
	want := map[string]string{
		"PLAIN":       "value with  inner   spaces",
		"QUOTES_KEPT": `file:/dev/ttyS0,b115200,raw "EXEC:/usr/bin/ncat -l -k -p 10000"`,
		"ESC":         `a b\c$d`,
		"CONT":        "first second",
		"SQ":          "single $x \\n kept\nover two linestrailing dropped", // after a quote the value goes on
		"AFTER":       "127.0.0.1# note",
		"JOINED":      "abcd",
		"DQ":          `a "q" $HOME \n \ end`,
		"EMPTY":       "",
		"LAST":        "2",
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s = %q, want %q", k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s = %q", k, got[k])
			}
		}
	}
}

// $VAR as a word of its own is split at whitespace, with quotes, into
// as many words as it holds: the serial relay has two addresses,
// not six; ${VAR} stays one word.
func TestVariableWords(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "socat.env")
	if err := os.WriteFile(env, []byte("SOCAT_CONNECTION=file:/dev/ttyS0,b115200,raw \"EXEC:/usr/bin/ncat -l -k -p 10000\"\nOPTS=-d -d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unit := "[Service]\nEnvironmentFile=" + env + "\nExecStart=/usr/bin/socat $OPTS $SOCAT_CONNECTION\nExecStart=/usr/bin/socat ${OPTS} -\nType=oneshot\n"
	u, err := ParseUnit(unit)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"/usr/bin/socat", "-d", "-d", "file:/dev/ttyS0,b115200,raw", "EXEC:/usr/bin/ncat -l -k -p 10000"},
		{"/usr/bin/socat", "-d -d", "-"},
	}
	if !reflect.DeepEqual(u.ExecStart, want) || u.Invalid != "" {
		t.Errorf("ExecStart = %q (invalid %q), want %q", u.ExecStart, u.Invalid, want)
	}
	if got := splitEnvWords(`a "b c" 'd e' f\ g "unbalanced rest`); !reflect.DeepEqual(got, []string{"a", "b c", "d e", "f g", "unbalanced rest"}) {
		t.Errorf("splitEnvWords = %q", got)
	}
}

// An instance is read from its template, %i and the EnvironmentFile=
// path expanded; a template whose command needs an instance says so.
func TestTemplateInstance(t *testing.T) {
	dir := t.TempDir()
	tmpl := "[Service]\nEnvironmentFile=" + dir + "/%i.env\nExecStart=/usr/bin/socat -d -d TCP4-LISTEN:%i,fork,max-children=4 $BACKEND\nRestart=always\n"
	if err := os.WriteFile(filepath.Join(dir, "socat@.service"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "9000.env"), []byte("BACKEND=TCP:db.internal:5432\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := ReadUnit(filepath.Join(dir, "socat@9000.service"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/socat", "-d", "-d", "TCP4-LISTEN:9000,fork,max-children=4", "TCP:db.internal:5432"}
	if !reflect.DeepEqual(u.ExecStart[0], want) || u.Name.Instance != "9000" || u.Restart != "always" || filepath.Base(u.Name.Path) != "socat@.service" {
		t.Errorf("ExecStart %q, name %+v, restart %q", u.ExecStart[0], u.Name, u.Restart)
	}
	_, err = ReadUnit(filepath.Join(dir, "socat@.service"))
	var te *TemplateError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "socat@INSTANCE.service") {
		t.Errorf("the template itself: %v", err)
	}
}

// What systemd refuses to load, said in its words.
func TestUnitsSystemdRefuses(t *testing.T) {
	for _, tt := range []struct{ unit, says string }{
		{"[Service]\nExecStart=/usr/bin/socat - -\nExecStart=/usr/bin/socat - -\n", "more than one ExecStart="},
		{"[Service]\nType=simple\nExecStart=/usr/bin/socat - -\nExecStart=/usr/bin/socat - -\n", "more than one ExecStart="},
		{"[Service]\nExecStart=./socat - -\n", "Neither a valid executable name nor an absolute path"},
		{"[Service]\nExecStart=/usr/bin/socat TCP-L:%z -\n", "failed to resolve unit specifiers"},
		{"[Service]\nType=oneshot\nExecStart=/usr/bin/socat - -\nExecStart=/usr/bin/socat - -\n", ""},
		{"[Service]\nExecStart=/usr/bin/socat - -\nExecStart=\nExecStart=/usr/bin/socat - -\n", ""},
		{"[Service]\nExecStart=socat TCP-L:%%i -\n", ""},
	} {
		u, err := ParseUnit(tt.unit)
		if err != nil {
			t.Errorf("%q: %v", tt.unit, err)
			continue
		}
		if (tt.says == "") != (u.Invalid == "") || !strings.Contains(u.Invalid, tt.says) {
			t.Errorf("%q: refused %q, want %q", tt.unit, u.Invalid, tt.says)
		}
	}
}

// systemd itself is the second opinion on which units it refuses:
// systemd-analyze verify loads each unit of testdata/units (offline, no
// running manager) and its verdict must be ours. Its other complaints
// (a program missing on this machine) are not refusals.
func TestUnitsAgainstSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if testing.Short() {
			t.Skip("systemd-analyze is not installed")
		}
		t.Fatal("systemd-analyze is not installed (Debian package systemd)")
	}
	files, _ := filepath.Glob("testdata/units/*.service")
	if len(files) < 8 {
		t.Fatalf("only %d units in testdata/units", len(files))
	}
	// A copy of the directory: systemd reads an instance's template next
	// to it, and verify writes nothing, but the tests never write into
	// testdata.
	dir := t.TempDir()
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if n := ParseUnitName(name); n.Template {
			name = n.Prefix + "@8080.service" // systemd loads instances, not templates
		}
		names = append(names, name)
	}
	refusals := 0
	for _, name := range names {
		path := filepath.Join(dir, name)
		ours := ""
		if u, err := ReadUnit(path); err != nil {
			ours = err.Error()
		} else {
			ours = u.Invalid
		}
		out, _ := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
		refused := strings.Contains(string(out), "bad unit file setting") || strings.Contains(string(out), "Refusing")
		if refused {
			refusals++
		}
		if refused != (ours != "") {
			t.Errorf("%s: systemd-analyze verify says\n%s\nours: %q", name, out, ours)
		}
	}
	if refusals == 0 || refusals == len(names) {
		t.Errorf("systemd refused %d of %d units: the corpus must hold both kinds", refusals, len(names))
	}
}

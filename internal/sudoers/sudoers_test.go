package sudoers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The forms sudoers(5) gives: aliases, run-as lists, tags, negation,
// several host specs on a line, continuations, no-argument and wildcard
// commands.
func TestParse(t *testing.T) {
	text := `# comment
Defaults env_reset
Defaults:ops !requiretty
User_Alias OPS = alice, %netops : DEV = bob
Cmnd_Alias RELAY = /usr/bin/socat TCP-LISTEN\:8080\,fork TCP\:127.0.0.1\:80, \
                   /usr/bin/socat ""
Cmnd_Alias ANYSOCAT = /usr/bin/socat
root ALL=(ALL:ALL) ALL
OPS ALL = (root) NOPASSWD: RELAY
DEV ALL = (ALL) NOPASSWD:SETENV: ANYSOCAT, !/usr/bin/socat *EXEC*
carol host1 = /usr/local/bin/socat1 - TCP\:* : host2 = /bin/ls
%admin ALL=(ALL) ALL  # trailing comment
`
	rules := Parse(text)
	var got []string
	for _, r := range rules {
		for _, c := range r.Commands {
			got = append(got, strings.Join(r.Users, "+")+" "+describe(c))
		}
	}
	want := []string{
		"root ALL",
		`alice+%netops /usr/bin/socat [TCP-LISTEN\:8080\,fork TCP\:127.0.0.1\:80]`,
		"alice+%netops /usr/bin/socat (no args)",
		"bob /usr/bin/socat (any args)",
		"bob !/usr/bin/socat [*EXEC*] wildcard",
		`carol /usr/local/bin/socat1 [- TCP\:*] wildcard`,
		"carol /bin/ls (any args)",
		"%admin ALL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func describe(c Command) string {
	s := ""
	if c.Negated {
		s = "!"
	}
	switch {
	case c.All:
		return s + "ALL"
	case c.NoArgs:
		return s + c.Path + " (no args)"
	case c.AnyArgs:
		return s + c.Path + " (any args)"
	}
	s += c.Path + " [" + c.Args + "]"
	if c.Wildcard() {
		s += " wildcard"
	}
	return s
}

// #include and #includedir (and @ forms): files of the directory that end
// in ~ or contain a dot are skipped, as sudo skips them; a loop of
// includes ends.
func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "sudoers.d")
	_ = os.Mkdir(d, 0o755)
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o440); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "sudoers"), "root ALL=(ALL) ALL\n#includedir "+d+"\n@include extra\n")
	write(filepath.Join(dir, "extra"), "erin ALL = /usr/bin/socat\n@include extra\n")
	write(filepath.Join(d, "relay"), "dave ALL = NOPASSWD: /usr/bin/socat\n")
	write(filepath.Join(d, "relay~"), "mallory ALL = /usr/bin/socat\n")
	write(filepath.Join(d, "relay.bak"), "mallory ALL = /usr/bin/socat\n")
	rules, errs := ReadFile(filepath.Join(dir, "sudoers"))
	var users []string
	for _, r := range rules {
		users = append(users, strings.Join(r.Users, "+"))
	}
	if got := strings.Join(users, " "); !strings.Contains(got, "dave") || !strings.Contains(got, "erin") || strings.Contains(got, "mallory") {
		t.Errorf("users %q", got)
	}
	if len(errs) == 0 {
		t.Errorf("the include loop was not reported")
	}
}

// Any text: rules or nothing, never a panic or a hang.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"alice ALL = /usr/bin/socat", "User_Alias A = a, b : B = c\nA ALL=(root) NOPASSWD: /usr/bin/socat *",
		"x ALL = (", "Cmnd_Alias C = C\nu ALL = C", "a b = c : d = e : f", "\\\n\\", "#include\n@includedir"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Parse(s)
	})
}

// From an independent review: forms that hid a rule granting socat.
func TestReviewForms(t *testing.T) {
	text := "Cmnd_Alias\tSOCAT = /usr/bin/socat\n" +
		"alice ALL = SOCAT\n" +
		"#1001 ALL = /usr/bin/socat\n" +
		"bob, #1002 ALL = /usr/bin/socat # trailing\n" +
		"carol ALL = CWD=/tmp TIMEOUT=1m /usr/bin/socat\n" +
		"dave ALL = sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= /usr/bin/socat\n" +
		"erin ALL = (nobody) /usr/bin/socat, (root) /bin/ls\n"
	got := map[string]string{}
	for _, r := range Parse(text) {
		for _, c := range r.Commands {
			got[strings.Join(r.Users, "+")+" "+c.Path] = c.RunAs
		}
	}
	for _, want := range []string{"alice /usr/bin/socat", "#1001 /usr/bin/socat", "bob+#1002 /usr/bin/socat",
		"carol /usr/bin/socat", "dave /usr/bin/socat", "erin /usr/bin/socat"} {
		if _, ok := got[want]; !ok {
			t.Errorf("no %q in %q", want, got)
		}
	}
	if got["erin /usr/bin/socat"] != "nobody" || got["erin /bin/ls"] != "root" {
		t.Errorf("run-as per command: %q", got)
	}
	// Aliases that name each other many times: expanded once each, the
	// socat among them found.
	nested := "Cmnd_Alias L3 = " + strings.Repeat("/bin/true, ", 16) + "/bin/false\n" +
		"Cmnd_Alias L2 = " + strings.Repeat("L3, ", 17) + "/bin/ls\n" +
		"Cmnd_Alias L1 = " + strings.Repeat("L2, ", 17) + "/bin/cat\n" +
		"Cmnd_Alias A = " + strings.Repeat("A, ", 20) + "/usr/bin/socat\n" +
		"zed ALL = L1, A, /usr/bin/socat\talpha*\n"
	done := make(chan []Rule, 1)
	go func() { done <- Parse(nested) }()
	var rules []Rule
	select {
	case rules = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("alias expansion does not end")
	}
	socats := 0
	for _, r := range rules {
		for _, c := range r.Commands {
			if c.Path == "/usr/bin/socat" {
				socats++
			}
		}
	}
	if socats != 2 { // through A, and the tab-separated one with a wildcard
		t.Errorf("%d socat commands found in %+v", socats, rules)
	}
}

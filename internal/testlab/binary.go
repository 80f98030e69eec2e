package testlab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// BuildBinary builds the command in the current directory into a
// directory every user can read (the tests also run it as nobody), for a
// TestMain. It returns the binary's path and a function that removes it.
func BuildBinary(name string) (string, func(), error) { return BuildCommand(".", name) }

// BuildCommand builds the command in pkg (a directory) as name, as
// BuildBinary does: for a test that drives another binary of the suite.
func BuildCommand(pkg, name string) (string, func(), error) {
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	_ = os.Chmod(dir, 0o755)
	path := filepath.Join(dir, name)
	build := exec.Command("go", "build", "-o", path, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build %s: %v\n%s", name, err, out)
	}
	return path, cleanup, nil
}

// MainWithBinary is a TestMain body: build the binary into *path, run
// the tests, clean up, exit.
func MainWithBinary(m *testing.M, name string, path *string) {
	p, cleanup, err := BuildBinary(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*path = p
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// CheckIcinga2Packaged checks that a binary's CheckCommand (what its
// --icinga2-command prints) is in the packaged file, and that the
// README's table has a row for each of its custom variables.
func CheckIcinga2Packaged(t testing.TB, command []byte) {
	t.Helper()
	conf, err := os.ReadFile("../../packaging/icinga2/check_socat.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, command) {
		t.Errorf("packaging/icinga2/check_socat.conf does not hold the current CheckCommand: run make packaging-files\n%s", command)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$(socat_[a-z0-9_]+)\$`).FindAllSubmatch(command, -1) {
		if !bytes.Contains(readme, []byte("| `"+string(m[1])+"` |")) {
			t.Errorf("README.md has no row for the Icinga 2 variable %s", m[1])
		}
	}
}

// ExpectAll checks that every run exited with code and printed each of
// want; it reports the first few that did not.
func ExpectAll(t testing.TB, runs []Run, code int, want ...string) {
	t.Helper()
	bad := 0
	for _, r := range runs {
		ok := r.Code == code
		for _, w := range want {
			ok = ok && bytes.Contains([]byte(r.Out), []byte(w))
		}
		if !ok {
			if bad++; bad <= 3 {
				t.Errorf("exit %d after %v:\n%s", r.Code, r.Took, r.Out)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d concurrent runs went wrong", bad, len(runs))
	}
}

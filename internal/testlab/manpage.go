package testlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// findingID finds the IDs a check's sources give its findings: ID: "x",
// finding("x", ...), failed("x", ...), fileFinding(path, "x", ...), and
// the return values of a findingID function.
var findingID = regexp.MustCompile(`(?:ID:\s*|finding\(|failed\(|fileFinding\([a-z]+, )"([a-z][a-z0-9-]*)"`)

// FindingIDs are the finding IDs in the non-test Go files of dir.
func FindingIDs(t testing.TB, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	ids := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		for _, m := range findingID.FindAllStringSubmatch(src, -1) {
			ids[m[1]] = true
		}
		if i := strings.Index(src, ") findingID("); i >= 0 {
			body := src[i:]
			body = body[:strings.Index(body, "\n}\n")]
			for _, m := range regexp.MustCompile(`return "([a-z][a-z0-9-]*)"`).FindAllStringSubmatch(body, -1) {
				ids[m[1]] = true
			}
		}
	}
	return ids
}

// CheckManPage requires a manual page to describe every finding ID the
// check's sources (dir) and the runtime give, to have the sections every
// page has, and to be clean for groff -ww.
func CheckManPage(t *testing.T, page, dir string) {
	t.Helper()
	ids := FindingIDs(t, dir)
	ids["timeout"], ids["stopped"] = true, true // the runtime's
	for id := range ids {
		if !strings.Contains(page, ".TP\n\\fB"+strings.ReplaceAll(id, "-", "\\-")+" (") {
			t.Errorf("the manual page does not describe finding %s", id)
		}
	}
	if len(ids) < 3 {
		t.Errorf("found only %v in %s: the pattern no longer finds the IDs", ids, dir)
	}
	for _, sec := range []string{".SH FINDINGS", ".SH PERFORMANCE DATA", ".SH EXAMPLES"} {
		if !strings.Contains(page, sec) {
			t.Errorf("no %q in the manual page", sec)
		}
	}
	Need(t, "groff")
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("groff: %v\n%s", err, msg)
	}
}

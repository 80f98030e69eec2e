package procs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Who else may change a file: its owner, a group with other members, or
// everyone, on the file or any directory above it; a sticky directory
// protects the entries of others, as the kernel does.
func TestWhoMayReplace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to other users; CI runs as root")
	}
	root := t.TempDir()
	_ = os.Chmod(root, 0o755)
	mk := func(rel string, mode os.FileMode, uid, gid int, dir bool) string {
		p := filepath.Join(root, rel)
		if dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	acc := &accounts{members: map[int][]int{4242: {1000}, 4343: {0, 65534}}, names: map[int]string{1000: "alice", 65534: "nobody"},
		groups: map[int]string{4242: "deploy", 4343: "svc"}}
	const inst = 65534 // the instance runs as nobody
	mk("ok", 0o755, 0, 0, true)
	mk("ok/cert.pem", 0o644, 0, 0, false)
	mk("ok/own.pem", 0o600, inst, 0, false)
	mk("alice", 0o755, 0, 0, true)
	mk("alice/cert.pem", 0o644, 1000, 0, false)
	mk("open", 0o777, 0, 0, true)
	mk("open/prog", 0o755, 0, 0, false)
	mk("sticky", os.ModeSticky|0o777, 0, 0, true)
	mk("sticky/prog", 0o755, 0, 0, false)
	mk("grp", 0o775, 0, 4242, true)
	mk("grp/key.pem", 0o600, 0, 0, false)
	mk("svc", 0o775, 0, 4343, true)
	mk("svc/key.pem", 0o600, 0, 0, false)
	mk("filegw", 0o755, 0, 0, true)
	mk("filegw/ca.pem", 0o664, 0, 4242, false)
	// An absolute target is under the instance's root (/proc/PID/root).
	if err := os.Symlink("/alice/cert.pem", filepath.Join(root, "ok/link.pem")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ rel, want string }{
		{"ok/cert.pem", ""},
		{"ok/own.pem", ""}, // the instance's own file
		{"alice/cert.pem", "the file /alice/cert.pem belongs to alice"},
		{"open/prog", "the directory /open is writable by everyone (mode 0777)"},
		{"sticky/prog", ""},
		{"grp/key.pem", "the directory /grp is writable by group deploy (alice)"},
		{"svc/key.pem", ""}, // its only other member is the instance's user
		{"filegw/ca.pem", "the file /filegw/ca.pem is writable by group deploy (alice)"},
		{"ok/link.pem", "belongs to alice"}, // where the link points counts
	} {
		got := whoMayReplace(filepath.Join(root, tt.rel), root, inst, acc)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.rel, got, tt.want)
		}
	}
}

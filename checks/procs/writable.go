package procs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// accounts is the user and group database an instance sees: who is in
// each group (members and users whose primary group it is), and names.
type accounts struct {
	members map[int][]int // gid -> uids
	names   map[int]string
	groups  map[int]string
}

// readAccounts reads passwd and group through resolve (the instance's
// view: a container has its own).
func readAccounts(resolve func(string) string) *accounts {
	a := &accounts{members: map[int][]int{}, names: map[int]string{}, groups: map[int]string{}}
	byName := map[string]int{}
	eachLine(resolve("/etc/passwd"), func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return
		}
		a.names[uid] = f[0]
		byName[f[0]] = uid
		a.members[gid] = append(a.members[gid], uid)
	})
	eachLine(resolve("/etc/group"), func(f []string) {
		if len(f) < 4 {
			return
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return
		}
		a.groups[gid] = f[0]
		for _, m := range strings.Split(f[3], ",") {
			if uid, ok := byName[strings.TrimSpace(m)]; ok {
				a.members[gid] = append(a.members[gid], uid)
			}
		}
	})
	return a
}

func eachLine(path string, fn func([]string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

func (a *accounts) user(uid int) string {
	if n, ok := a.names[uid]; ok {
		return n
	}
	return "uid " + strconv.Itoa(uid)
}

func (a *accounts) group(gid int) string {
	if n, ok := a.groups[gid]; ok {
		return n
	}
	return "gid " + strconv.Itoa(gid)
}

// others lists the members of gid other than root and uid.
func (a *accounts) others(gid, uid int) []string {
	var out []string
	seen := map[int]bool{}
	for _, m := range a.members[gid] {
		if m == 0 || m == uid || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, a.user(m))
	}
	return out
}

// whoMayReplace says who other than root and the instance's user (uid)
// may change the file at p or replace it, through p itself or any
// directory above it up to root (the instance's /); "" when nobody. A
// group counts when it has other members; a sticky directory lets
// others add entries but not replace ours, as the kernel applies it.
func whoMayReplace(p, root string, uid int, acc *accounts) string {
	root = filepath.Clean(root)
	seen := map[string]bool{}
	var walk func(p string, depth int) string
	walk = func(p string, depth int) string {
		first := true
		for depth < 40 {
			p = filepath.Clean(p)
			// The instance's / is checked when it is the host's; another
			// root (/proc/PID/root, a RootDirectory=) is a mount point
			// whose parents are not the instance's.
			if seen[p] || (p == root && !first && root != "/") {
				return ""
			}
			seen[p] = true
			info, err := os.Lstat(p)
			if err != nil {
				return ""
			}
			st, ok := info.Sys().(*syscall.Stat_t)
			if !ok {
				return ""
			}
			what := "the file"
			if !first {
				what = "the directory"
			}
			shown := strings.TrimPrefix(p, strings.TrimSuffix(root, "/"))
			if shown == "" {
				shown = "/"
			}
			owner := int(st.Uid)
			m := info.Mode()
			dirLike := info.IsDir()
			if owner != 0 && owner != uid {
				return fmt.Sprintf("%s %s belongs to %s", what, shown, acc.user(owner))
			}
			sticky := dirLike && m&fs.ModeSticky != 0
			if m.Perm()&0o002 != 0 && !sticky && m&fs.ModeSymlink == 0 {
				return fmt.Sprintf("%s %s is writable by everyone (mode %04o)", what, shown, m.Perm())
			}
			if m.Perm()&0o020 != 0 && !sticky && m&fs.ModeSymlink == 0 {
				if others := acc.others(int(st.Gid), uid); len(others) > 0 {
					return fmt.Sprintf("%s %s is writable by group %s (%s)", what, shown, acc.group(int(st.Gid)), joinMax(others, 3))
				}
			}
			if m&fs.ModeSymlink != 0 {
				// Where the link points must be safe too, as the instance
				// resolves it: an absolute target is under its root.
				if target, err := os.Readlink(p); err == nil {
					if filepath.IsAbs(target) {
						target = filepath.Join(root, target)
					} else {
						target = filepath.Join(filepath.Dir(p), target)
					}
					if why := walk(target, depth+1); why != "" {
						return why
					}
				}
			}
			if p == root || p == "/" {
				return ""
			}
			p = filepath.Dir(p)
			first = false
			depth++
		}
		return ""
	}
	return walk(p, 0)
}

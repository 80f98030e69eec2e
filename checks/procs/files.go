package procs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
)

// FileChecker looks at the files an instance names, as the instance sees
// them: a live process through /proc/PID/root and /proc/PID/cwd, a unit
// on this host directly.
type FileChecker interface {
	// Resolve maps a path as the instance wrote it to one this process
	// can open.
	Resolve(p string) string
	// UID and GIDs of the instance, for "can it read this file".
	Owner() (uid int, gids []int)
	// PATH of the instance, for programs without a directory.
	SearchPath() []string
}

// HostFiles checks files on this host for a unit file or a command line.
// Root and Dir are a unit's RootDirectory= and WorkingDirectory=: paths
// resolve as systemd would hand them to the service.
type HostFiles struct {
	UID       int
	GIDs      []int
	Root, Dir string
}

// Resolve joins a relative path to the working directory (the unit's, or
// ours when none is set) and puts the result under the root directory.
func (h HostFiles) Resolve(p string) string {
	if !filepath.IsAbs(p) && h.Dir != "" && h.Dir != "~" {
		p = filepath.Join(h.Dir, p)
	}
	if h.Root != "" && filepath.IsAbs(p) {
		p = filepath.Join(h.Root, p)
	}
	return p
}

// Owner is the user the service runs as.
func (h HostFiles) Owner() (int, []int) { return h.UID, h.GIDs }

// SearchPath is systemd's default PATH.
func (h HostFiles) SearchPath() []string {
	return []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}
}

// ProcFiles checks files through /proc/PID/root, as a live process sees
// them (containers included).
type ProcFiles struct {
	PID  int
	UID  int
	GIDs []int
	Path []string
}

// Resolve maps absolute paths under /proc/PID/root and relative ones under
// /proc/PID/cwd.
func (p ProcFiles) Resolve(name string) string {
	if filepath.IsAbs(name) {
		return fmt.Sprintf("/proc/%d/root%s", p.PID, name)
	}
	return fmt.Sprintf("/proc/%d/cwd/%s", p.PID, name)
}

// Owner is the process's user.
func (p ProcFiles) Owner() (int, []int) { return p.UID, p.GIDs }

// SearchPath is the process's PATH, or the default one.
func (p ProcFiles) SearchPath() []string {
	if len(p.Path) > 0 {
		return p.Path
	}
	return HostFiles{}.SearchPath()
}

// canRead reports whether uid/gids may read a file of this mode and owner.
func canRead(info fs.FileInfo, uid int, gids []int) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || uid == 0 {
		return true
	}
	m := info.Mode().Perm()
	if int(st.Uid) == uid {
		return m&0o400 != 0
	}
	for _, g := range gids {
		if int(st.Gid) == g {
			return m&0o040 != 0
		}
	}
	return m&0o004 != 0
}

// fileFindings checks the certificate, key, CA and program files.
func (s *Subject) fileFindings(singles []*socatcmd.Single) []Finding {
	var out []Finding
	uid, gids := s.Files.Owner()
	seen := map[string]bool{}
	var acc *accounts
	// replaceable: who else may change what the instance runs or trusts.
	replaceable := func(what, shown, real string) {
		if uid < 0 {
			return // a --cmdline audit does not know the user
		}
		if acc == nil {
			acc = readAccounts(s.Files.Resolve)
		}
		if who := whoMayReplace(real, s.Files.Resolve("/"), uid, acc); who != "" {
			s.f(&out, IDFileWritable, fmt.Sprintf("%s %s can be changed by another user: %s", what, shown, who),
				"give it and every directory above it to root (or the service user), without group or other write permission")
		}
	}
	check := func(single *socatcmd.Single, what, name string, key bool) {
		if name == "" || seen[what+name] {
			return
		}
		seen[what+name] = true
		shown := sanitize.Text(name, 80)
		real := s.Files.Resolve(name)
		info, err := os.Stat(real)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				s.f(&out, IDFileMissing, fmt.Sprintf("%s %s of %s does not exist", what, shown, single.Type),
					"create it or fix the path")
				return
			}
			if errors.Is(err, fs.ErrPermission) {
				// We cannot see it: said in a note, not a finding.
				if s.Unseen != nil {
					*s.Unseen = append(*s.Unseen, what+" "+shown)
				}
				return
			}
			s.f(&out, IDFileMissing, fmt.Sprintf("%s %s of %s cannot be read: %v", what, shown, single.Type, errors.Unwrap(err)), "fix the path or its permissions")
			return
		}
		if uid >= 0 && !info.IsDir() && !canRead(info, uid, gids) {
			s.f(&out, IDFileMissing, fmt.Sprintf("%s %s of %s is not readable by the instance's user (uid %d)", what, shown, single.Type, uid),
				"give that user read access (chgrp and chmod 640)")
		}
		if key && info.Mode().IsRegular() && info.Mode().Perm()&0o044 != 0 && holdsPrivateKey(real) {
			s.f(&out, IDKeyFileExposed, fmt.Sprintf("%s %s holds a private key and is readable by %s (mode %04o)", what, shown, readers(info.Mode().Perm()), info.Mode().Perm()),
				"chmod 600 (every member of a group that may read it can read the key)")
		}
		replaceable(what, shown, real)
	}
	// scripts checks the files a program's command line names by absolute
	// path (the script of sh /opt/x.sh, python3 /opt/app.py).
	scripts := func(single *socatcmd.Single, words []string) {
		for _, w := range words {
			if !strings.HasPrefix(w, "/") || seen["script"+w] {
				continue
			}
			seen["script"+w] = true
			if info, err := os.Stat(s.Files.Resolve(w)); err == nil && info.Mode().IsRegular() {
				replaceable("script", sanitize.Text(w, 80), s.Files.Resolve(w))
			}
		}
	}
	for _, single := range singles {
		for _, o := range single.Options {
			switch o.Canon {
			case "openssl-certificate":
				check(single, "cert", o.Value, true)
			case "openssl-key":
				check(single, "key", o.Value, true)
			case "openssl-cafile":
				check(single, "cafile", o.Value, false)
			case "openssl-capath":
				check(single, "capath", o.Value, false)
			case "openssl-dhparam":
				check(single, "dhparam", o.Value, false)
			}
		}
		if single.Type == "SYSTEM" && len(single.Params) > 0 {
			scripts(single, strings.Fields(single.Params[0]))
		}
		if single.Type == "EXEC" && len(single.Params) > 0 {
			prog := strings.Fields(single.Params[0])
			if len(prog) == 0 {
				continue
			}
			scripts(single, prog[1:])
			name := prog[0]
			if !strings.Contains(name, "/") {
				found, hidden := false, false
				for _, dir := range s.Files.SearchPath() {
					full := filepath.Join(dir, name)
					_, err := os.Stat(s.Files.Resolve(full))
					if err == nil {
						found = true
						replaceable("program", sanitize.Text(full, 80), s.Files.Resolve(full))
						break
					}
					if errors.Is(err, fs.ErrPermission) {
						hidden = true // the instance's files are not visible to us
						break
					}
				}
				if !found && !hidden {
					s.f(&out, IDFileMissing, fmt.Sprintf("program %s of EXEC is not in the PATH", sanitize.Text(name, 60)), "install it or give its full path")
				}
				continue
			}
			check(single, "program", name, false)
		}
	}
	return out
}

func readers(m fs.FileMode) string {
	switch {
	case m&0o044 == 0o044:
		return "group and others"
	case m&0o004 != 0:
		return "others"
	}
	return "its group"
}

// holdsPrivateKey reads the start of a PEM file for a private key block.
func holdsPrivateKey(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, _ := f.Read(buf)
	return strings.Contains(string(buf[:n]), "PRIVATE KEY-----")
}

// worldWritable says why a UNIX listener lets every local user connect,
// or "" when it does not.
func worldWritable(s *socatcmd.Single, sub Subject) string {
	if s.Type == "ABSTRACT-LISTEN" {
		return fmt.Sprintf("%s is an abstract socket: it has no permissions, every process in the network namespace can connect", desc(s))
	}
	path := ""
	if len(s.Params) > 0 {
		path = s.Params[0]
	}
	if sub.Files != nil && path != "" {
		if info, err := os.Stat(sub.Files.Resolve(path)); err == nil && info.Mode()&fs.ModeSocket != 0 {
			if info.Mode().Perm()&0o002 != 0 {
				return fmt.Sprintf("socket %s has mode %04o: every local user can connect", sanitize.Text(path, 80), info.Mode().Perm())
			}
			return ""
		}
	}
	// perm= is applied last; perm-early= alone sets the mode at creation.
	for _, name := range []string{"perm", "perm-early"} {
		if o, ok := s.Option(name); ok {
			if m, ok := octal(o.Value); ok && m&0o002 != 0 {
				return fmt.Sprintf("%s=%s on %s lets every local user connect", name, sanitize.Text(o.Value, 8), desc(s))
			}
			return ""
		}
	}
	if o, ok := s.Option("umask"); ok {
		if m, ok := octal(o.Value); ok && m&0o002 == 0 {
			return fmt.Sprintf("umask=%s on %s leaves the socket writable by every local user", sanitize.Text(o.Value, 8), desc(s))
		}
	}
	return ""
}

func octal(v string) (int, bool) {
	n := 0
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '7' {
			return 0, false
		}
		n = n*8 + int(c-'0')
	}
	return n, true
}

package procs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/check-socat/check-socat/internal/sanitize"
)

// capNetBindService is the one capability a socat binary may carry: it
// lets an unprivileged relay bind a port below 1024.
const capNetBindService = 10

// capNames are the capabilities that matter most, for the words.
var capNames = map[int]string{0: "cap_chown", 1: "cap_dac_override", 2: "cap_dac_read_search", 3: "cap_fowner",
	5: "cap_kill", 6: "cap_setgid", 7: "cap_setuid", 8: "cap_setpcap", 12: "cap_net_admin", 13: "cap_net_raw",
	16: "cap_sys_module", 17: "cap_sys_rawio", 18: "cap_sys_chroot", 19: "cap_sys_ptrace", 21: "cap_sys_admin",
	27: "cap_mknod", 40: "cap_checkpoint_restore"}

// binaryPrivileges says what a socat executable grants whoever runs it:
// set-uid, set-gid, file capabilities other than cap_net_bind_service;
// "" when nothing (or when it cannot be read).
func binaryPrivileges(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	var what []string
	sys, _ := st.Sys().(*syscall.Stat_t)
	if st.Mode()&os.ModeSetuid != 0 {
		owner := "its owner"
		if sys != nil {
			owner = fmt.Sprintf("uid %d", sys.Uid)
			if sys.Uid == 0 {
				owner = "root"
			}
		}
		what = append(what, "set-uid ("+owner+")")
	}
	if st.Mode()&os.ModeSetgid != 0 {
		group := "its group"
		if sys != nil {
			group = fmt.Sprintf("gid %d", sys.Gid)
		}
		what = append(what, "set-gid ("+group+")")
	}
	if caps := fileCapabilities(path); len(caps) > 0 {
		what = append(what, "file capabilities "+strings.Join(caps, ","))
	}
	return strings.Join(what, " and "), nil
}

// fileCapabilities lists the permitted capabilities of the file's
// security.capability attribute (vfs_cap_data, revisions 1 to 3) other
// than cap_net_bind_service. Inheritable ones give nothing by themselves
// (only to a caller that already holds them).
func fileCapabilities(path string) []string {
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(path, "security.capability", buf)
	if err != nil || n < 12 {
		return nil
	}
	buf = buf[:n]
	words := (n - 4) / 8 // permitted/inheritable pairs
	var out []string
	for w := 0; w < words && w < 2; w++ {
		bits := binary.LittleEndian.Uint32(buf[4+8*w:]) // permitted; inheritable follows
		for b := 0; b < 32; b++ {
			c := 32*w + b
			if bits&(1<<b) != 0 && c != capNetBindService {
				name, ok := capNames[c]
				if !ok {
					name = fmt.Sprintf("cap_%d", c)
				}
				out = append(out, name)
			}
		}
	}
	return out
}

// privilegedBinary checks a socat executable once per run (seen), and
// returns its finding, if any. file is what is opened (/proc/PID/exe: the
// very file, in the process's own mount namespace), path what is shown.
func privilegedBinary(file, path, where string, pid, port int, seen map[string]bool) (Finding, bool) {
	if path == "" || seen[path] {
		return Finding{}, false
	}
	seen[path] = true
	what, err := binaryPrivileges(file)
	if err != nil || what == "" {
		return Finding{}, false
	}
	return Finding{ID: IDPrivilegedBinary, State: DefaultState(IDPrivilegedBinary), Where: where, PID: pid, Port: port,
		Reason: fmt.Sprintf("the socat executable %s is %s: any local user who runs it gets those powers (socat opens files, runs programs and binds ports for them)", sanitize.Text(path, 80), what),
		Remedy: "chmod u-s,g-s " + sanitize.Text(path, 80) + " and setcap -r it (only cap_net_bind_service is harmless); run socat as a service user instead"}, true
}

// instanceExecutable is the executable of a running instance: the file
// to open (its /proc/PID/exe when we may, which is the file itself even in
// another mount namespace) and its name; else its argv[0] as the PATH
// finds it.
func instanceExecutable(pid int, argv []string) (file, name string) {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	if p, err := os.Readlink(exe); err == nil {
		return exe, strings.TrimSuffix(p, " (deleted)")
	}
	p := argvExecutable(argv)
	return p, p
}

// argvExecutable is argv[0] as the PATH finds it.
func argvExecutable(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	if strings.Contains(argv[0], "/") {
		return argv[0]
	}
	p, err := exec.LookPath(argv[0])
	if err != nil && !errors.Is(err, exec.ErrDot) {
		return ""
	}
	return p
}

// pathSocat is the socat the PATH finds, "" when there is none.
func pathSocat() string {
	p, err := exec.LookPath("socat")
	if err != nil {
		return ""
	}
	return p
}

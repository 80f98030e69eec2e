package procs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/socktable"
)

// Proc is one socat process as /proc shows it.
type Proc struct {
	PID, PPID int
	Comm      string
	Argv      []string
	UID       int // -1 when unknown
	GIDs      []int
	User      string
	Start     time.Time
	RSS       uint64 // bytes
	FDs       int    // -1 when not visible
	Inodes    []uint64
	// FDsHidden: the fd directory is not readable (another user's process
	// and we are not root): sockets are inferred, not seen.
	FDsHidden bool
	NetNS     string
	Umask     int // -1 when unknown
	Path      []string
	// ByCmdline: recognised as socat by its command line alone (a renamed
	// copy whose executable this user may not look at).
	ByCmdline bool

	startTicks uint64
}

// Snapshot is every socat process of the host and the socket tables of
// their network namespaces, read once.
type Snapshot struct {
	Procs   map[int]*Proc
	Tables  map[string]socktable.Table // by network namespace
	Scanned int                        // processes looked at
	Notes   []string                   // what could not be seen
	// HiddenPIDs: /proc hides other users' processes (hidepid).
	HiddenPIDs bool
}

// knownBinaries identifies socat executables on this host by device and
// inode, and by size and content hash, so that a renamed copy or a hard
// link of socat is recognised from its /proc/PID/exe. Hashes are computed
// only when a size matches.
type knownBinaries struct {
	inodes map[[2]uint64]bool
	sizes  map[int64]string // size -> a socat binary of that size
	hashes map[int64][32]byte
	seen   map[[2]uint64]bool // verdicts for other executables
}

func newKnownBinaries() *knownBinaries {
	k := &knownBinaries{inodes: map[[2]uint64]bool{}, sizes: map[int64]string{}, hashes: map[int64][32]byte{}, seen: map[[2]uint64]bool{}}
	cands := []string{"/usr/bin/socat", "/usr/bin/socat1", "/usr/local/bin/socat", "/usr/local/bin/socat1", "/bin/socat"}
	if p, err := exec.LookPath("socat"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		st, err := os.Stat(c)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		k.inodes[[2]uint64{uint64(sys.Dev), sys.Ino}] = true
		k.sizes[st.Size()] = c
	}
	return k
}

func fileHash(p string) ([32]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, err
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// isSocat reports whether /proc/PID/exe is a socat binary under another
// name, and whether the executable could not be looked at (another
// user's process, and we are not root). It costs one stat per process,
// and a hash only when the size matches a known socat.
func (k *knownBinaries) isSocat(pid int) (socat, denied bool) {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	st, err := os.Stat(exe)
	if errors.Is(err, fs.ErrPermission) {
		return false, true
	}
	if len(k.inodes) == 0 || err != nil || !st.Mode().IsRegular() {
		return false, false
	}
	sys := st.Sys().(*syscall.Stat_t)
	key := [2]uint64{uint64(sys.Dev), sys.Ino}
	if k.inodes[key] {
		return true, false
	}
	if v, ok := k.seen[key]; ok {
		return v, false
	}
	v := false
	if ref, ok := k.sizes[st.Size()]; ok {
		want, ok := k.hashes[st.Size()]
		if !ok {
			if h, err := fileHash(ref); err == nil {
				want, ok = h, true
				k.hashes[st.Size()] = h
			}
		}
		if h, err := fileHash(exe); ok && err == nil && h == want {
			v = true
		}
	}
	k.seen[key] = v
	return v, false
}

// Discover finds the socat processes: comm first (one small read per
// process), the executable's identity only for the rest, and everything
// else only for socat processes.
func Discover(ctx context.Context) (*Snapshot, error) {
	pids, err := listPIDs()
	if err != nil {
		return nil, fmt.Errorf("cannot list processes in /proc: %w", err)
	}
	snap := &Snapshot{Procs: map[int]*Proc{}, Tables: map[string]socktable.Table{}}
	known := newKnownBinaries()
	self := os.Getpid()
	for _, pid := range pids {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if int(pid) == self {
			continue
		}
		snap.Scanned++
		// comm is read directly: gopsutil's Name() also reads the whole
		// status file for names of 15 characters (comm's limit), which
		// socat's never reach; that doubled the cost of the scan.
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue // gone meanwhile
		}
		name := strings.TrimSuffix(string(comm), "\n")
		byCmdline := false
		if !socatcmd.IsSocatProgram(name) {
			isSocat, denied := known.isSocat(int(pid))
			if !isSocat && denied {
				// Another user's process whose executable we may not
				// look at: its command line (readable by all) tells a
				// renamed socat (cp socat relayd; ./relayd ...).
				isSocat = socatcmd.LooksLikeSocat(readArgv(int(pid)))
				byCmdline = isSocat
			}
			if !isSocat {
				continue
			}
		}
		if sp := readStat(int(pid), name); sp != nil {
			sp.ByCmdline = byCmdline
			snap.Procs[sp.PID] = sp
		}
	}
	// Instances (parent not socat) get the details; children only what
	// the peers need: their sockets.
	btime := bootTime()
	var gone []int
	for _, sp := range snap.Procs {
		sp.Start = btime.Add(time.Duration(sp.startTicks) * time.Second / clockTicks)
		if inodes, nfds, err := socktable.Inodes(sp.PID); err != nil {
			sp.FDsHidden = true
		} else {
			sp.Inodes, sp.FDs = inodes, nfds
		}
		if _, child := snap.Procs[sp.PPID]; child {
			continue
		}
		readDetails(ctx, sp)
		if len(sp.Argv) == 0 {
			gone = append(gone, sp.PID) // exited while we looked
		}
	}
	for _, pid := range gone {
		delete(snap.Procs, pid)
	}
	renamed := 0
	for _, sp := range snap.Procs {
		if sp.ByCmdline {
			renamed++
		}
	}
	if renamed > 0 {
		snap.Notes = append(snap.Notes, fmt.Sprintf("note: %d socat process(es) recognised by their command line only: a program not named socat whose executable this user may not read (a renamed copy?); run as root to identify the executable", renamed))
	}
	if _, err := os.Stat("/proc/1"); err != nil && os.Geteuid() != 0 {
		snap.HiddenPIDs = true
		snap.Notes = append(snap.Notes, "note: /proc hides other users' processes (mounted with hidepid): only this user's socat instances are seen")
	}
	// One socket table per network namespace of the socat processes.
	ownNS, _ := os.Readlink("/proc/self/ns/net")
	hidden := map[string]bool{}
	for _, sp := range snap.Procs {
		if _, ok := snap.Tables[sp.NetNS]; ok || sp.NetNS == "" {
			continue // seen, or a child (it shares its instance's table)
		}
		var t socktable.Table
		var err error
		if sp.NetNS == ownNS {
			t, err = socktable.ReadOwn()
		} else {
			t, err = socktable.Read(fmt.Sprintf("/proc/%d/net", sp.PID))
		}
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				hidden[sp.NetNS] = true
			}
			continue
		}
		snap.Tables[sp.NetNS] = t
	}
	for ns := range hidden {
		snap.Notes = append(snap.Notes, fmt.Sprintf("the socket table of network namespace %s is not readable", ns))
	}
	return snap, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on every
// Linux architecture; gopsutil assumes the same).
const clockTicks = 100

// readStat reads /proc/PID/stat once: parent, start time and RSS. gopsutil
// would read the file again for each of them.
// readArgv reads /proc/PID/cmdline (NUL-separated), or nil.
func readArgv(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

func readStat(pid int, name string) *Proc {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The comm field is in parentheses and may hold spaces and ')'.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 || end+2 > len(data) {
		return nil
	}
	f := strings.Fields(string(data[end+2:]))
	if len(f) < 22 {
		return nil
	}
	if f[0] == "Z" || f[0] == "X" {
		return nil // a zombie or a dying process: not an instance any more
	}
	sp := &Proc{PID: pid, Comm: name, UID: -1, FDs: -1, Umask: -1}
	sp.PPID, _ = strconv.Atoi(f[1])
	sp.startTicks, _ = strconv.ParseUint(f[19], 10, 64)
	pages, _ := strconv.ParseUint(f[21], 10, 64)
	sp.RSS = pages * uint64(os.Getpagesize())
	return sp
}

// bootTime is the kernel's btime from /proc/stat.
func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(n, 0)
			}
		}
	}
	return time.Time{}
}

// readDetails reads what the audit needs of an instance: its command
// line, user, groups and umask (one read of status), network
// namespace and PATH.
func readDetails(ctx context.Context, sp *Proc) {
	sp.Argv, _ = readCmdline(sp.PID)
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", sp.PID)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields := strings.Fields(val)
			switch key {
			case "Uid":
				if len(fields) > 0 {
					sp.UID, _ = strconv.Atoi(fields[0])
				}
			case "Gid":
				if len(fields) > 0 {
					g, _ := strconv.Atoi(fields[0])
					sp.GIDs = append(sp.GIDs, g)
				}
			case "Groups":
				for _, x := range fields {
					if g, err := strconv.Atoi(x); err == nil {
						sp.GIDs = append(sp.GIDs, g)
					}
				}
			case "Umask":
				if len(fields) > 0 {
					if n, err := strconv.ParseInt(fields[0], 8, 32); err == nil {
						sp.Umask = int(n)
					}
				}
			}
		}
	}
	if sp.UID >= 0 {
		sp.User = strconv.Itoa(sp.UID)
		if u, err := user.LookupId(sp.User); err == nil {
			sp.User = u.Username
		}
	}
	if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sp.PID)); err == nil {
		sp.NetNS = ns
	} else {
		// Another user's namespace link is not readable: read this
		// process's own table rather than guess that it shares one.
		sp.NetNS = fmt.Sprintf("pid:%d", sp.PID)
	}
	if env, err := readEnviron(sp.PID); err == nil {
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				sp.Path = strings.Split(v, ":")
			}
		}
	}
}

// Instance is a socat process whose parent is not socat, with its socat
// descendants as children.
type Instance struct {
	*Proc
	Children []*Proc
}

// Instances groups the snapshot into instances, ordered by PID.
func (s *Snapshot) Instances() []*Instance {
	byPID := map[int]*Instance{}
	var out []*Instance
	for _, p := range s.Procs {
		if _, ok := s.Procs[p.PPID]; !ok {
			in := &Instance{Proc: p}
			byPID[p.PID] = in
			out = append(out, in)
		}
	}
	for _, p := range s.Procs {
		if _, isInstance := byPID[p.PID]; isInstance {
			continue
		}
		root := p
		for i := 0; i < 64; i++ {
			parent, ok := s.Procs[root.PPID]
			if !ok {
				break
			}
			root = parent
		}
		if in, ok := byPID[root.PID]; ok {
			in.Children = append(in.Children, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	for _, in := range out {
		sort.Slice(in.Children, func(i, j int) bool { return in.Children[i].PID < in.Children[j].PID })
	}
	return out
}

// Base is the program name for the output.
func (p *Proc) Base() string {
	if len(p.Argv) > 0 {
		return path.Base(p.Argv[0])
	}
	return p.Comm
}

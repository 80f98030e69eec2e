// Package socktable reads the kernel's socket tables (/proc/PID/net/tcp,
// tcp6, udp, udp6, unix) of one network namespace, so that sockets found
// as "socket:[inode]" in a process's fd directory get their addresses,
// state and owner.
package socktable

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// TCP states as /proc/net/tcp numbers them.
const (
	StateEstablished = 0x01
	StateListen      = 0x0A
	StateClose       = 0x07 // also an unconnected (bound) UDP socket
)

// Socket is one row of a socket table.
type Socket struct {
	Proto  string // tcp, tcp6, udp, udp6, unix
	Local  netip.AddrPort
	Remote netip.AddrPort
	State  int
	UID    int
	Inode  uint64
	Path   string // unix sockets
}

// Listening reports whether the socket accepts connections (TCP LISTEN)
// or datagrams (a bound, unconnected UDP socket).
func (s Socket) Listening() bool {
	switch s.Proto {
	case "tcp", "tcp6":
		return s.State == StateListen
	case "udp", "udp6":
		return s.State == StateClose && s.Remote.Port() == 0
	case "unix":
		return s.State == StateListen
	}
	return false
}

// Table maps socket inodes to sockets.
type Table map[uint64]Socket

// Read reads the tables under dir ("/proc/net", or "/proc/PID/net" for the
// namespace of PID). Missing files (no IPv6) are skipped.
func Read(dir string) (Table, error) {
	t := Table{}
	read := 0
	buf := make([]byte, 0, 256<<10)
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := slurp(dir+"/"+proto, buf)
		if err != nil {
			continue
		}
		if err := parseInet(bytes.NewReader(data), proto, t); err != nil {
			return t, fmt.Errorf("%s/%s: %w", dir, proto, err)
		}
		read++
	}
	if data, err := slurp(dir+"/unix", buf); err == nil {
		_ = parseUnix(bytes.NewReader(data), t)
		read++
	}
	if read == 0 {
		return t, fmt.Errorf("no socket table readable in %s", dir)
	}
	return t, nil
}

// slurp reads a /proc seq file with few, large reads: the kernel walks its
// whole TCP hash table from the start for every read() of
// /proc/net/tcp, so 4 KiB reads cost quadratic time on a big host.
func slurp(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || (err == nil && n == 0) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// ReadOwn reads the tables of this process's network namespace: TCP and
// UDP through sock_diag (falling back to /proc/self/net), UNIX sockets
// from /proc/self/net/unix.
func ReadOwn() (Table, error) {
	t, err := ReadNetlink()
	if err != nil {
		return Read("/proc/self/net")
	}
	if data, err := slurp("/proc/self/net/unix", make([]byte, 0, 64<<10)); err == nil {
		_ = parseUnix(bytes.NewReader(data), t)
	}
	return t, nil
}

func parseInet(r io.Reader, proto string, t Table) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		local, err1 := parseAddr(f[1])
		remote, err2 := parseAddr(f[2])
		st, err3 := strconv.ParseInt(f[3], 16, 32)
		uid, err4 := strconv.Atoi(f[7])
		inode, err5 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || inode == 0 {
			continue
		}
		t[inode] = Socket{Proto: proto, Local: local, Remote: remote, State: int(st), UID: uid, Inode: inode}
	}
	return sc.Err()
}

// parseAddr reads "0100007F:1F90" (IPv4) or the 32-hex-digit IPv6 form;
// the kernel prints each 32-bit word in host (little-endian) order.
func parseAddr(s string) (netip.AddrPort, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func parseUnix(r io.Reader, t Table) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		// Num RefCount Protocol Flags Type St Inode [Path]
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			continue
		}
		// A row starts with the kernel address of the socket. A socket
		// path may hold newlines (the kernel prints it raw), so a forged
		// "row" inside a path must not replace a real entry: rows that do
		// not look like the kernel's are skipped, and unix rows never
		// overwrite a socket already known (TCP and UDP are read first).
		if len(f[0]) < 9 || !strings.HasSuffix(f[0], ":") || !isHex(f[0][:len(f[0])-1]) {
			continue
		}
		flags, _ := strconv.ParseUint(f[3], 16, 32)
		inode, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil || inode == 0 {
			continue
		}
		if _, known := t[inode]; known {
			continue
		}
		s := Socket{Proto: "unix", Inode: inode}
		if flags&0x10000 != 0 { // __SO_ACCEPTCON: a listening socket
			s.State = StateListen
		}
		if len(f) >= 8 {
			s.Path = strings.Join(f[7:], " ")
		}
		t[inode] = s
	}
	return sc.Err()
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// Inodes returns the socket inodes among a process's open files, reading
// /proc/PID/fd. It fails when the fds are not visible (another user's
// process, without privileges).
func Inodes(pid int) ([]uint64, int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	d, err := os.Open(dir)
	if err != nil {
		return nil, -1, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, -1, err
	}
	var out []uint64
	for _, n := range names {
		link, err := os.Readlink(dir + "/" + n)
		if err != nil {
			continue
		}
		if strings.HasPrefix(link, "socket:[") && strings.HasSuffix(link, "]") {
			if ino, err := strconv.ParseUint(link[8:len(link)-1], 10, 64); err == nil {
				out = append(out, ino)
			}
		}
	}
	return out, len(names), nil
}

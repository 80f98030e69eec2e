package testlab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// DiscoLab is the five socat instances that check_socat_procs --discover
// is tested on (issue 15), all on loopback, each tagged "-lp discolab-*"
// (so --match discolab selects them): a relay and a UNIX-socket relay
// sharing one log file, a TLS relay with its own log, a UDP relay, and a
// relay inside a systemd unit's cgroup that logs to stderr (so to the
// unit's journal).
type DiscoLab struct {
	Dir      string
	Relay    *Socat // TCP, -lf Dir/relay.log
	UnixPath string // UNIX-LISTEN, -lf Dir/relay.log
	TLS      *Socat // OPENSSL-LISTEN, cert=Cert, -lf Dir/tls.log
	UDP      *Socat
	Unit     *Socat // in the cgroup of UnitName, when the machine lets us make one
	UnitName string // "" when no cgroup could be made (said in the test log)
	CA, Cert string // the CA that issued the TLS relay's certificate; the certificate with its key
	RelayLog string
	TLSLog   string
}

// StartDiscoLab starts the lab in dir (which the monitoring user must be
// able to read: the engines run the checks as nagios).
func StartDiscoLab(t testing.TB, dir string) *DiscoLab {
	t.Helper()
	l := &DiscoLab{Dir: dir, RelayLog: filepath.Join(dir, "relay.log"), TLSLog: filepath.Join(dir, "tls.log"), UnixPath: filepath.Join(dir, "relay.sock")}
	// Ports as a deployment gives them (not 0): a user who cannot see
	// another user's sockets infers them from the command line's ports.
	port := func(network string) string {
		t.Helper()
		if network == "udp" {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
		}
		c, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return strconv.Itoa(c.Addr().(*net.TCPAddr).Port)
	}
	echo := Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	udpEcho := Start(t, "UDP-LISTEN:0,bind=127.0.0.1,fork", "EXEC:cat")
	l.Relay = StartLogFile(t, l.RelayLog, "-lp", "discolab-relay", "TCP-LISTEN:"+port("tcp")+",bind=127.0.0.1,fork,reuseaddr", "TCP:"+echo.Addr())
	StartLogFile(t, l.RelayLog, "-lp", "discolab-unix", "UNIX-LISTEN:"+l.UnixPath+",fork,mode=666", "TCP:"+echo.Addr())
	ca := NewOpenSSLCA(t)
	l.Cert = ca.Issue(t, Leaf{CN: "localhost", SAN: "DNS:localhost,IP:127.0.0.1"})
	l.CA = filepath.Join(dir, "ca.pem")
	data, err := os.ReadFile(ca.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.CA, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l.TLS = StartLogFile(t, l.TLSLog, "-lp", "discolab-tls", "OPENSSL-LISTEN:"+port("tcp")+",bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+l.Cert, "TCP:"+echo.Addr())
	l.UDP = Start(t, "-lp", "discolab-udp", "UDP-LISTEN:"+port("udp")+",bind=127.0.0.1,fork", "UDP:"+udpEcho.Addr())
	l.Unit = Start(t, "-lp", "discolab-unit", "TCP-LISTEN:"+port("tcp")+",bind=127.0.0.1,fork,reuseaddr", "TCP:"+echo.Addr())
	l.UnitName = fmt.Sprintf("discolab-%d.service", os.Getpid())
	if err := IntoUnitCgroup(t, l.Unit.PID, l.UnitName); err != nil {
		t.Logf("no systemd cgroup for the unit instance (%v): it is discovered without a unit", err)
		l.UnitName = ""
	}
	for _, p := range []string{l.RelayLog, l.TLSLog} {
		_ = os.Chmod(p, 0o644)
	}
	return l
}

// IntoUnitCgroup moves a process into the cgroup systemd gives a system
// service, system.slice/NAME (UnitCgroup).
func IntoUnitCgroup(t testing.TB, pid int, name string) error {
	t.Helper()
	dir, err := UnitCgroup(t, name)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// UnitCgroup makes the cgroup systemd gives a system service,
// system.slice/NAME: in the name=systemd hierarchy of cgroup v1, else in
// the cgroup v2 tree, and returns its directory (write a PID to its
// cgroup.procs). When the test ends the processes still in it are moved
// back to the root cgroup (they may outlive this cleanup: cleanups run
// last-in first-out) and it is removed.
func UnitCgroup(t testing.TB, name string) (string, error) {
	t.Helper()
	var lastErr error
	for _, root := range []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			continue
		}
		slice := filepath.Join(root, "system.slice")
		_, sliceErr := os.Stat(slice)
		dir := filepath.Join(slice, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(func() {
			for range 20 {
				procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
				for _, p := range strings.Fields(string(procs)) {
					_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(p), 0o644)
				}
				if os.Remove(dir) == nil {
					break
				}
			}
			if sliceErr != nil {
				os.Remove(slice)
			}
		})
		return dir, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("no cgroup hierarchy to write in")
	}
	return "", lastErr
}

package testlab

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Real services for the endpoint tests, each started on 127.0.0.1 on a
// free port, in the foreground, stopped by PID when the test ends.

// freePort is a TCP (or UDP) port the kernel just gave and took back: the
// services here cannot report the port of a listen on 0.
func freePort(t testing.TB, udp bool) int {
	t.Helper()
	if udp {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitTCP waits until something accepts on 127.0.0.1:port.
func waitTCP(t testing.TB, s *Socat, what string) {
	t.Helper()
	Eventually(t, 10*time.Second, what+" to listen:\n"+s.Log(), func() bool {
		c, err := net.Dial("tcp", s.Addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// StartRedis runs redis-server without persistence; with a password,
// every command but AUTH gets "-NOAUTH Authentication required.".
func StartRedis(t testing.TB, password string) *Socat {
	t.Helper()
	Need(t, "redis-server")
	port := freePort(t, false)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", t.TempDir(), "--protected-mode", "no"}
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	s := spawn(t, exec.Command("redis-server", args...), true)
	s.Port = port
	waitTCP(t, s, "redis-server")
	return s
}

// StartMemcached runs memcached on TCP only.
func StartMemcached(t testing.TB) *Socat {
	t.Helper()
	Need(t, "memcached")
	port := freePort(t, false)
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	s := spawn(t, exec.Command("memcached", args...), true)
	s.Port = port
	waitTCP(t, s, "memcached")
	return s
}

// StartDnsmasq runs dnsmasq as an authoritative-only resolver on UDP and
// TCP: name resolves to addr, nothing is forwarded.
func StartDnsmasq(t testing.TB, name, addr string) *Socat {
	t.Helper()
	Need(t, "/usr/sbin/dnsmasq")
	port := freePort(t, true)
	dir := t.TempDir()
	args := []string{"-k", "--conf-file=/dev/null", "--port=" + strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces",
		"--no-resolv", "--no-hosts", "--address=/" + name + "/" + addr, "--pid-file=" + filepath.Join(dir, "pid"), "--log-facility=-"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=nobody", "--group=nogroup")
	}
	s := spawn(t, exec.Command("/usr/sbin/dnsmasq", args...), true)
	s.Port = port
	waitTCP(t, s, "dnsmasq") // (it answers on TCP too once it listens)
	return s
}

// StartSSHD runs OpenSSH's sshd in the foreground with a host key of its
// own, for its banner.
func StartSSHD(t testing.TB) *Socat {
	t.Helper()
	Need(t, "/usr/sbin/sshd", "ssh-keygen")
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
	port := freePort(t, false)
	s := spawn(t, exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-h", key, "-p", strconv.Itoa(port),
		"-o", "ListenAddress=127.0.0.1", "-o", "PidFile="+filepath.Join(dir, "pid"), "-o", "UsePAM=no"), true)
	s.Port = port
	waitTCP(t, s, "sshd")
	return s
}

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Real services behind socat relays against their standard peers
// (issue 17): redis and memcached with check_tcp, OpenSSH with
// check_ssh, nginx with check_http, dnsmasq over a UDP relay with
// check_dig.

// proc is a service started for the benchmark, in its own process group.
type proc struct{ cmd *exec.Cmd }

func (p *proc) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	_ = p.cmd.Wait()
}

// startService runs argv and waits until 127.0.0.1:port accepts.
func startService(port int, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) { // polling a condition
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return p, nil
		}
	}
	p.stop()
	return nil, fmt.Errorf("%s did not listen on %d", argv[0], port)
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runs is the number of runs of each program per row: the peers wait
// seconds where a judged answer is late (check_tcp's 2 s on -NOAUTH).
func benchServices(bin, plugins string, runs int, addN func(int, string, string, float64, float64, []string, []string)) error {
	add := func(name, peer string, target, rss float64, o, p []string) { addN(runs, name, peer, target, rss, o, p) }
	endpoint := filepath.Join(bin, "check_socat_endpoint")
	dir, err := os.MkdirTemp("", "bench-services")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	relay := func(args ...string) (string, error) {
		l, err := startSocat(args...)
		if err != nil {
			return "", err
		}
		stops = append(stops, l.stop)
		return l.port, nil
	}

	// redis, with a password: both checks get -NOAUTH.
	redisPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	redis, err := startService(redisPort, "redis-server", "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--requirepass", "bench")
	if err != nil {
		return err
	}
	stops = append(stops, redis.stop)
	rp, err := relay("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=128", "TCP:127.0.0.1:"+strconv.Itoa(redisPort))
	if err != nil {
		return err
	}
	add("services: redis through a relay, -NOAUTH (ours --reject)", "check_tcp", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", rp, "-s", `AUTH wrong\r\nPING\r\n`, "-e", "+PONG", "--reject", "-NOAUTH", "--reject", "-WRONGPASS"},
		[]string{filepath.Join(plugins, "check_tcp"), "-E", "-H", "127.0.0.1", "-p", rp, "-s", `AUTH wrong\r\nPING\r\n`, "-e", "+PONG"})
	add("services: redis through a relay, PONG", "check_tcp", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", rp, "-s", `AUTH bench\r\nPING\r\n`, "-e", "+PONG"},
		[]string{filepath.Join(plugins, "check_tcp"), "-E", "-H", "127.0.0.1", "-p", rp, "-s", `AUTH bench\r\nPING\r\n`, "-e", "+PONG"})

	// memcached: stats, a response the server keeps the connection
	// open after; ours ends it at END (--until).
	mcPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	mcArgs := []string{"memcached", "-l", "127.0.0.1", "-p", strconv.Itoa(mcPort), "-U", "0"}
	if os.Geteuid() == 0 {
		mcArgs = append(mcArgs, "-u", "nobody")
	}
	mc, err := startService(mcPort, mcArgs...)
	if err != nil {
		return err
	}
	stops = append(stops, mc.stop)
	mp, err := relay("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=128", "TCP:127.0.0.1:"+strconv.Itoa(mcPort))
	if err != nil {
		return err
	}
	add("services: memcached stats through a relay (ours --until END)", "check_tcp", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", mp, "-s", `stats\r\n`, "-e", "STAT pid", "--until", `END\r\n`, "--reject", "ERROR"},
		[]string{filepath.Join(plugins, "check_tcp"), "-E", "-H", "127.0.0.1", "-p", mp, "-s", `stats\r\n`, "-e", "STAT pid"})

	// OpenSSH: the banner.
	sshPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	_ = os.MkdirAll("/run/sshd", 0o755)
	sshd, err := startService(sshPort, "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-h", key, "-p", strconv.Itoa(sshPort),
		"-o", "ListenAddress=127.0.0.1", "-o", "PidFile="+filepath.Join(dir, "sshd.pid"), "-o", "UsePAM=no")
	if err != nil {
		return err
	}
	stops = append(stops, sshd.stop)
	sp, err := relay("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=128", "TCP:127.0.0.1:"+strconv.Itoa(sshPort))
	if err != nil {
		return err
	}
	add("services: OpenSSH banner through a relay", "check_ssh", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", sp, "-e", "SSH-2.0-OpenSSH", "--until", `\n`},
		[]string{filepath.Join(plugins, "check_ssh"), "-H", "127.0.0.1", "-p", sp})

	// nginx: the status line.
	httpPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`daemon off; master_process off; pid %[1]s/nginx.pid; error_log stderr crit;
events { worker_connections 256; }
http { access_log off; client_body_temp_path %[1]s/b; proxy_temp_path %[1]s/p; fastcgi_temp_path %[1]s/f; uwsgi_temp_path %[1]s/u; scgi_temp_path %[1]s/s;
server { listen 127.0.0.1:%[2]d; location / { return 200 "ok\n"; } } }
`, dir, httpPort)), 0o600); err != nil {
		return err
	}
	nginx, err := startService(httpPort, "nginx", "-e", "stderr", "-p", dir, "-c", conf)
	if err != nil {
		return err
	}
	stops = append(stops, nginx.stop)
	hp, err := relay("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=128", "TCP:127.0.0.1:"+strconv.Itoa(httpPort))
	if err != nil {
		return err
	}
	add("services: HTTP status through a relay", "check_http", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", hp, "--http-status", "200-299"},
		[]string{filepath.Join(plugins, "check_http"), "-H", "127.0.0.1", "-p", hp, "-e", "200"})

	// dnsmasq behind a UDP relay (-T: the per-client children end).
	dnsPort, err := freeTCPPort() // (dnsmasq takes the same port on UDP and TCP)
	if err != nil {
		return err
	}
	dns, err := startService(dnsPort, "/usr/sbin/dnsmasq", "-k", "--conf-file=/dev/null", "--port="+strconv.Itoa(dnsPort), "--listen-address=127.0.0.1",
		"--bind-interfaces", "--no-resolv", "--no-hosts", "--address=/relay.test/192.0.2.7", "--pid-file="+filepath.Join(dir, "dnsmasq.pid"))
	if err != nil {
		return err
	}
	stops = append(stops, dns.stop)
	up, err := relay("-T", "5", "UDP4-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "UDP4:127.0.0.1:"+strconv.Itoa(dnsPort))
	if err != nil {
		return err
	}
	query := `\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05relay\x04test\x00\x00\x01\x00\x01`
	add("services: DNS over a UDP relay", "check_dig", 1.0, 15,
		[]string{endpoint, "-H", "127.0.0.1", "-p", up, "--udp", "-s", query, "-e", `\xc0\x00\x02\x07`},
		[]string{filepath.Join(plugins, "check_dig"), "-H", "127.0.0.1", "-p", up, "-l", "relay.test", "-a", "192.0.2.7"})
	return nil
}

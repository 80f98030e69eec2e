package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one long-running process this program started (a server, or
// the holder of a network namespace), in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	eof   bool
}

// registry holds every proc started, so that all are stopped at the end
// whatever happens.
type registry struct {
	mu  sync.Mutex
	all []*proc
}

var procs registry

// stop ends the process group by PID: SIGTERM, SIGKILL after 3 s, and
// SIGKILL again for forked children that outlived their parent.
func (p *proc) stop() {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func (r *registry) add(p *proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, p)
}

// stopAll stops every proc, newest first (servers before the namespaces
// they run in).
func (r *registry) stopAll() {
	r.mu.Lock()
	all := append([]*proc(nil), r.all...)
	r.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		all[i].stop()
	}
}

// spawn starts argv in its own process group, collecting its stdout and
// stderr as lines, and registers it.
func spawn(name string, env []string, extra []*os.File, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.ExtraFiles = extra
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	procs.add(p)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r)
		r.Close()
		p.mu.Lock()
		p.eof = true
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// waitLine waits until the process wrote a line matching re.
func (p *proc) waitLine(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	expired := false
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		expired = true
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for seen := 0; ; {
		for ; seen < len(p.lines); seen++ {
			if m := re.FindStringSubmatch(p.lines[seen]); m != nil {
				return m, nil
			}
		}
		if p.eof || expired {
			return nil, fmt.Errorf("%s did not start: %s", p.name, strings.Join(p.lines, "\n"))
		}
		p.cond.Wait()
	}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// server is a started endpoint: its port, and the prefix (nsenter ...)
// that runs a scanner where it listens.
type server struct {
	port   int
	prefix []string
	procs  []*proc
}

func (s *server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
}

var (
	socatListening = regexp.MustCompile(`listening on AF=2 127\.0\.0\.1:(\d+)`)
	sServerAccept  = regexp.MustCompile(`^ACCEPT 127\.0\.0\.1:(\d+)$`)
)

// startSocat runs socat -d -d ARGS with a listen address on
// 127.0.0.1:0 and reads its port from its "listening on" line.
func startSocat(env []string, args ...string) (*server, error) {
	p, err := spawn("socat", env, nil, append([]string{"socat", "-d", "-d"}, args...)...)
	if err != nil {
		return nil, err
	}
	m, err := p.waitLine(socatListening, 10*time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	port, _ := strconv.Atoi(m[1])
	return &server{port: port, procs: []*proc{p}}, nil
}

// startSServer runs openssl s_server -accept 127.0.0.1:0 ARGS.
func startSServer(args ...string) (*server, error) {
	p, err := spawn("openssl s_server", nil, nil, append([]string{"openssl", "s_server", "-accept", "127.0.0.1:0"}, args...)...)
	if err != nil {
		return nil, err
	}
	m, err := p.waitLine(sServerAccept, 10*time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	port, _ := strconv.Atoi(m[1])
	return &server{port: port, procs: []*proc{p}}, nil
}

// startStunnel writes a configuration with accept = 127.0.0.1:0 and
// finds the port the kernel gave it among the process's sockets.
func startStunnel(dir, service string) (*server, error) {
	conf := filepath.Join(dir, "stunnel.conf")
	text := "foreground = yes\npid =\nsyslog = no\n" + service
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	p, err := spawn("stunnel4", nil, nil, "stunnel4", conf)
	if err != nil {
		return nil, err
	}
	port, err := waitListen(p, 10*time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	return &server{port: port, procs: []*proc{p}}, nil
}

// startNginx binds 127.0.0.1:0 here and hands the socket to nginx as an
// inherited one (NGINX="3;", as its binary upgrade does): nginx cannot
// listen on port 0 itself. conf has %d where the port goes.
func startNginx(dir, conf string) (*server, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer l.Close()
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	port := l.Addr().(*net.TCPAddr).Port
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(conf, "PORT", strconv.Itoa(port))), 0o600); err != nil {
		return nil, err
	}
	p, err := spawn("nginx", []string{"NGINX=3;"}, []*os.File{f}, "nginx", "-p", dir, "-c", path, "-e", "stderr")
	if err != nil {
		return nil, err
	}
	if _, err := p.waitLine(regexp.MustCompile(`start worker process \d+`), 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	if !strings.Contains(p.log(), `using inherited sockets from "3;"`) {
		p.stop()
		return nil, fmt.Errorf("nginx did not take the inherited socket:\n%s", p.log())
	}
	return &server{port: port, procs: []*proc{p}}, nil
}

// netns is a network namespace of our own with only a loopback, held by
// a sleeping process: it disappears with it.
type netns struct {
	holder *proc
	prefix []string // nsenter --net=/proc/PID/ns/net
}

func newNetns(ctx context.Context) (*netns, error) {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil, err
	}
	p, err := spawn("netns holder", nil, nil, "unshare", "--net", "--", "sleep", "infinity")
	if err != nil {
		return nil, err
	}
	nsPath := fmt.Sprintf("/proc/%d/ns/net", p.cmd.Process.Pid)
	// unshare execs sleep once the namespace is made: wait for that.
	if err := waitFor(5*time.Second, func() bool {
		l, err := os.Readlink(nsPath)
		return err == nil && l != self
	}); err != nil {
		p.stop()
		return nil, fmt.Errorf("unshare --net: no namespace of its own (root is needed): %s", p.log())
	}
	ns := &netns{holder: p, prefix: []string{"nsenter", "--net=" + nsPath}}
	if out, err := exec.CommandContext(ctx, "nsenter", "--net="+nsPath, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		p.stop()
		return nil, fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	return ns, nil
}

// startGnutls runs gnutls-serv (it binds every address, and has no
// option to bind one) in a namespace of its own, on a fixed port there.
func startGnutls(ctx context.Context, args ...string) (*server, error) {
	ns, err := newNetns(ctx)
	if err != nil {
		return nil, err
	}
	const port = 4433
	argv := append(append(append([]string(nil), ns.prefix...), "gnutls-serv", "-p", strconv.Itoa(port)), args...)
	p, err := spawn("gnutls-serv", nil, nil, argv...)
	if err != nil {
		ns.holder.stop()
		return nil, err
	}
	got, err := waitListen(p, 10*time.Second)
	if err == nil && got != port {
		err = fmt.Errorf("gnutls-serv listens on %d, not %d", got, port)
	}
	if err != nil {
		p.stop()
		ns.holder.stop()
		return nil, err
	}
	return &server{port: port, prefix: ns.prefix, procs: []*proc{ns.holder, p}}, nil
}

// waitListen waits until the process has a listening TCP socket and
// returns its port: the socket inodes among /proc/PID/fd matched with
// the LISTEN rows of /proc/PID/net/tcp and tcp6 (its namespace's).
func waitListen(p *proc, timeout time.Duration) (int, error) {
	pid := p.cmd.Process.Pid
	port := 0
	err := waitFor(timeout, func() bool {
		select {
		case <-p.done:
			return true
		default:
		}
		port = listenPort(pid)
		return port != 0
	})
	if port == 0 {
		if err == nil {
			err = fmt.Errorf("%s exited", p.name)
		}
		return 0, fmt.Errorf("%s does not listen: %v\n%s", p.name, err, p.log())
	}
	return port, nil
}

func listenPort(pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i > 0 {
				if port, err := strconv.ParseUint(f[1][i+1:], 16, 16); err == nil {
					return int(port)
				}
			}
		}
	}
	return 0
}

// waitFor polls cond every 10 ms until it holds: waiting for a
// condition, not sleeping for a guess.
func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", timeout)
		}
		<-tick.C
	}
	return nil
}

// runScanner runs one scanner (under prefix, in a namespace) in its own
// process group, killed with all its children at the deadline or on
// SIGINT: testssl.sh leaves openssl children behind otherwise.
func runScanner(ctx context.Context, timeout time.Duration, prefix, argv, env []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv = append(append([]string(nil), prefix...), argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// Whatever it left in its group goes too.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("%s: %w", argv[0], ctx.Err())
	}
	return out.Bytes(), err
}

func lookPath(p string) (string, error) {
	path, err := exec.LookPath(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, errMissing)
	}
	return path, nil
}

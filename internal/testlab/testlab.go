// Package testlab starts real socat processes for tests: on loopback, on
// ephemeral ports that socat picks itself (port 0, read back from its
// "listening on" line), stopped by PID when the test ends. It also makes a
// private PKI for TLS tests. Only tests import it.
package testlab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Need fails the test when a program the end-to-end tests use is missing.
// `make test` installs them; a missing one is a broken setup, not a skip.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	if testing.Short() {
		// The -short tier (make test-short): unit tests and the binaries
		// on their own, no real socat, openssl or engines.
		t.Skipf("needs %v: not in the -short tier", programs)
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: run `make test`, which installs it, or apt-get install %s", p, p)
		}
	}
}

// Socat is one running socat process.
type Socat struct {
	Cmd  *exec.Cmd
	PID  int
	Port int    // the listen port, when it listens on TCP/UDP
	Path string // the UNIX socket, when it listens on one

	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	done  bool
}

var listening = regexp.MustCompile(`listening on (?:UDP )?AF=(\d+) (?:"([^"]*)"|\[?([0-9a-fA-F:.]+)\]?:(\d+))`)

// Start runs "socat -d -d ARGS..." and waits until it listens. The process
// runs in its own process group and is stopped (group and all, so forked
// children too) when the test ends.
func Start(t testing.TB, args ...string) *Socat {
	t.Helper()
	return StartEnv(t, nil, args...)
}

// StartEnv is Start with extra environment variables (OPENSSL_CONF=...).
func StartEnv(t testing.TB, env []string, args ...string) *Socat {
	t.Helper()
	Need(t, "socat")
	return StartBinary(t, "socat", env, args...)
}

// StartBinary is StartEnv with the socat executable at program: a copy
// of socat under another name.
func StartBinary(t testing.TB, program string, env []string, args ...string) *Socat {
	t.Helper()
	cmd := exec.Command(program, append([]string{"-d", "-d"}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	s, line := launch(t, cmd, listening, false)
	m := listening.FindStringSubmatch(line)
	if m[2] != "" {
		s.Path = m[2]
	} else {
		s.Port, _ = strconv.Atoi(m[4])
	}
	return s
}

var accepting = regexp.MustCompile(`^ACCEPT 127\.0\.0\.1:(\d+)$`)

// StartOpenSSLServer runs "openssl s_server -accept 127.0.0.1:0 ARGS..."
// and waits until it listens: a TLS server for what socat cannot be (one
// that knows SNI names). It serves one connection at a time.
func StartOpenSSLServer(t testing.TB, args ...string) *Socat {
	t.Helper()
	Need(t, "openssl")
	cmd := exec.Command("openssl", append([]string{"s_server", "-accept", "127.0.0.1:0"}, args...)...)
	s, line := launch(t, cmd, accepting, true) // s_server says ACCEPT on stdout
	s.Port, _ = strconv.Atoi(accepting.FindStringSubmatch(line)[1])
	return s
}

// launch starts cmd in its own process group, collects what it writes to
// stderr (and stdout, when asked: socat's stdout may be a relayed
// stream), stops it when the test ends, and waits for a line matching
// ready.
func launch(t testing.TB, cmd *exec.Cmd, ready *regexp.Regexp, stdout bool) (*Socat, string) {
	t.Helper()
	s := spawn(t, cmd, stdout)
	line, ok := s.WaitLine(ready, 10*time.Second)
	if !ok {
		t.Fatalf("%v did not start listening:\n%s", cmd.Args, s.Log())
	}
	return s, line
}

// spawn starts cmd in its own process group, collecting its stderr (and
// stdout, when asked), and stops it when the test ends.
func spawn(t testing.TB, cmd *exec.Cmd, stdout bool) *Socat {
	t.Helper()
	s := &Socat{}
	s.cond = sync.NewCond(&s.mu)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	if stdout {
		cmd.Stdout = w
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	s.Cmd, s.PID = cmd, cmd.Process.Pid
	go func() {
		s.collect(r)
		r.Close()
	}()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Socat) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.mu.Lock()
		s.lines = append(s.lines, sc.Text())
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.done = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// WaitLine waits until socat logged a line matching re and returns it.
func (s *Socat) WaitLine(re *regexp.Regexp, timeout time.Duration) (string, bool) {
	expired := false
	timer := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		expired = true
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := 0
	for {
		for ; seen < len(s.lines); seen++ {
			if re.MatchString(s.lines[seen]) {
				return s.lines[seen], true
			}
		}
		if s.done || expired {
			return "", false
		}
		s.cond.Wait()
	}
}

// Log returns what socat logged so far.
func (s *Socat) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// Addr is "127.0.0.1:PORT".
func (s *Socat) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Stop ends the process group by PID: SIGTERM, then SIGKILL if it lingers
// (socat's fork children do not end with their listener).
func (s *Socat) Stop() {
	if s.Cmd == nil || s.Cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.PID, syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { _ = s.Cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-s.PID, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(-s.PID, syscall.SIGKILL) // leftover children
}

// Script writes an executable shell script into dir and returns its path,
// for EXEC: backends that misbehave on purpose.
func Script(t testing.TB, dir, name, body string) string {
	t.Helper()
	path := dir + "/" + name
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Eventually polls cond until it is true or the timeout passes: waiting
// for a condition, not sleeping for a guess.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// StartLogFile runs "socat -d -d -lf LOG ARGS..." (socat writes its own
// log file, as in production) and waits until the file says it listens.
// Extra global options (-d, -lu...) go in front of the addresses in args.
func StartLogFile(t testing.TB, log string, args ...string) *Socat {
	t.Helper()
	Need(t, "socat")
	// The log may be shared: this socat's line is the first one after
	// those already there.
	before, _ := os.ReadFile(log)
	n := len(listening.FindAllStringSubmatch(string(before), -1))
	s := spawn(t, exec.Command("socat", append([]string{"-d", "-d", "-lf", log}, args...)...), false)
	var m []string
	Eventually(t, 10*time.Second, "socat to log that it listens", func() bool {
		data, _ := os.ReadFile(log)
		all := listening.FindAllStringSubmatch(string(data), -1)
		if len(all) > n {
			m = all[n]
		}
		return m != nil
	})
	if m[2] != "" {
		s.Path = m[2]
	} else {
		s.Port, _ = strconv.Atoi(m[4])
	}
	return s
}

// CountLines returns how many lines of the file match re.
func CountLines(path string, re *regexp.Regexp) int {
	data, _ := os.ReadFile(path)
	return len(re.FindAllIndex(data, -1))
}

// MustRun runs a command the test needs (ip netns ...), failing the test
// with its output if it fails.
func MustRun(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// StartInNetns starts a program in a network namespace the test made and
// stops it by PID (its process group) at the end; it returns the PID of
// the program itself (ip netns exec execs it).
func StartInNetns(t testing.TB, ns string, args ...string) int {
	t.Helper()
	Need(t, "ip")
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

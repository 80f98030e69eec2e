package socatcmd

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// socat itself is the judge of which options an address type takes: it
// refuses the others at start ("parseopts_table(): option ... not
// supported with this address type"). Each address type below is run
// with each option by the real socat (on loopback, ephemeral ports, a
// temporary directory; the options are ones that do nothing harmful when
// socat accepts them), and its verdict must be Inapplicable's.
func TestOptionGroupsAgainstSocat(t *testing.T) {
	socat, err := exec.LookPath("socat")
	if err != nil {
		if testing.Short() {
			t.Skip("socat is not installed")
		}
		t.Fatal("socat is not installed")
	}
	if testing.Short() {
		t.Skip("runs socat a few hundred times")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := []string{
		"TCP-LISTEN:0,bind=127.0.0.1",
		"TCP4:127.0.0.1:1",
		"UDP4-RECVFROM:0,bind=127.0.0.1",
		"UNIX-LISTEN:" + filepath.Join(dir, "s%d"),
		"UNIX-CONNECT:" + filepath.Join(dir, "nosocket"),
		"OPEN:" + file,
		"EXEC:/bin/true",
		"SYSTEM:true",
		"PTY",
		"PIPE",
		"OPENSSL-LISTEN:0,bind=127.0.0.1,cert=/nonexistent",
	}
	options := []string{"crnl", "nonblock", "cloexec", "reuseaddr", "keepalive", "nodelay", "b115200", "raw", "echo=0",
		"ignoreeof", "fork", "max-children=1", "range=127.0.0.1/32", "tcpwrap=socattest", "verify=0", "cafile=/nonexistent",
		"connect-timeout=1", "retry=1", "interval=1", "backlog=5", "sndbuf=8192", "rcvbuf=8192", "ttl=64", "pf=ip4",
		"setsid", "stderr", "nofork", "sigint", "sane", "rdonly", "append", "seek=0", "shut-none", "readbytes=10",
		"null-eof", "broadcast", "so-timestamp", "commonname=x", "pty", "ctty", "lowport", "sourceport=0", "mss=1000"}
	type job struct {
		addr, opt string
		n         int
	}
	jobs := make(chan job)
	var mu sync.Mutex
	checked, refused := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				arg := strings.Replace(j.addr, "%d", strconv.Itoa(j.n), 1) + "," + j.opt
				c, err := ParseCommandLine("socat " + arg + " STDIO")
				if err != nil {
					t.Errorf("%s: does not parse: %v", arg, err)
					continue
				}
				ours := len(c.Singles()[0].Inapplicable()) > 0
				theirs := socatRefusesOption(t, socat, arg)
				mu.Lock()
				checked++
				if theirs {
					refused++
				}
				mu.Unlock()
				if ours != theirs {
					t.Errorf("%s: socat refuses it: %v; Inapplicable says %v", arg, theirs, ours)
				}
			}
		}()
	}
	n := 0
	for _, a := range addrs {
		for _, o := range options {
			jobs <- job{a, o, n}
			n++
		}
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d address/option pairs checked against socat, %d refused by it", checked, refused)
	if refused < checked/4 || refused > checked*3/4 {
		t.Errorf("socat refused %d of %d pairs: the sample should hold both kinds", refused, checked)
	}
}

// socatRefusesOption runs socat -d -d ADDR STDIO (stdin /dev/null) until
// it exits, logs that it listens, or 3 s pass (a loaded machine starts
// socat slowly; a refusal comes first thing), and reports
// whether it refused an option of the address type.
func socatRefusesOption(t *testing.T, socat, addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, socat, "-d", "-d", addr, "STDIO")
	cmd.Dir = t.TempDir()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	refused := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "not supported with this address type") {
			refused = true
		}
		if strings.Contains(line, " N listening on") || strings.Contains(line, "receiving on") {
			break // accepted: it is waiting for a peer
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return refused
}

// The same oracle for the types and options only socat 1.8 has, judged
// by 1.8.0.3's table: it needs a socat 1.8 (SOCAT18=/path/to/socat1.8;
// Debian bookworm packages 1.7.4.4, so CI skips it).
func TestOptionGroups18AgainstSocat(t *testing.T) {
	socat := os.Getenv("SOCAT18")
	if socat == "" {
		t.Skip("SOCAT18 is not set: no socat 1.8 to ask")
	}
	addrs := []string{"SHELL:true", "SOCKS5-CONNECT:127.0.0.1:1:x:1", "UDPLITE4-LISTEN:0,bind=127.0.0.1", "ACCEPT-FD:99",
		"TCP-LISTEN:0,bind=127.0.0.1", "EXEC:/bin/true"}
	options := []string{"posixmq-priority", "bind-tmpname", "socks5-username=x", "socks5-password=x", "crnl", "fork",
		"max-children=1", "range=127.0.0.1/32", "nodelay", "b115200", "raw", "setsid", "pty", "retrieve-vlan"}
	checked, refused := 0, 0
	for _, a := range addrs {
		for _, o := range options {
			arg := a + "," + o
			c, err := ParseCommandLine("socat " + arg + " STDIO")
			if err != nil {
				continue
			}
			s := c.Singles()[0]
			d := lookupTables().options[s.Options[len(s.Options)-1].Canon]
			if !s.def.v18 && (d == nil || !d.v18) {
				continue // 1.7.4's pairs are the other test's
			}
			ours := len(s.Inapplicable()) > 0
			theirs := socatRefusesOption(t, socat, arg)
			checked++
			if theirs {
				refused++
			}
			if ours != theirs {
				t.Errorf("%s: socat 1.8 refuses it: %v; Inapplicable says %v", arg, theirs, ours)
			}
		}
	}
	t.Logf("%d 1.8 address/option pairs checked against %s, %d refused", checked, socat, refused)
}

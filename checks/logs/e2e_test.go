package logs

import (
	"bufio"
	"crypto/tls"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/state"
	"github.com/check-socat/check-socat/internal/testlab"
)

const listen = "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr"

// waitLines waits until the log holds n lines matching re.
func waitLines(t *testing.T, log string, re string, n int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	testlab.Eventually(t, 10*time.Second, "socat to log "+re, func() bool { return testlab.CountLines(log, rx) >= n })
}

func echoOnce(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo: %q %v", line, err)
	}
}

// connectAndClose opens a connection and waits for the server to close
// it (refused by range=, or its backend is down).
func connectAndClose(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Read(make([]byte, 1))
}

func noState(t *testing.T, log string) Config {
	cfg := baseConfig(t, log)
	cfg.NoState = true
	return cfg
}

// Logs that real socat processes write with -lf, for traffic whose
// effects are known, and the counts the check makes of them.
func TestRealSocatLogs(t *testing.T) {
	dir := t.TempDir()
	echo := testlab.Start(t, listen, "EXEC:cat")

	t.Run("relay to echo, then SIGTERM", func(t *testing.T) {
		log := filepath.Join(dir, "relay.log")
		relay := testlab.StartLogFile(t, log, listen, "TCP:"+echo.Addr())
		for range 3 {
			echoOnce(t, relay.Addr())
		}
		waitLines(t, log, `N accepting connection from`, 3)
		r := run(t, noState(t, log))
		if r.State != state.OK || perf(r, "accepted") != 3 || perf(r, "error") != 0 {
			t.Errorf("relay:\n%s", dump(r))
		}
		// The listener ends: one service exit, CRITICAL.
		if err := syscall.Kill(relay.PID, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitLines(t, log, `W exiting on signal 15`, 1)
		r = run(t, noState(t, log))
		if r.State != state.Critical || perf(r, "exit") != 1 || !strings.HasPrefix(r.Summary, "1 service exit in ") {
			t.Errorf("SIGTERM:\n%s", dump(r))
		}
	})

	t.Run("range refusals", func(t *testing.T) {
		log := filepath.Join(dir, "range.log")
		srv := testlab.StartLogFile(t, log, listen+",range=10.0.0.0/8", "EXEC:cat")
		for range 2 {
			connectAndClose(t, srv.Addr())
		}
		waitLines(t, log, `W refusing connection from .* due to range option`, 2)
		r := run(t, noState(t, log))
		// socat accepts, then checks range=: both are counted.
		if r.State != state.Warning || perf(r, "refused") != 2 || perf(r, "accepted") != 2 {
			t.Errorf("range:\n%s", dump(r))
		}
	})

	t.Run("dead backend", func(t *testing.T) {
		log := filepath.Join(dir, "dead.log")
		gone := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1", "STDIO")
		port := gone.Port
		gone.Stop()
		srv := testlab.StartLogFile(t, log, listen, "TCP:127.0.0.1:"+strconv.Itoa(port))
		for range 2 {
			connectAndClose(t, srv.Addr())
		}
		waitLines(t, log, `E connect\(.*Connection refused`, 2)
		r := run(t, noState(t, log))
		// Each child's E line is one failed connection, not a service
		// exit: WARNING, not CRITICAL.
		if r.State != state.Warning || perf(r, "backend_failure") != 2 || perf(r, "accepted") != 2 || perf(r, "exit") != 0 {
			t.Errorf("dead backend:\n%s", dump(r))
		}
	})

	t.Run("TLS listener: plaintext and certificate-less clients", func(t *testing.T) {
		pki := testlab.NewPKI(t)
		log := filepath.Join(dir, "tls.log")
		srv := testlab.StartLogFile(t, log, "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,cafile="+pki.CA+",cert="+pki.ServerCert, "EXEC:cat")
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		_, _ = c.Read(make([]byte, 64))
		c.Close()
		tc, err := tls.Dial("tcp", srv.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test client
		if err == nil {
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = tc.Read(make([]byte, 1)) // TLS 1.3: rejected after the handshake
			tc.Close()
		}
		waitLines(t, log, `E SSL_accept\(\)`, 2)
		r := run(t, noState(t, log))
		if r.State != state.Warning || perf(r, "tls_failure") != 2 || perf(r, "error") != 2 {
			t.Errorf("TLS:\n%s", dump(r))
		}
	})

	t.Run("max-children and -T", func(t *testing.T) {
		log := filepath.Join(dir, "capacity.log")
		srv := testlab.StartLogFile(t, log, "-T", "0.5", listen+",max-children=1", "EXEC:cat")
		held, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		waitLines(t, log, `forked off child process`, 1)
		second, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		waitLines(t, log, `maxchildren are active`, 1)
		// The held connection is idle: -T 0.5 ends it.
		waitLines(t, log, `inactivity timeout triggered`, 1)
		r := run(t, noState(t, log))
		if perf(r, "capacity") < 1 || perf(r, "timeout") < 1 || r.State != state.OK {
			t.Errorf("capacity and timeout:\n%s", dump(r))
		}
	})
}

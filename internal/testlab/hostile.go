package testlab

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Hostile serves each connection with behave on 127.0.0.1 (a Go server
// written for the purpose: a peer that misbehaves on cue) and returns its
// port. Connections and the listener close when the test ends.
func Hostile(t testing.TB, behave func(c net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				behave(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().(*net.TCPAddr).Port
}

// Reset closes c with a TCP reset (SO_LINGER 0).
func Reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// Run is one run of a binary: exit code, stdout, wall time and peak RSS.
type Run struct {
	Code   int
	Out    string
	Took   time.Duration
	RSSKiB int64
}

// RunMeasured runs a binary under GNU time (for its own peak RSS: Go's
// rusage of a child includes the parent's memory) and returns the run.
func RunMeasured(t testing.TB, argv ...string) Run {
	t.Helper()
	Need(t, "/usr/bin/time")
	f, err := os.CreateTemp("", "rss")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f.Name(), "--"}, argv...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	err = cmd.Run()
	r := Run{Out: out.String(), Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", argv, err)
	}
	data, _ := os.ReadFile(f.Name())
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	r.RSSKiB, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
	return r
}

// Nobody is the credential of the unprivileged user the engines run
// checks as (nobody here), or nil when the tests do not run as root.
func Nobody() *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	return &syscall.Credential{Uid: 65534, Gid: 65534}
}

// Concurrently starts n runs of argv at once (as cred when not nil), as a
// busy scheduler would, and returns them when all ended.
func Concurrently(t testing.TB, n int, cred *syscall.Credential, argv ...string) []Run {
	t.Helper()
	runs := make([]Run, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(argv[0], argv[1:]...)
			if cred != nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			}
			var out bytes.Buffer
			cmd.Stdout = &out
			start := time.Now()
			err := cmd.Run()
			runs[i] = Run{Out: out.String(), Took: time.Since(start)}
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee):
				runs[i].Code = ee.ExitCode()
			default:
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
	}
	return runs
}

// ReadableCopy copies a file into a directory every user can read, for
// runs as an unprivileged user (t.TempDir is private).
func ReadableCopy(t testing.TB, path string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "readable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := dir + "/" + filepathBase(path)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func filepathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

package testlab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PluginRun is one run of a plugin binary, as a user sees it.
type PluginRun struct {
	Code     int
	Out, Err string
	Took     time.Duration
}

// First is the first line of the output.
func (r PluginRun) First() string { return strings.SplitN(r.Out, "\n", 2)[0] }

var perfItem = regexp.MustCompile(`(?:^| )'?([a-z0-9_]+)'?=([-0-9.]+)`)

// Perf is the value of a perfdata item of the first line, and whether
// there is one.
func (r PluginRun) Perf(label string) (float64, bool) {
	parts := strings.SplitN(r.First(), " | ", 2)
	if len(parts) < 2 {
		return 0, false
	}
	for _, m := range perfItem.FindAllStringSubmatch(parts[1], -1) {
		if m[1] == label {
			v, err := strconv.ParseFloat(m[2], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// PluginOptions change how RunPlugin runs the binary.
type PluginOptions struct {
	Stdin io.Reader
	// Credential runs the binary as another user (the test runs as root).
	Credential *syscall.Credential
	// FDLimit runs the binary under ulimit -n FDLimit (through bash).
	FDLimit int
	// Signal is sent to the binary as soon as When(pid) holds (polled;
	// When nil: at once); 0 sends nothing.
	Signal syscall.Signal
	When   func(pid int) bool
	// Env is added to the binary's environment (PATH=...).
	Env []string
}

// RunPlugin runs bin with args and fails the test when the exit code is
// not a plugin's (0-3) or the binary cannot run.
func RunPlugin(t testing.TB, bin string, o PluginOptions, args ...string) PluginRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if o.FDLimit > 0 {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd = exec.Command("bash", "-c", fmt.Sprintf("ulimit -n %d && exec '%s' %s", o.FDLimit, bin, strings.Join(quoted, " ")))
	}
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, o.Stdin
	if o.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.Credential}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	if o.Signal != 0 {
		pid := cmd.Process.Pid
		go func() {
			for o.When != nil && !o.When(pid) {
				time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time
			}
			_ = cmd.Process.Signal(o.Signal)
		}()
	}
	err := cmd.Wait()
	r := PluginRun{Out: out.String(), Err: errb.String(), Took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	if r.Code < 0 || r.Code > 3 {
		t.Fatalf("%s %v: exit %d is not a plugin exit code:\n%s\nstderr:\n%s", bin, args, r.Code, r.Out, r.Err)
	}
	return r
}

// HoldsFile reports whether process pid has a file open whose path
// contains sub (a socket: "socket:").
func HoldsFile(pid int, sub string) bool {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// LowFDLimits runs bin with args under ulimit -n 4 to 12. Up to 6 every
// run must end in exit 3 with "UNKNOWN: out of file descriptors (ulimit
// -n N)" and nothing on stderr, never the Go runtime's exit 2 and
// goroutine dump; above, where the check starts and may run out later,
// the same words when it is UNKNOWN, and never anything on stderr.
func LowFDLimits(t *testing.T, bin string, args ...string) {
	t.Helper()
	for n := 4; n <= 12; n++ {
		r := RunPlugin(t, bin, PluginOptions{FDLimit: n}, args...)
		want := fmt.Sprintf("UNKNOWN: out of file descriptors (ulimit -n %d)", n)
		switch {
		case r.Err != "":
			t.Errorf("ulimit -n %d: exit %d, stderr:\n%.500s", n, r.Code, r.Err)
		case n <= 6 && (r.Code != 3 || !strings.HasPrefix(r.Out, want) || strings.Count(r.Out, "\n") != 1):
			t.Errorf("ulimit -n %d: exit %d, want 3 and %q:\n%s", n, r.Code, want, r.Out)
		case r.Code == 3 && !strings.Contains(r.Out, "out of file descriptors (ulimit -n "):
			t.Errorf("ulimit -n %d: UNKNOWN for another reason than the limit:\n%s", n, r.Out)
		}
	}
}

// BlockedInPipeRead reports whether a thread of process pid waits in a
// read from a pipe (its stdin, say): the kernel's wchan says so.
func BlockedInPipeRead(pid int) bool {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		w, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, task.Name()))
		if err == nil && strings.Contains(string(w), "pipe_read") {
			return true
		}
	}
	return false
}

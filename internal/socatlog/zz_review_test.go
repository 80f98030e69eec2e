package socatlog

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
)

func j(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// A: after the fork of an ignored peer's child, the listener's own lines
// (capacity wait, SIGCHLD reports of other children) are hidden.
func TestReviewPendingAfterFork(t *testing.T) {
	log := j(
		"2026/11/26 06:24:00 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] N accepting connection from AF=2 192.0.2.9:40000 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] N forked off child process 12",
		"2026/11/26 06:24:01 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[10] N accepting connection from AF=2 127.0.0.1:50000 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[10] N forked off child process 11",
		"2026/11/26 06:24:02 socat[10] N maxchildren are active, waiting",
		"2026/11/26 06:24:03 socat[12] E connect(5, AF=2 10.0.0.9:80, 16): Connection refused",
		"2026/11/26 06:24:03 socat[10] W waitpid(): child 12 exited with status 1",
		"2026/11/26 06:24:04 socat[10] N listening on AF=2 0.0.0.0:443",
	)
	tr := NewTracker([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Memory{})
	got, tally := counts(t, log, tr)
	t.Logf("got %q peer=%d", got, tally.Peer)
	if want := "error=1 warning=1 backend_failure=1 capacity=1 accepted=1"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// B: an EXEC program's PID (forked, never logs its end) later reused by a
// new listener: its listening is taken for a child's bind, its exit lost.
func TestReviewExecChildPIDReusedByListener(t *testing.T) {
	run1 := j(
		"2026/11/26 06:24:04 socat[100] N listening on AF=2 127.0.0.1:21001",
		"2026/11/26 06:24:05 socat[100] N accepting connection from AF=2 127.0.0.1:48880 on AF=2 127.0.0.1:21001",
		"2026/11/26 06:24:05 socat[100] N forked off child process 101",
		"2026/11/26 06:24:05 socat[100] N listening on AF=2 127.0.0.1:21001",
		"2026/11/26 06:24:05 socat[101] N forked off child process 102",
		"2026/11/26 06:24:05 socat[101] N forked off child process 102",
		"2026/11/26 06:24:05 socat[102] N execvp'ing \"/bin/cat\"",
		"2026/11/26 06:24:05 socat[101] N exiting with status 0",
		"2026/11/26 06:24:06 socat[100] W exiting on signal 15",
		"2026/11/26 06:24:06 socat[100] N exit(143)",
	)
	run2 := j(
		// the service restarted much later; PIDs wrapped: it got 102
		"2026/11/27 06:24:04 socat[102] N listening on AF=2 127.0.0.1:21001",
		"2026/11/27 07:24:06 socat[102] W exiting on signal 15",
		"2026/11/27 07:24:06 socat[102] N exit(143)",
	)
	got, _ := counts(t, run1+run2, nil)
	t.Logf("one run: %s", got)
	if !strings.Contains(got, "exit=2") {
		t.Errorf("one run: %s, want exit=2", got)
	}
	tr := NewTracker(nil, Memory{})
	counts(t, run1, tr)
	next := NewTracker(nil, tr.Memory())
	got, _ = counts(t, run2, next)
	t.Logf("next run: %s (memory %+v)", got, tr.Memory())
	if !strings.Contains(got, "exit=1") {
		t.Errorf("next run: %s, want exit=1", got)
	}
}

type cancelReader struct {
	parts  []string
	cancel func()
	at     int
}

func (r *cancelReader) Read(p []byte) (int, error) {
	if r.at >= len(r.parts) {
		return 0, io.EOF
	}
	n := copy(p, r.parts[r.at])
	r.at++
	if r.at == len(r.parts) {
		r.cancel()
	}
	return n, nil
}

// D: a cut line whose newline was consumed is lost when the deadline
// comes while the next line is being skipped too.
func TestReviewCutLostOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	long := strings.Repeat("x", 70<<10)
	r := &cancelReader{cancel: cancel, parts: []string{long, "\n" + long}}
	o := &Options{}
	tally, used, err := o.ScanReader(ctx, r, false, nil)
	t.Logf("err=%v used=%d lines=%d cut=%d", err, used, tally.Lines, tally.Cut)
	if used > 0 && tally.Lines == 0 {
		t.Errorf("consumed %d bytes (a whole cut line) but counted %d lines", used, tally.Lines)
	}
}

func TestReviewFindRecordForeign(t *testing.T) {
	for _, s := range []string{
		"web-1  | myapp[12]: I will retry in 5s",
		"app-1 | worker[3] W connection pool exhausted",
		"+ arr[0] E is set",
		"2024/11/26 06:26:52 request handler[3] E upstream failed",
		"Nov 26 06:26:52 host myapp[123]: E something bad happened",
		"Nov 26 06:26:52 host kernel: [ 12.345] audit[1] E x",
		"db-1  | 2024-11-26 06:26:52.123 UTC [1] LOG: database system is ready",
		"2024/11/26 06:26:52 [error] 123#0: *1 connect() failed (111: Connection refused)",
		"proxy-1 | haproxy[7]: 10.0.0.1:5000 [26/Nov/2024:06:26:52.123] fe be/srv 0/0/1/2/3 503",
		"CI | step[2] F ailed: exit 1",
		"ERROR: matrix[1] F is singular",
		"sensor[2] W =12.5 degrees",
		"frame[0] D 0x7fff1234",
	} {
		var l Line
		ok := Parse([]byte(s), &l)
		if ok {
			c := Classify(&l)
			fmt.Printf("FP %-70q prog=%q pid=%d lvl=%c set=%b\n", s, l.Prog, l.PID, l.Level, c.Set)
		}
	}
}

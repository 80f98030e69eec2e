package socatlog

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The real logs in testdata (captured from socat 1.7.4.4; lines starting
// with ### are annotations, counted as unparsed) and what an operator
// reads in them.
func TestSamples(t *testing.T) {
	tests := []struct {
		file string
		want string // categories with a count, in order
	}{
		{"a_fork_relay_ok.dd.log", "warning=2 accepted=2 exit=2"},
		{"b_backend_refused.dd.log", "error=1 warning=2 backend_failure=1 accepted=1 exit=1"},
		{"c_range_reject.dd.log", "warning=5 refused=2 accepted=3 exit=3"},
		{"d1_tls_listen_no_client_cert.dd.log", "error=1 warning=2 tls_failure=1 accepted=1 exit=1"},
		{"e1_tls_client_verify_selfsigned.dd.log", "error=4 warning=1 tls_failure=4 accepted=2 exit=1"},
		{"fmt_combo_lu_lh_lp.log", "error=1 warning=1 backend_failure=1"},
		{"fmt_level_d2.log", "error=1 warning=1 backend_failure=1"},
		{"fmt_lf.log", "error=2 warning=2 backend_failure=2"},
		{"fmt_lh.log", "error=2 warning=2 backend_failure=2"},
		{"fmt_lp.log", "error=1 warning=1 backend_failure=1"},
		{"fmt_lu.log", "error=1 warning=1 backend_failure=1"},
		// -ly: three failed connects (one from a listener's child), one
		// listener stopped by SIGTERM.
		{"fmt_syslog_datagrams.log", "error=3 warning=4 backend_failure=3 accepted=1 exit=1"},
		// Five listeners end by SIGTERM, SIGINT, SIGHUP; a child killed
		// by SIGTERM is not an exit of the service.
		{"j_signals.dd.log", "warning=4 accepted=2 exit=5"},
		{"k1_tls_expired_server_cert.dd.log", "error=2 warning=1 tls_failure=2 accepted=1 exit=1"},
		// Two binds on a taken port and a UNIX socket that exists: three
		// services that fail to start; two listeners stopped.
		{"l_addr_in_use.dd.log", "error=3 warning=2 exit=5"},
	}
	for _, tt := range tests {
		f, err := os.Open(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		o := &Options{Show: 2}
		tally, _, err := o.ScanReader(context.Background(), f, true, nil)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for c := Category(0); c < NumCategories; c++ {
			if tally.Count[c] > 0 {
				got = append(got, fmt.Sprintf("%s=%d", c, tally.Count[c]))
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %s, want %s", tt.file, strings.Join(got, " "), tt.want)
		}
	}
}

// Every stamp a parsed line can carry reads as a time, so that --since
// judges it: journalctl's short-iso zone (+0000) and short-precise
// fractions included.
func TestStampTimes(t *testing.T) {
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		line string
		want time.Time
	}{
		{"2026/11/27 13:51:49 socat[1] E x", time.Date(2026, 11, 27, 13, 51, 49, 0, time.UTC)},
		{"Nov 27 13:51:49 vm socat[1]: E x", time.Date(2026, 11, 27, 13, 51, 49, 0, time.UTC)},
		{"Nov 27 13:51:49.728806 vm socat[1]: E x", time.Date(2026, 11, 27, 13, 51, 49, 728806000, time.UTC)},
		{"2026-11-27T13:51:49+0000 vm socat[1]: E x", time.Date(2026, 11, 27, 13, 51, 49, 0, time.UTC)},
		{"2026-11-27T14:51:49.5+01:00 vm socat[1]: E x", time.Date(2026, 11, 27, 13, 51, 49, 500000000, time.UTC)},
	} {
		var l Line
		if !Parse([]byte(tt.line), &l) {
			t.Errorf("%q does not parse", tt.line)
			continue
		}
		if got, ok := l.Time(time.UTC, now); !ok || !got.Equal(tt.want) {
			t.Errorf("%q: time %v, %v; want %v", tt.line, got, ok, tt.want)
		}
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		line                   string
		ok                     bool
		host, prog, msg, stamp string
		pid                    int
		level                  byte
	}{
		{line: "2026/11/26 06:24:48 socat[27274] N listening on AF=2 127.0.0.1:21092", ok: true, prog: "socat", pid: 27274, level: 'N',
			msg: "listening on AF=2 127.0.0.1:21092", stamp: "2026/11/26 06:24:48"},
		{line: "2026/11/26 06:26:44.309808 vm relay-A[4982] E connect(5, AF=2 127.0.0.1:22001, 16): Connection refused", ok: true,
			host: "vm", prog: "relay-A", pid: 4982, level: 'E', msg: "connect(5, AF=2 127.0.0.1:22001, 16): Connection refused", stamp: "2026/11/26 06:26:44.309808"},
		{line: "<27>Nov 26 06:26:53 socat[5458]: E connect(5, AF=2 127.0.0.1:22101, 16): Connection refused", ok: true,
			prog: "socat", pid: 5458, level: 'E', msg: "connect(5, AF=2 127.0.0.1:22101, 16): Connection refused", stamp: "Nov 26 06:26:53"},
		// rsyslog's file format, with host, RFC 3164 and RFC 3339 stamps.
		{line: "Nov  6 06:26:53 relay01 socat[5458]: W exiting on signal 15", ok: true,
			host: "relay01", prog: "socat", pid: 5458, level: 'W', msg: "exiting on signal 15", stamp: "Nov  6 06:26:53"},
		{line: "2026-11-26T06:26:53.123456+01:00 relay01 socat[5458]: N exit(143)", ok: true,
			host: "relay01", prog: "socat", pid: 5458, level: 'N', msg: "exit(143)", stamp: "2026-11-26T06:26:53.123456+01:00"},
		// RFC 5424 (rsyslog's RSYSLOG_SyslogProtocol23Format), with and
		// without structured data.
		{line: "<27>1 2026-11-27T13:51:49.728806+00:00 vm socat 5441 - - E connect(5, AF=2 127.0.0.1:1, 16): Connection refused", ok: true,
			host: "vm", prog: "socat", pid: 5441, level: 'E', msg: "connect(5, AF=2 127.0.0.1:1, 16): Connection refused", stamp: "2026-11-27T13:51:49.728806+00:00"},
		{line: `<27>1 2026-11-27T13:51:49Z vm socat 5441 ID47 [origin ip="10.0.0.1" x="a] b"] W exiting on signal 15`, ok: true,
			host: "vm", prog: "socat", pid: 5441, level: 'W', msg: "exiting on signal 15", stamp: "2026-11-27T13:51:49Z"},
		{line: "<27>1 - - sshd 12 - - Accepted publickey"},
		// journalctl -o short-precise and -o short-iso.
		{line: "Nov 27 13:51:49.728806 vm socat[4242]: E connect(5, AF=2 127.0.0.1:1, 16): Connection refused", ok: true,
			host: "vm", prog: "socat", pid: 4242, level: 'E', msg: "connect(5, AF=2 127.0.0.1:1, 16): Connection refused", stamp: "Nov 27 13:51:49.728806"},
		{line: "2026-11-27T13:51:49+0000 vm socat[4242]: E connect(5, AF=2 127.0.0.1:1, 16): Connection refused", ok: true,
			host: "vm", prog: "socat", pid: 4242, level: 'E', msg: "connect(5, AF=2 127.0.0.1:1, 16): Connection refused", stamp: "2026-11-27T13:51:49+0000"},
		// The journal's text output of a service's stderr: the whole socat
		// line, with the PID that wrote it.
		{line: "Nov 26 06:26:53 relay01 socat[100]: 2026/11/26 06:26:53 socat[101] E SSL_accept(): error:0A00010B:SSL routines::wrong version number", ok: true,
			host: "relay01", prog: "socat", pid: 101, level: 'E', msg: "SSL_accept(): error:0A00010B:SSL routines::wrong version number", stamp: "2026/11/26 06:26:53"},
		// Journal JSON, a plain message and an embedded line; a message
		// that is not UTF-8 comes as an array of bytes.
		{line: `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1764138413000000","_PID":"77","SYSLOG_IDENTIFIER":"socat","MESSAGE":"E connect(5, AF=2 127.0.0.1:1, 16): Connection refused"}`, ok: true,
			prog: "socat", pid: 77, level: 'E', msg: "connect(5, AF=2 127.0.0.1:1, 16): Connection refused"},
		{line: `{"__CURSOR":"c","_PID":"77","MESSAGE":"2026/11/26 06:26:53 socat[78] W exiting on signal 15"}`, ok: true,
			prog: "socat", pid: 78, level: 'W', msg: "exiting on signal 15", stamp: "2026/11/26 06:26:53"},
		{line: `{"__CURSOR":"c","_PID":"77","MESSAGE":[69,32,98,97,100,255]}`, ok: true, pid: 77, level: 'E', msg: "bad\xff"},
		// Behind a collector's prefix: docker compose logs, docker logs -t,
		// docker service logs, a CI runner, the journal's console form, a
		// markdown quote.
		{line: "relay-1  | 2024/03/01 10:00:00 socat[1] E connect(5, AF=2 172.18.0.3:6379, 16): Connection refused", ok: true,
			prog: "socat", pid: 1, level: 'E', msg: "connect(5, AF=2 172.18.0.3:6379, 16): Connection refused", stamp: "2024/03/01 10:00:00"},
		{line: "2024-03-01T10:00:00.123456789Z 2024/03/01 10:00:00 socat[7] N listening on AF=2 0.0.0.0:80", ok: true,
			prog: "socat", pid: 7, level: 'N', msg: "listening on AF=2 0.0.0.0:80", stamp: "2024/03/01 10:00:00"},
		{line: "web_relay.1.x4k2j@node1    | 2024/03/01 10:00:00 socat[9] W exiting on signal 15", ok: true,
			prog: "socat", pid: 9, level: 'W', msg: "exiting on signal 15", stamp: "2024/03/01 10:00:00"},
		{line: "[ 4992.318560] sh[31]: 2024/03/01 10:00:00 socat[32] E bind(5, {AF=2 0.0.0.0:80}, 16): Address already in use", ok: true,
			prog: "socat", pid: 32, level: 'E', msg: "bind(5, {AF=2 0.0.0.0:80}, 16): Address already in use", stamp: "2024/03/01 10:00:00"},
		{line: "> 2024/03/01 10:00:00.123 box socat[3] N exit(1)", ok: true, host: "box", prog: "socat", pid: 3, level: 'N', msg: "exit(1)", stamp: "2024/03/01 10:00:00.123"},
		// A stamp-less socat line, alone or inside a journal record (its
		// time is the record's); socat 2.0's PROG[PID.TID].
		{line: "socat[15984] N listening on AF=2 0.0.0.0:4321", ok: true, prog: "socat", pid: 15984, level: 'N', msg: "listening on AF=2 0.0.0.0:4321"},
		{line: "Nov 27 13:51:49 vm socat[2051]: socat[2051] W read(5, 0x1, 8192): Connection reset by peer", ok: true,
			host: "vm", prog: "socat", pid: 2051, level: 'W', msg: "read(5, 0x1, 8192): Connection reset by peer", stamp: "Nov 27 13:51:49"},
		{line: "2023/05/02 09:12:44 socat[21876.140704275326784] N accepting connection from AF=2 127.0.0.1:51186 on AF=2 127.0.0.1:8080", ok: true,
			prog: "socat", pid: 21876, level: 'N', msg: "accepting connection from AF=2 127.0.0.1:51186 on AF=2 127.0.0.1:8080", stamp: "2023/05/02 09:12:44"},
		// Docker's json-file driver and Kubernetes' CRI files: the line
		// they wrap, with their time when socat's stamp is gone.
		{line: `{"log":"2024/03/01 10:00:00 socat[1] E connect(5, AF=2 10.0.0.9:80, 16): No route to host\n","stream":"stderr","time":"2024-03-01T10:00:00.5Z"}`, ok: true,
			prog: "socat", pid: 1, level: 'E', msg: "connect(5, AF=2 10.0.0.9:80, 16): No route to host", stamp: "2024/03/01 10:00:00"},
		{line: `{"log":"socat[1] W exiting on signal 15\n","stream":"stderr","time":"2024-03-01T10:00:00.5Z"}`, ok: true,
			prog: "socat", pid: 1, level: 'W', msg: "exiting on signal 15", stamp: "2024-03-01T10:00:00.5Z"},
		{line: "2024-03-01T10:00:00.123456789Z stderr F 2024/03/01 10:00:00 socat[1] N exit(143)", ok: true,
			prog: "socat", pid: 1, level: 'N', msg: "exit(143)", stamp: "2024/03/01 10:00:00"},
		{line: "2024-03-01T10:00:00.123456789Z stdout P 2024/03/01 10:00:00 socat[1] N exit(143)"}, // a fragment
		// Not socat's.
		{line: "hello from the program behind EXEC"},
		{line: "nginx: 2024/03/01 10:00:00 [error] 31#31: *1 connect() failed (111: Connection refused)"},
		{line: "Nov 26 06:26:53 relay01 foo[12]: started worker[3] for x"},
		{line: "array[3] = x; Jan[12] Nothing"},
		{line: `{"log":"plain output\n","stream":"stdout","time":"2024-03-01T10:00:00Z"}`},
		{line: "2024-03-01T10:00:00Z stdout F GET / HTTP/1.1 200"},
		{line: "2026/11/26 06:24:48 socat[27274.] N an empty thread id"},
		// A stamp-less PROG[PID] L after a prefix is taken only when PROG
		// says socat: these are another program's.
		{line: "ERROR: matrix[1] F is singular"},
		{line: "app-1 | worker[3] W connection pool exhausted"},
		{line: "+ arr[0] E is set"},
		{line: "web-1 | myapp[12]: I will retry"},
		{line: "app-1 | socat[3] W exiting on signal 15", ok: true, prog: "socat", pid: 3, level: 'W', msg: "exiting on signal 15"},
		{line: "Nov 26 06:26:53 relay01 sshd[5458]: Accepted publickey for root"},
		{line: "2026/11/26 06:24:48 socat[27274] X unknown level"},
		{line: "2026/11/26 06:24:48 socat[abc] N no pid"},
		{line: `{"MESSAGE": 5}`},
		{line: "### an annotation"},
		{line: ""},
	}
	for _, tt := range tests {
		var l Line
		ok := Parse([]byte(tt.line), &l)
		if ok != tt.ok {
			t.Errorf("%q: parsed %v, want %v", tt.line, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if string(l.Host) != tt.host || (tt.prog != "" && string(l.Prog) != tt.prog) || l.PID != tt.pid || l.Level != tt.level ||
			string(l.Msg) != tt.msg || string(l.Stamp) != tt.stamp {
			t.Errorf("%q:\n got host %q prog %q pid %d level %c msg %q stamp %q", tt.line, l.Host, l.Prog, l.PID, l.Level, l.Msg, l.Stamp)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{"2026/11/26 06:24:49 socat[1] W refusing connection from AF=2 127.0.0.1:57524 due to range option", "warning refused"},
		{"2026/11/26 06:24:49 socat[1] W refusing connection from AF=2 1.2.3.4:5 due to tcpwrapper option", "warning refused"},
		{"2026/11/26 06:24:49 socat[1] E SSL_accept(): error:0A0000C7:SSL routines::peer did not return a certificate", "error tls_failure"},
		{"2026/11/26 06:24:49 socat[1] E certificate is valid but its commonName does not match hostname \"x\"", "error tls_failure"},
		{"2026/11/26 06:24:49 socat[1] E connect(5, AF=2 127.0.0.1:1, 16): Connection timed out", "error backend_failure"},
		{"2026/11/26 06:24:49 socat[1] E execvp(\"/x\", \"/x\"): No such file or directory", "error backend_failure"},
		{"2026/11/26 06:24:49 socat[1] E waitpid(): child 5 exited with status 3", "error backend_failure"},
		{"2026/11/26 06:24:49 socat[1] W read(5, 0x1, 8192): Connection reset by peer", "warning reset"},
		{"2026/11/26 06:24:49 socat[1] E write(5, 0x1, 3): Broken pipe", "error reset"},
		{"2026/11/26 06:24:49 socat[1] N inactivity timeout triggered", "timeout"},
		{"2026/11/26 06:24:49 socat[1] W accept: Connection timed out", "warning timeout"},
		{"2026/11/26 06:24:49 socat[1] N maxchildren are active, waiting", "capacity"},
		{"2026/11/26 06:24:49 socat[1] N SSL connection using AECDH-NULL-SHA", "weak_tls"},
		{"2026/11/26 06:24:49 socat[1] N SSL connection using RC4-MD5", "weak_tls"},
		{"2026/11/26 06:24:49 socat[1] N SSL connection using TLS_AES_256_GCM_SHA384", ""},
		{"2026/11/26 06:24:49 socat[1] N SSL connection using ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"2026/11/26 06:24:49 socat[1] N accepting connection from AF=2 127.0.0.1:51186 on AF=2 127.0.0.1:21000", "accepted"},
		{"2026/11/26 06:24:49 socat[1] N accepting UDP connection from AF=2 127.0.0.1:51186", "accepted"},
		{"2026/11/26 06:24:49 socat[1] E SSL_read(): Connection reset by peer", "error reset"},
		// A client gone during the handshake (a TLS scanner's probe).
		{"2026/11/26 06:24:49 socat[1] E SSL_accept(): Connection reset by peer", "error tls_failure"},
		{"2026/11/26 06:24:49 socat[1] E parseopts_table(): unknown option \"bogus\"", "error config"},
		{"2026/11/26 06:24:49 socat[1] E unknown device/address \"FOO\"", "error config"},
		{"2026/11/26 06:24:49 socat[1] E TCP-LISTEN: wrong number of parameters (0 instead of 1)", "error config"},
		{"2026/11/26 06:24:49 socat[1] E SSL_CTX_use_certificate_file(): error:80000002:system library::No such file or directory", "error config"},
		{"2026/11/26 06:24:49 socat[1] E SSL_set_cipher_list(, \"NOPE\"): error:0A0000B9:SSL routines::no cipher match", "error config"},
		{"2026/11/26 06:24:49 socat[1] F something fatal", "fatal"},
		{"2026/11/26 06:24:49 socat[1] W recvmsg(): Resource temporarily unavailable", "warning"},
		// A benign race in socat's SIGCHLD handling, not a failed program.
		{"2026/11/26 06:24:49 socat[1] W waitpid(-1, {}, WNOHANG): no child has exited", "warning"},
		// ECHILD, logged by a forking TLS listener when the children of a
		// full TLS audit ended together (seen in make integration): no
		// backend failed.
		{"2026/12/05 15:11:01 discolab-tls[7] W waitpid(-1, {}, WNOHANG): No child processes", "warning"},
		{"2026/11/26 06:24:49 socat[1] N socat_signal(): handling signal 15", ""},
	}
	for _, tt := range tests {
		var l Line
		if !Parse([]byte(tt.line), &l) {
			t.Errorf("%q does not parse", tt.line)
			continue
		}
		c := Classify(&l)
		var got []string
		for cat := Category(0); cat < NumCategories; cat++ {
			if c.Set.Has(cat) {
				got = append(got, cat.String())
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%q: %q, want %q", tt.line, strings.Join(got, " "), tt.want)
		}
	}
	var l Line
	Parse([]byte("2026/11/26 06:24:49 socat[1] I transferred 6 bytes from 6 to 5"), &l)
	if c := Classify(&l); c.Transferred != 6 {
		t.Errorf("transferred: %d", c.Transferred)
	}
}

func TestExitNeedsAListener(t *testing.T) {
	log := strings.Join([]string{
		"2026/11/26 06:24:48 socat[10] N listening on AF=2 127.0.0.1:1",
		"2026/11/26 06:24:48 socat[11] W exiting on signal 15", // a child
		"2026/11/26 06:24:48 socat[10] W exiting on signal 15",
		"2026/11/26 06:24:48 socat[10] N exit(143)", // the same exit, once
		"2026/11/26 06:24:48 socat[12] N listening on AF=2 127.0.0.1:2",
		"",
	}, "\n")
	o := &Options{Show: 5}
	tr := NewTracker(nil, Memory{})
	tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, tr)
	if last := tally.Last[Exit].Lines(); tally.Count[Exit] != 1 || len(last) != 1 || !strings.Contains(last[0], "socat[10] W exiting") {
		t.Errorf("exit %d, lines %q", tally.Count[Exit], last)
	}
	// The next run knows 12 listens, from what this one remembers.
	mem := tr.Memory()
	if fmt.Sprint(mem.Listeners) != "[12]" {
		t.Errorf("listeners after the run: %v", mem.Listeners)
	}
	next, _, _ := o.ScanReader(context.Background(), strings.NewReader("2026/11/26 06:25:00 socat[12] N exit(1)\n"), true, NewTracker(nil, mem))
	if next.Count[Exit] != 1 {
		t.Errorf("an exit of a listener seen in an earlier run: %d", next.Count[Exit])
	}
}

// Bounded memory: a long line is cut and counted, never held; NUL bytes,
// invalid UTF-8 and CRLF are tolerated; a partial last line is left for
// the next run unless final.
func TestReaderBounds(t *testing.T) {
	long := strings.Repeat("x", 6<<20)
	log := "2026/11/26 06:24:49 socat[1] E connect(5, AF=2 127.0.0.1:1, 16): Connection refused\n" + long + "\n" +
		"2026/11/26 06:24:49 socat[1] E a\x00b\xff\r\n" + "2026/11/26 06:24:49 socat[1] E partial"
	o := &Options{MaxLine: 4096}
	tally, used, err := o.ScanReader(context.Background(), strings.NewReader(log), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Count[Error] != 2 || tally.Cut != 1 || tally.Lines != 3 {
		t.Errorf("errors %d cut %d lines %d", tally.Count[Error], tally.Cut, tally.Lines)
	}
	if want := int64(len(log) - len("2026/11/26 06:24:49 socat[1] E partial")); used != want {
		t.Errorf("consumed %d, want %d (up to the partial line)", used, want)
	}
	// A 6 MB line still being written is neither counted nor consumed
	// (the next run reads past it again, without holding it); the last
	// read of a source (final) counts it.
	tally, used, _ = o.ScanReader(context.Background(), strings.NewReader(long), false, nil)
	if tally.Cut != 0 || tally.Lines != 0 || used != 0 {
		t.Errorf("a long unterminated line: cut %d, lines %d, consumed %d", tally.Cut, tally.Lines, used)
	}
	tally, used, _ = o.ScanReader(context.Background(), strings.NewReader(long), true, nil)
	if tally.Cut != 1 || tally.Lines != 1 || used != int64(len(long)) {
		t.Errorf("final: cut %d, lines %d, consumed %d", tally.Cut, tally.Lines, used)
	}
}

func TestPatternsAndSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	log := strings.Join([]string{
		"2026/11/26 10:00:00 socat[1] E connect(5, AF=2 10.0.0.1:1, 16): Connection refused",
		"2026/11/26 11:59:00 socat[1] E connect(5, AF=2 10.0.0.2:1, 16): Connection refused",
		"2026/11/26 11:59:30 socat[1] E connect(5, AF=2 10.0.0.3:1, 16): Connection refused",
		"2026/11/26 11:59:40 socat[1] N accepting connection from AF=2 10.9.9.9:1 on AF=2 0.0.0.0:80",
		"",
	}, "\n")
	o := &Options{Since: now.Add(-5 * time.Minute), Loc: time.UTC, Now: now, Show: 5,
		Ignore: []*regexp.Regexp{regexp.MustCompile(`10\.0\.0\.3`)}, Critical: []*regexp.Regexp{regexp.MustCompile(`10\.9\.`)}}
	tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, nil)
	if tally.Count[BackendFailure] != 1 || tally.Old != 1 || tally.Ignored != 1 || tally.PatternCrit != 1 || tally.Count[Accepted] != 1 {
		t.Errorf("backend %d old %d ignored %d pattern %d accepted %d", tally.Count[BackendFailure], tally.Old, tally.Ignored, tally.PatternCrit, tally.Count[Accepted])
	}
}

// Parallel readers over one file agree with one reader, line for line.
func TestScanFileParallel(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 20<<20; i++ {
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] N listening on AF=2 127.0.0.1:1\n", i)
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] E connect(5, AF=2 127.0.0.1:1, 16): Connection refused\n", i+1)
		fmt.Fprintf(&b, "2026/11/26 06:24:49 socat[%d] W exiting on signal 15\n", i)
		b.WriteString("program output\n")
	}
	b.WriteString("2026/11/26 06:24:49 socat[1] E unfinished")
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	one := &Options{Workers: 1, Show: 3}
	t1, off1, err1 := one.ScanFile(context.Background(), f, 0, int64(b.Len()), false, nil)
	four := &Options{Workers: 4, Show: 3}
	t4, off4, err4 := four.ScanFile(context.Background(), f, 0, int64(b.Len()), false, nil)
	if err1 != nil || err4 != nil || off1 != off4 || off1 != int64(b.Len()-len("2026/11/26 06:24:49 socat[1] E unfinished")) {
		t.Fatalf("offsets %d %d, errors %v %v", off1, off4, err1, err4)
	}
	if t1.Count != t4.Count || t1.Lines != t4.Lines || t1.Unparsed != t4.Unparsed || lastOf(&t1) != lastOf(&t4) {
		t.Errorf("1 reader: %v %d %d\n4 readers: %v %d %d", t1.Count, t1.Lines, t1.Unparsed, t4.Count, t4.Lines, t4.Unparsed)
	}
	if t1.Count[Exit] == 0 || t1.Count[Exit] != t1.Count[Error] {
		t.Errorf("exits %d, errors %d", t1.Count[Exit], t1.Count[Error])
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.log")
	// The real-world corpus of check_socat_logs: collectors' prefixes,
	// stamp-less lines, other builds.
	more, _ := filepath.Glob("../../checks/logs/testdata/realworld/*.log")
	for _, p := range append(files, more...) {
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(data), "\n") {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(`{"MESSAGE":[1,2,300],"__CURSOR":"x"}`))
	f.Add([]byte(`{"log":"2024/03/01 10:00:00 socat[1] E x","stream":"stderr","time":"2024-03-01T10:00:00Z"}`))
	f.Add([]byte("2024-03-01T10:00:00.1Z stdout P 2024/03/01 10:00:00 socat[1.2] E x\n2024-03-01T10:00:00.1Z stdout F y"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Line
		if Parse(b, &l) {
			_ = Classify(&l)
			_, _ = l.Time(time.UTC, time.Now())
			if l.Format == FormatNone || !isLevel(l.Level) {
				t.Errorf("parsed without format or level: %q", b)
			}
		}
		o := &Options{MaxLine: 64, Show: 1}
		_, used, _ := o.ScanReader(context.Background(), strings.NewReader(string(b)), true, nil)
		if used != int64(len(b)) {
			t.Errorf("final scan consumed %d of %d", used, len(b))
		}
	})
}

// An EXEC relay logs a fork per connection whose child (the program)
// never logs its end: nothing may be kept per connection. The heap after
// scanning such a log is compared with the heap after scanning as many
// lines that are no events.
func TestForksOfProgramsKeepNothing(t *testing.T) {
	const n = 200000
	heapAfter := func(line string) int64 {
		var b strings.Builder
		b.WriteString("2026/11/26 06:24:49 socat[7] N listening on AF=2 0.0.0.0:1\n")
		for i := range n {
			fmt.Fprintf(&b, line, 200000+i, 400000+i)
		}
		log := b.String()
		o := &Options{Show: 1}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, nil)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(tally)
		runtime.KeepAlive(log)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc)
	}
	plain := heapAfter("2026/11/26 06:24:49 socat[%d] N accepting connection from AF=2 10.0.0.1:%d on AF=2 0.0.0.0:1\n")
	forks := heapAfter("2026/11/26 06:24:49 socat[%d] N forked off child process %d\n")
	if forks-plain > 1<<20 {
		t.Errorf("%d connections' forks kept %d KiB more than as many other lines", n, (forks-plain)>>10)
	}
}

// A listener that died without a word (SIGKILL, OOM) stays known; when
// its PID comes round again as a connection's child, that child's exit
// is not a service exit.
func TestRecycledListenerPID(t *testing.T) {
	var mem Memory
	o := &Options{Show: 1}
	scan := func(log string) int64 {
		tr := NewTracker(nil, mem)
		tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, tr)
		mem = tr.Memory()
		return tally.Count[Exit]
	}
	scan("2026/11/26 06:24:49 socat[1000] N listening on AF=2 0.0.0.0:1\n")
	scan("2026/11/26 06:30:00 socat[2000] N listening on AF=2 0.0.0.0:2\n" +
		"2026/11/26 06:30:01 socat[2000] N forked off child process 1000\n")
	if n := scan("2026/11/26 06:31:00 socat[1000] N exit(1)\n"); n != 0 || fmt.Sprint(mem.Listeners) != "[2000]" {
		t.Errorf("the child 1000's exit counted %d, listeners %v", n, mem.Listeners)
	}
}

// A listener seen in one region and exiting in a later one is known to
// the later reader (the quick pass over the earlier regions).
func TestListenerAcrossRegions(t *testing.T) {
	var b strings.Builder
	b.WriteString("2026/11/26 06:24:49 socat[7] N listening on AF=2 0.0.0.0:1\n")
	for b.Len() < 24<<20 {
		b.WriteString("2026/11/26 06:24:49 socat[9] N reading from and writing to stdio\n")
	}
	b.WriteString("2026/11/26 06:24:49 socat[7] W exiting on signal 15\n")
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	o := &Options{Workers: 4, Show: 1}
	tally, _, err := o.ScanFile(context.Background(), f, 0, int64(b.Len()), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Count[Exit] != 1 {
		t.Errorf("the exit of a listener seen 24 MB earlier: %d", tally.Count[Exit])
	}
}

// --since decides what counts, not who listens: a service that started
// long ago and exits now is an exit.
func TestSinceKeepsListeners(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	log := "2026/11/26 09:00:00 socat[7] N listening on AF=2 0.0.0.0:1\n" +
		"2026/11/26 09:00:01 socat[7] E connect(5, AF=2 10.0.0.1:1, 16): old failure\n" +
		"2026/11/26 11:59:00 socat[7] W exiting on signal 15\n"
	o := &Options{Since: now.Add(-time.Hour), Loc: time.UTC, Now: now, Show: 1,
		Critical: []*regexp.Regexp{regexp.MustCompile(`old failure`)}}
	tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, nil)
	if tally.Count[Exit] != 1 || tally.Count[Error] != 0 || tally.PatternCrit != 0 || tally.Old != 2 {
		t.Errorf("exit %d error %d pattern %d old %d", tally.Count[Exit], tally.Count[Error], tally.PatternCrit, tally.Old)
	}
}

// A connection's child that binds its other address (bind=, sp=,
// lowport) and fails, or listens there, is no service: its exit is not a
// service exit, and it is not remembered as a listener.
func TestChildBindIsNoService(t *testing.T) {
	log := strings.Join([]string{
		"2026/11/26 06:24:48 socat[100] N listening on AF=2 0.0.0.0:8080",
		"2026/11/26 06:24:49 socat[100] N forked off child process 200",
		"2026/11/26 06:24:49 socat[200] E bind(6, {AF=2 10.0.0.1:5000}, 16): Address already in use",
		"2026/11/26 06:24:49 socat[200] N exit(1)",
		"2026/11/26 06:24:50 socat[100] N forked off child process 201",
		"2026/11/26 06:24:50 socat[201] N listening on AF=2 127.0.0.1:9000",
		"2026/11/26 06:24:51 socat[201] N exit(0)",
		// The PID of an ended child comes round again as a new service.
		"2026/11/26 06:24:52 socat[200] N listening on AF=2 0.0.0.0:8081",
		"2026/11/26 06:24:53 socat[200] N exit(1)",
		"",
	}, "\n")
	tr := NewTracker(nil, Memory{})
	o := &Options{Show: 1}
	tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, tr)
	if l := tr.Memory().Listeners; tally.Count[Exit] != 1 || fmt.Sprint(l) != "[100]" {
		t.Errorf("exits %d, listeners %v", tally.Count[Exit], l)
	}
}

func lastOf(t *Tally) string {
	var b strings.Builder
	for c := range t.Last {
		fmt.Fprintln(&b, t.Last[c].Lines())
	}
	return b.String()
}

// counts scans log with tr and returns the categories with a count.
func counts(t *testing.T, log string, tr *Tracker) (string, Tally) {
	t.Helper()
	o := &Options{Show: 5}
	tally, _, err := o.ScanReader(context.Background(), strings.NewReader(log), true, tr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for c := Category(0); c < NumCategories; c++ {
		if tally.Count[c] > 0 {
			got = append(got, fmt.Sprintf("%s=%d", c, tally.Count[c]))
		}
	}
	return strings.Join(got, " "), tally
}

// socat up to 1.7.3 reports every failed connection's child as
// "waitpid(): child N exited with status 1": a listener's fork child is
// one connection, not the backend; the program a connection's child ran
// (EXEC) failing is the backend's failure.
func TestWaitpidOfAKnownChild(t *testing.T) {
	log := strings.Join([]string{
		"2020/11/04 14:01:24 socat[5564] N listening on AF=2 0.0.0.0:4444",
		"2020/11/04 14:01:27 socat[5564] N accepting connection from AF=2 10.0.2.15:42078 on AF=2 10.0.2.4:4444",
		"2020/11/04 14:01:27 socat[5564] N forked off child process 1584",
		"2020/11/04 14:01:27 socat[5564] N listening on AF=2 0.0.0.0:4444",
		"2020/11/04 14:02:15 socat[1584] E SSL_accept(): socket closed by peer",
		"2020/11/04 14:02:15 socat[1584] N exit(1)",
		"2020/11/04 14:02:15 socat[5564] W waitpid(): child 1584 exited with status 1",
		// The program behind EXEC, forked by a connection's child.
		"2020/11/04 14:03:00 socat[5564] N forked off child process 1600",
		"2020/11/04 14:03:00 socat[1600] N forked off child process 1601",
		"2020/11/04 14:03:00 socat[1600] N forked off child process 1601",
		"2020/11/04 14:03:00 socat[1601] N execvp'ing \"/usr/local/bin/app\"",
		"2020/11/04 14:03:01 socat[1600] W waitpid(): child 1601 exited with status 2",
		// A child nobody saw forked: the backend's, as before.
		"2020/11/04 14:03:02 socat[5564] W waitpid(): child 999 exited with status 1",
		"",
	}, "\n")
	got, _ := counts(t, log, nil)
	if want := "error=1 warning=3 tls_failure=1 backend_failure=2 accepted=1"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

// socat's argument errors, worded in several ways, are configuration.
func TestArgumentErrorsAreConfig(t *testing.T) {
	for _, m := range []string{
		`E exactly 2 addresses required (there are 1); use option "-h" for help`,
		`E OPENSSL: empty host name`,
		`E openssl-method="SSLv3": method unknown or not provided by library`,
		`E TCP4: wrong number of parameters (1 instead of 2)`,
	} {
		got, _ := counts(t, "2026/11/26 06:24:49 socat[1] "+m+"\n", nil)
		if got != "error=1 config=1" {
			t.Errorf("%s: %s", m, got)
		}
	}
}

// --ignore-peer: a connection from an ignored peer, and everything its
// fork child (and the program that child runs) logs, counts nowhere but
// in Peer; the same from another peer counts; a refusal is judged by its
// own peer; a listener's own exit always counts.
func TestIgnorePeer(t *testing.T) {
	log := strings.Join([]string{
		"2026/11/26 06:24:00 socat[10] N listening on AF=2 0.0.0.0:443",
		// Ours: a TLS scanner's probe.
		"2026/11/26 06:24:01 socat[10] N accepting connection from AF=2 127.0.0.1:50000 on AF=2 127.0.0.1:443",
		"2026/11/26 06:24:01 socat[10] N forked off child process 11",
		"2026/11/26 06:24:01 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[11] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher",
		"2026/11/26 06:24:01 socat[11] N exit(1)",
		"2026/11/26 06:24:01 socat[10] W waitpid(): child 11 exited with status 1",
		// Somebody else's, the same failure.
		"2026/11/26 06:24:02 socat[10] N accepting connection from AF=10 [0000:0000:0000:0000:0000:ffff:0a00:0005]:50001 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[10] N forked off child process 12",
		"2026/11/26 06:24:02 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[12] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher",
		"2026/11/26 06:24:02 socat[12] N exit(1)",
		// Refusals, judged by their own peer.
		"2026/11/26 06:24:03 socat[10] N accepting connection from AF=2 127.0.0.1:50002 on AF=2 127.0.0.1:443",
		"2026/11/26 06:24:03 socat[10] W refusing connection from AF=2 127.0.0.1:50002 due to range option",
		"2026/11/26 06:24:03 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:04 socat[10] N accepting connection from AF=2 192.0.2.7:50003 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:04 socat[10] W refusing connection from AF=2 192.0.2.7:50003 due to range option",
		"2026/11/26 06:24:04 socat[10] N listening on AF=2 0.0.0.0:443",
		// A client socat of its own: no listener, no child: untied.
		"2026/11/26 06:24:05 socat[90] E connect(5, AF=2 127.0.0.1:1, 16): Connection refused",
		"2026/11/26 06:24:06 socat[10] W exiting on signal 15",
		"",
	}, "\n")
	got, _ := counts(t, log, nil)
	if want := "error=3 warning=4 refused=2 tls_failure=2 backend_failure=1 accepted=4 exit=1"; got != want {
		t.Errorf("without --ignore-peer: %s, want %s", got, want)
	}
	tr := NewTracker([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Memory{})
	got, tally := counts(t, log, tr)
	if want := "error=2 warning=2 refused=1 tls_failure=1 backend_failure=1 accepted=2 exit=1"; got != want {
		t.Errorf("--ignore-peer 127.0.0.0/8: %s, want %s", got, want)
	}
	if tally.Peer != 7 || tally.Untied != 1 {
		t.Errorf("ignored %d lines (want 7), untied %d (want 1)", tally.Peer, tally.Untied)
	}
	// The link from a child to its ignored peer outlives the run.
	next := NewTracker(tr.ignore, Memory{Listeners: []int{10}, Children: []ChildMark{{PID: 13, Flags: markConn | markIgnored}}})
	got, tally = counts(t, "2026/11/26 06:25:00 socat[13] E SSL_accept(): error:0A000126:SSL routines::unexpected eof while reading\n", next)
	if got != "" || tally.Peer != 1 {
		t.Errorf("a child of an ignored peer, forked in the last run: %s, ignored %d", got, tally.Peer)
	}
}

// A fork child runs as soon as fork() returns and may log before its
// parent logs "forked off child process N" (seen once in six full TLS
// audits under load): its line is still its peer's, ignored with it,
// and tied to a child, not counted as another peer's. A PID that never
// turns out to be a child is settled when the scan ends, or when more
// lines than the tracker holds wait.
func TestChildLogsBeforeItsFork(t *testing.T) {
	log := strings.Join([]string{
		"2026/11/26 06:24:00 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] N accepting connection from AF=2 127.0.0.1:50000 on AF=2 127.0.0.1:443",
		"2026/11/26 06:24:01 socat[11] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher",
		"2026/11/26 06:24:01 socat[11] N exit(1)",
		"2026/11/26 06:24:01 socat[10] N forked off child process 11",
		"2026/11/26 06:24:01 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] W waitpid(): child 11 exited with status 1",
		// Another peer's child, also early: it counts.
		"2026/11/26 06:24:02 socat[10] N accepting connection from AF=2 192.0.2.7:50001 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[12] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher",
		"2026/11/26 06:24:02 socat[10] N forked off child process 12",
		"2026/11/26 06:24:02 socat[10] N listening on AF=2 0.0.0.0:443",
		// Ours again, EXEC: the child forks its program before its own
		// fork line, and the program fails to start.
		"2026/11/26 06:24:03 socat[10] N accepting connection from AF=2 127.0.0.1:50003 on AF=2 127.0.0.1:443",
		"2026/11/26 06:24:03 socat[13] N forked off child process 14",
		"2026/11/26 06:24:03 socat[10] N forked off child process 13",
		"2026/11/26 06:24:03 socat[10] N listening on AF=2 0.0.0.0:443",
		`2026/11/26 06:24:03 socat[14] E execvp("nosuch", "nosuch", ...): No such file or directory`,
		// Another peer's child with the PID of our ended child 11, early.
		"2026/11/26 06:24:04 socat[10] N accepting connection from AF=2 192.0.2.8:50004 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:04 socat[11] E SSL_accept(): error:0A0000C1:SSL routines::no shared cipher",
		"2026/11/26 06:24:04 socat[10] N forked off child process 11",
		"2026/11/26 06:24:04 socat[10] N listening on AF=2 0.0.0.0:443",
		// A client socat of its own: never a child; untied when the scan ends.
		"2026/11/26 06:24:05 socat[90] E connect(5, AF=2 127.0.0.1:1, 16): Connection refused",
		"",
	}, "\n")
	tr := NewTracker([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Memory{})
	got, tally := counts(t, log, tr)
	if want := "error=3 tls_failure=2 backend_failure=1 accepted=2"; got != want {
		t.Errorf("--ignore-peer 127.0.0.0/8: %s, want %s", got, want)
	}
	if tally.Peer != 9 || tally.Untied != 1 || len(tr.held) != 0 {
		t.Errorf("ignored %d lines (want 9), untied %d (want 1), %d still held", tally.Peer, tally.Untied, len(tr.held))
	}
	// More unknown lines than the tracker holds: all counted, in bounded
	// memory.
	var many []string
	for i := range 3 * maxHeld {
		many = append(many, fmt.Sprintf("2026/11/26 06:25:00 socat[%d] E connect(5, AF=2 127.0.0.1:1, 16): Connection refused", 500+i))
	}
	tr = NewTracker(tr.ignore, Memory{})
	got, tally = counts(t, strings.Join(many, "\n")+"\n", tr)
	if want := fmt.Sprintf("error=%d backend_failure=%d", 3*maxHeld, 3*maxHeld); got != want || tally.Untied != 3*maxHeld {
		t.Errorf("%d unknown PIDs: %s, untied %d", 3*maxHeld, got, tally.Untied)
	}
}

// A container runtime splits a line longer than its buffer: the
// fragments are one line, counted once.
func TestContainerFragmentsJoined(t *testing.T) {
	long := strings.Repeat("x", 100)
	log := strings.Join([]string{
		"2024-03-01T10:00:00.1Z stdout P " + long,
		"2024-03-01T10:00:00.1Z stdout P " + long,
		"2024-03-01T10:00:00.1Z stdout F end of a program's long line",
		"2024-03-01T10:00:00.2Z stderr F 2024/03/01 10:00:00 socat[1] E connect(5, AF=2 10.0.0.9:80, 16): Connection refused",
		`{"log":"2024/03/01 10:00:01 socat[1] E conn","stream":"stderr","time":"2024-03-01T10:00:01Z"}`,
		`{"log":"ect(5, AF=2 10.0.0.9:80, 16): Connection refused\n","stream":"stderr","time":"2024-03-01T10:00:01Z"}`,
		"",
	}, "\n")
	got, tally := counts(t, log, nil)
	if got != "error=2 backend_failure=2" || tally.Lines != 3 || tally.Unparsed != 1 || tally.Socat != 2 {
		t.Errorf("%s; lines %d, unparsed %d, socat %d", got, tally.Lines, tally.Unparsed, tally.Socat)
	}
}

// A fork child's PID that serves a new socat later is that new process:
// a program a connection's child ran (EXEC: it never logs its end) and a
// child that ended. Its listening, errors and exit count, with and
// without --ignore-peer, in this run and the next.
func TestReusedChildPIDIsANewProcess(t *testing.T) {
	first := strings.Join([]string{
		"2026/11/26 06:24:00 socat[100] N listening on AF=2 0.0.0.0:8443",
		"2026/11/26 06:24:01 socat[100] N accepting connection from AF=2 127.0.0.1:50000 on AF=2 127.0.0.1:8443",
		"2026/11/26 06:24:01 socat[100] N forked off child process 101",
		"2026/11/26 06:24:01 socat[100] N listening on AF=2 0.0.0.0:8443",
		"2026/11/26 06:24:01 socat[101] N forked off child process 102",
		"2026/11/26 06:24:01 socat[101] N forked off child process 102",
		"2026/11/26 06:24:01 socat[102] N execvp'ing \"/bin/cat\"",
		"2026/11/26 06:24:02 socat[101] N exiting with status 0",
		"",
	}, "\n")
	later := strings.Join([]string{
		"2026/11/30 06:24:00 socat[102] N listening on AF=2 0.0.0.0:9443",
		"2026/11/30 06:24:00 socat[102] E accept(5, ...): Too many open files",
		"2026/11/30 06:24:00 socat[102] N exit(1)",
		"",
	}, "\n")
	for _, peers := range [][]netip.Prefix{nil, {netip.MustParsePrefix("127.0.0.1/32")}} {
		want := "error=1 accepted=1 exit=1"
		if peers != nil {
			want = "error=1 exit=1" // the accepted connection was ours
		}
		if got, _ := counts(t, first+later, NewTracker(peers, Memory{})); got != want {
			t.Errorf("one run, peers %v: %s, want %s", peers, got, want)
		}
		tr := NewTracker(peers, Memory{})
		counts(t, first, tr)
		if got, _ := counts(t, later, NewTracker(peers, tr.Memory())); got != "error=1 exit=1" {
			t.Errorf("the next run, peers %v: %s", peers, got)
		}
		// The connection's child was killed and never said so: its
		// program's PID is still a new process's when it listens.
		killed := strings.Replace(first, "2026/11/26 06:24:02 socat[101] N exiting with status 0\n", "", 1)
		if got, _ := counts(t, killed+later, NewTracker(peers, Memory{})); got != want {
			t.Errorf("child killed, peers %v: %s, want %s", peers, got, want)
		}
	}
}

// After handing an ignored peer's connection to its child, a listener's
// own lines are its own again: its wait at max-children, and what it
// says of another peer's child.
func TestListenerAfterAnIgnoredFork(t *testing.T) {
	log := strings.Join([]string{
		"2026/11/26 06:24:00 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] N accepting connection from AF=2 192.0.2.9:50000 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:01 socat[10] N forked off child process 12",
		"2026/11/26 06:24:01 socat[10] N listening on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[10] N accepting connection from AF=2 127.0.0.1:50001 on AF=2 0.0.0.0:443",
		"2026/11/26 06:24:02 socat[10] N forked off child process 11",
		"2026/11/26 06:24:02 socat[10] N maxchildren are active, waiting",
		"2026/11/26 06:24:03 socat[12] E connect(5, AF=2 10.0.0.1:80, 16): Connection refused",
		"2026/11/26 06:24:03 socat[10] W waitpid(): child 12 exited with status 1",
		"",
	}, "\n")
	got, tally := counts(t, log, NewTracker([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Memory{}))
	if want := "error=1 warning=1 backend_failure=1 capacity=1 accepted=1"; got != want || tally.Peer != 2 {
		t.Errorf("%s (ignored %d), want %s (ignored 2)", got, tally.Peer, want)
	}
}

// --ignore-pattern takes a line out of every count, not out of what it
// says of the processes: ignoring "listening on" does not lose an exit.
func TestIgnorePatternKeepsListeners(t *testing.T) {
	log := "2026/11/26 06:24:00 socat[10] N listening on AF=2 0.0.0.0:443\n" +
		"2026/11/26 06:24:05 socat[10] W exiting on signal 15\n"
	o := &Options{Show: 1, Ignore: []*regexp.Regexp{regexp.MustCompile(`listening on`)}}
	tally, _, _ := o.ScanReader(context.Background(), strings.NewReader(log), true, nil)
	if tally.Count[Exit] != 1 || tally.Ignored != 1 || tally.Socat != 1 || tally.Unparsed != 0 {
		t.Errorf("exit %d ignored %d socat %d unparsed %d", tally.Count[Exit], tally.Ignored, tally.Socat, tally.Unparsed)
	}
}

// A line over MaxLine is cut wherever it falls in the blocks read.
func TestEveryLongLineIsCut(t *testing.T) {
	long := strings.Repeat("y", 65<<10)
	for _, final := range []bool{false, true} {
		log := long + "\n2026/11/26 06:24:00 socat[1] E x\n" + long
		if !final {
			log += "\n"
		}
		o := &Options{MaxLine: 64 << 10}
		tally, used, _ := o.ScanReader(context.Background(), strings.NewReader(log), final, nil)
		if tally.Lines != 3 || tally.Cut != 2 || tally.Unparsed != 0 || tally.Count[Error] != 1 || used != int64(len(log)) {
			t.Errorf("final %v: lines %d cut %d unparsed %d errors %d consumed %d of %d", final, tally.Lines, tally.Cut, tally.Unparsed, tally.Count[Error], used, len(log))
		}
	}
}

// The deadline while a second long line is being skipped: the first,
// already consumed, is counted, so that the next run (which starts after
// it) does not lose it.
func TestCanceledWhileSkippingCountsTheCutLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	long := strings.Repeat("x", 300<<10) // longer than a read block
	r := &cancelAtEnd{r: strings.NewReader(long + "\n" + long), cancel: cancel}
	o := &Options{MaxLine: 64 << 10}
	tally, used, err := o.ScanReader(ctx, r, false, nil)
	if err != ErrCanceled || used != int64(len(long)+1) || tally.Lines != 1 || tally.Cut != 1 {
		t.Errorf("err %v, consumed %d, lines %d, cut %d", err, used, tally.Lines, tally.Cut)
	}
}

// cancelAtEnd cancels its context when its reader is drained.
type cancelAtEnd struct {
	r      *strings.Reader
	cancel func()
}

func (c *cancelAtEnd) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.r.Len() == 0 {
		c.cancel()
	}
	if err == io.EOF {
		return n, nil // a log still being written: no EOF, only the deadline
	}
	return n, err
}

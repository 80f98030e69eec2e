// Command bench compares the check_socat binaries with the standard peers
// in the same run, against the same local socat lab: median wall time,
// peak RSS and their ratio, and whether each target is met. It is a
// benchmark, not a test: it prints, it does not fail on a missed target.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/internal/loggen"
)

type sample struct {
	wall time.Duration
}

type stats struct {
	median, p90 time.Duration
	peakRSS     int64
	failures    int
	firstOut    string
}

func measure(argv []string) (sample, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out strings.Builder
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	return sample{wall: time.Since(start)}, out.String(), err
}

// peakRSS runs argv under GNU time and returns its maximum resident set
// in KiB. The rusage that os/exec reports is useless here: Go starts
// children with CLONE_VM, so their high-water mark includes this
// program's own memory; GNU time forks from a small process.
func peakRSS(argv []string) (int64, error) {
	f, err := os.CreateTemp("", "bench-rss")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f.Name(), "--"}, argv...)...)
	_ = cmd.Run()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var kib int64
	_, err = fmt.Sscan(lines[len(lines)-1], &kib)
	return kib, err
}

func summarize(samples []sample, failures int, first string) stats {
	walls := make([]time.Duration, len(samples))
	for i, s := range samples {
		walls[i] = s.wall
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	st := stats{failures: failures, firstOut: first}
	if len(walls) > 0 {
		st.median = walls[len(walls)/2]
		st.p90 = walls[len(walls)*9/10]
	}
	return st
}

// compare runs ours and the peer alternately, n times each for the wall
// time, then a tenth of that under GNU time for the peak RSS.
func compare(n int, ours, peer []string) (stats, stats) {
	progs := [2][]string{ours, peer}
	var samples [2][]sample
	var fails [2]int
	var first [2]string
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			j := k
			if i%2 == 1 {
				j = 1 - k
			}
			s, out, err := measure(progs[j])
			samples[j] = append(samples[j], s)
			if first[j] == "" {
				first[j] = strings.SplitN(out, "\n", 2)[0]
			}
			if err != nil {
				fails[j]++
			}
		}
	}
	var res [2]stats
	for j := range progs {
		res[j] = summarize(samples[j], fails[j], first[j])
		for i := 0; i < max(5, n/10); i++ {
			if kib, err := peakRSS(progs[j]); err == nil {
				res[j].peakRSS = max(res[j].peakRSS, kib)
			}
		}
	}
	return res[0], res[1]
}

// lab is one socat process started for the benchmark.
type lab struct {
	cmd  *exec.Cmd
	port string
}

var listening = regexp.MustCompile(`listening on (?:UDP )?AF=\d+ [0-9.]+:(\d+)`)

func startSocat(args ...string) (*lab, error) {
	return startPinned(nil, args...)
}

// startPinned starts socat under a prefix command (taskset), which
// execs it: the PID stays socat's.
func startPinned(prefix []string, args ...string) (*lab, error) {
	argv := append(append(append([]string(nil), prefix...), "socat", "-d", "-d"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case p := <-found:
		return &lab{cmd: cmd, port: p}, nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return nil, errors.New("socat did not start listening")
	}
}

func (l *lab) stop() {
	_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGTERM)
	_ = l.cmd.Wait()
	_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
}

type row struct {
	name         string
	ours, peer   stats
	peerName     string
	timeTarget   float64 // max ratio; 0 = informational
	note         string  // said after the verdict
	rssTargetMiB float64
	absTarget    time.Duration // max median of ours, when there is no peer to compare with
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func (r row) markdown() string {
	ratio := float64(r.ours.median) / float64(r.peer.median)
	verdict := "informational"
	var misses []string
	if r.timeTarget > 0 && ratio > r.timeTarget {
		misses = append(misses, fmt.Sprintf("time %.2fx > %.1fx", ratio, r.timeTarget))
	}
	if rssMiB := float64(r.ours.peakRSS) / 1024; r.rssTargetMiB > 0 && rssMiB > r.rssTargetMiB {
		misses = append(misses, fmt.Sprintf("RSS %.1f MiB > %.0f MiB", rssMiB, r.rssTargetMiB))
	}
	if r.absTarget > 0 && r.ours.median > r.absTarget {
		misses = append(misses, fmt.Sprintf("time %s > %s", ms(r.ours.median), ms(r.absTarget)))
	}
	var goals []string
	if r.absTarget > 0 {
		goals = append(goals, "<= "+ms(r.absTarget))
	}
	if r.timeTarget > 0 {
		goals = append(goals, fmt.Sprintf("<= %.1fx", r.timeTarget))
	}
	if r.rssTargetMiB > 0 {
		goals = append(goals, fmt.Sprintf("<= %.0f MiB", r.rssTargetMiB))
	}
	if r.peer.median == 0 {
		ratio = 0
	}
	switch {
	case len(misses) > 0:
		verdict = "NOT MET: " + strings.Join(misses, ", ")
	case len(goals) > 0:
		verdict = "met (" + strings.Join(goals, ", ") + ")"
	}
	fails := ""
	if r.ours.failures+r.peer.failures > 0 {
		fails = fmt.Sprintf(" (non-zero exits: ours %d, peer %d)", r.ours.failures, r.peer.failures)
	}
	if r.peerName == "" {
		return fmt.Sprintf("| %s | %s | - | - | %.1f MiB | - | %s%s |",
			r.name, ms(r.ours.median), float64(r.ours.peakRSS)/1024, verdict, fails)
	}
	return fmt.Sprintf("| %s | %s | %s (%s) | %.2fx | %.1f MiB | %.1f MiB | %s%s%s |",
		r.name, ms(r.ours.median), ms(r.peer.median), r.peerName, ratio,
		float64(r.ours.peakRSS)/1024, float64(r.peer.peakRSS)/1024, verdict, r.note, fails)
}

func main() {
	bin := flag.String("bin", "bin", "directory of the check_socat binaries")
	plugins := flag.String("plugins", "/usr/lib/nagios/plugins", "directory of the monitoring-plugins peers")
	n := flag.Int("n", 200, "runs of each program per comparison")
	out := flag.String("out", "", "also write the Markdown table to this file")
	only := flag.String("only", "", "run only these groups, comma-separated: binaries, startup, endpoint, procs, traffic, tls, services, logs")
	binaries := flag.String("binaries", "check_socat_endpoint check_socat_tls check_socat_procs check_socat_logs", "the binaries, space-separated (make bench passes the Makefile's BINARIES)")
	flag.Parse()

	if err := run(*bin, *plugins, strings.Fields(*binaries), *n, *out, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, plugins string, names []string, n int, out, only string) error {
	want := func(group string) bool {
		return only == "" || strings.Contains(","+only+",", ","+group+",")
	}
	endpoint := filepath.Join(bin, "check_socat_endpoint")
	checkTCP := filepath.Join(plugins, "check_tcp")
	for _, p := range []string{endpoint, checkTCP} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run `make build` and install monitoring-plugins-basic", p)
		}
	}
	echo, err := startSocat("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	if err != nil {
		return err
	}
	defer echo.stop()
	relay, err := startSocat("TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,backlog=128", "TCP:127.0.0.1:"+echo.port)
	if err != nil {
		return err
	}
	defer relay.stop()

	target := []string{"-H", "127.0.0.1", "-p", relay.port}
	with := func(prog string, args ...string) []string { return append(append([]string{prog}, target...), args...) }

	var rows []row
	var notes []string
	addN := func(runs int, name, peerName string, timeTarget, rss float64, ours, peer []string) {
		fmt.Fprintf(os.Stderr, "bench: %s (%d runs each)...\n", name, runs)
		o, p := compare(runs, ours, peer)
		rows = append(rows, row{name: name, ours: o, peer: p, peerName: peerName, timeTarget: timeTarget, rssTargetMiB: rss})
		fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", o.firstOut, p.firstOut)
	}
	add := func(name, peerName string, timeTarget, rss float64, ours, peer []string) {
		addN(n, name, peerName, timeTarget, rss, ours, peer)
	}
	var floor string
	if want("startup") || want("endpoint") || want("tls") {
		f, cleanupFloor, err := buildFloor()
		if err != nil {
			return err
		}
		defer cleanupFloor()
		floor = f
	}
	if want("startup") {
		hello, cleanup, err := buildHello()
		if err != nil {
			return err
		}
		defer cleanup()
		// Issue 12: a run's start-up is package initialisation and flag
		// parsing before any work; a static Go hello world is the floor.
		for _, name := range names {
			add("start-up: "+name+" --version", "Go hello world", 1.3, 0,
				[]string{filepath.Join(bin, name), "--version"}, []string{hello})
		}
		// What linking crypto/tls alone costs (the endpoint and TLS
		// binaries must): the floor of their rows above.
		add("floor: Go hello world linking crypto/tls", "Go hello world", 0, 0, []string{floor, "version"}, []string{hello})
	}
	if want("endpoint") {
		add("endpoint: send/expect through a socat relay", "check_tcp", 1.0, 15,
			with(endpoint, "-s", "ping", "-e", "ping"), with(checkTCP, "-s", "ping", "-e", "ping"))
		add("endpoint: bare connect, --settle 0", "check_tcp", 1.0, 15,
			with(endpoint, "--settle", "0"), with(checkTCP))
		add("endpoint: bare connect, default --settle 50ms", "check_tcp", 0, 15,
			with(endpoint), with(checkTCP))
		// The least a Go TCP check can do here: crypto/tls linked and
		// SIGTERM caught, as check_socat_endpoint must; no flags, no
		// checks. Its ratio is the floor of the two rows with a 1.0x
		// target.
		add("floor: minimal Go TCP connect check", "check_tcp", 0, 0,
			[]string{floor, "tcp", "127.0.0.1", relay.port}, with(checkTCP))
	}
	if want("procs") {
		if err := benchProcs(bin, plugins, n, echo.port, add); err != nil {
			return err
		}
	}
	if want("traffic") {
		if err := benchTraffic(bin, max(5, n/40), &rows, &notes); err != nil {
			return err
		}
	}
	if want("tls") {
		if err := benchTLS(bin, plugins, floor, max(10, n/10), &rows, &notes); err != nil {
			return err
		}
	}
	if want("services") {
		if err := benchServices(bin, plugins, max(10, n/10), addN); err != nil {
			return err
		}
	}
	if want("logs") {
		if err := benchLogs(bin, plugins, &rows); err != nil {
			return err
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s, %d runs each, alternating, against the same local socat lab.\n\n",
		time.Now().UTC().Format("2006-01-02"), hostInfo(), n)
	if want("binaries") {
		b.WriteString(binaryTable(bin, names, n))
	}
	b.WriteString("| comparison | ours (median) | peer (median) | ratio | ours peak RSS | peer peak RSS | target |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r.markdown() + "\n")
	}
	for _, n := range notes {
		b.WriteString("\n" + n)
	}
	fmt.Print(b.String())
	if out != "" {
		return os.WriteFile(out, []byte(b.String()), 0o644)
	}
	return nil
}

// benchTLS compares check_socat_tls with sslscan and check_ssl_cert on a
// legacy socat endpoint (TLS 1.0-1.3, NULL and anonymous suites), and its
// --cert-only mode with check_tcp -S -D. sslscan and check_ssl_cert take
// most of a second a run, so fewer runs. It then measures the floor that
// socat's own CPU sets for any full audit on this machine (a note after
// the table, and on the check_ssl_cert row), and, with more than one CPU,
// repeats the check_ssl_cert comparison with the lab and both checks on
// one CPU: how the ratio moves with the number of CPUs.
func benchTLS(bin, plugins, floorBin string, n int, rows *[]row, notes *[]string) error {
	ours := filepath.Join(bin, "check_socat_tls")
	checkTCP := filepath.Join(plugins, "check_tcp")
	checkSSL := filepath.Join(plugins, "check_ssl_cert")
	for _, p := range []string{ours, checkSSL} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run `make build` and install monitoring-plugins-contrib", p)
		}
	}
	dir, err := os.MkdirTemp("", "bench-tls")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pem := filepath.Join(dir, "server.pem")
	gen := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pem+".key", "-out", pem+".crt",
		"-subj", "/CN=localhost", "-days", "365", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl: %v: %s", err, out)
	}
	crt, _ := os.ReadFile(pem + ".crt")
	key, _ := os.ReadFile(pem + ".key")
	if err := os.WriteFile(pem, append(crt, key...), 0o600); err != nil {
		return err
	}
	const legacyAddr = "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1,cert="
	legacy, err := startSocat(legacyAddr+pem, "PIPE")
	if err != nil {
		return err
	}
	defer legacy.stop()
	bench := func(name, peerName string, target, rss float64, o, p []string) int {
		fmt.Fprintf(os.Stderr, "bench: %s (%d runs each)...\n", name, n)
		so, sp := compare(n, o, p)
		*rows = append(*rows, row{name: name, ours: so, peer: sp, peerName: peerName, timeTarget: target, rssTargetMiB: rss})
		fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", so.firstOut, sp.firstOut)
		return len(*rows) - 1
	}
	full := func(l *lab) []string {
		return []string{ours, "-H", "127.0.0.1", "-p", l.port, "--ca-file", pem + ".crt"}
	}
	sslCert := func(l *lab) []string {
		return []string{checkSSL, "--ignore-sct", "--ignore-ocsp", "--rootcert-file", pem + ".crt", "-H", "127.0.0.1", "-p", l.port}
	}
	const sslCertName, sslCertTarget = "check_ssl_cert --ignore-sct --ignore-ocsp", 0.2
	bench("tls: full audit of a legacy endpoint", "sslscan", 0.5, 0, full(legacy),
		[]string{"sslscan", "--no-colour", "127.0.0.1:" + legacy.port})
	// testssl.sh as well (a second oracle, tools/oracles): see testssl.go.
	if err := benchTestssl(full(legacy), legacy.port, rows); err != nil {
		return err
	}
	vsCert := bench("tls: full audit of a legacy endpoint", sslCertName, sslCertTarget, 0, full(legacy), sslCert(legacy))
	bench("tls: --cert-only", "check_tcp -S -D 1", 1.0, 0, append(full(legacy), "--cert-only"),
		[]string{checkTCP, "-S", "-D", "1", "-H", "127.0.0.1", "-p", legacy.port})
	bench("floor: minimal Go TLS certificate check", "check_tcp -S -D 1", 0, 0, []string{floorBin, "tls", "127.0.0.1", legacy.port},
		[]string{checkTCP, "-S", "-D", "1", "-H", "127.0.0.1", "-p", legacy.port})

	fmt.Fprintln(os.Stderr, "bench: the floor socat's CPU sets for a full TLS audit...")
	floor, err := measureTLSFloor(full(legacy), legacy.cmd.Process.Pid, legacy.port, n)
	if err != nil {
		return fmt.Errorf("measuring the TLS floor: %w", err)
	}
	peer := (*rows)[vsCert].peer.median
	(*rows)[vsCert].note = fmt.Sprintf("; this machine's floor is %.2fx (see below)", float64(floor.wall())/float64(peer))
	*notes = append(*notes, floor.text(sslCertName, peer, sslCertTarget))

	if floor.cpus > 1 {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("taskset is missing: install util-linux")
		}
		one := []string{"taskset", "-c", "0"}
		pinned, err := startPinned(one, legacyAddr+pem, "PIPE")
		if err != nil {
			return err
		}
		defer pinned.stop()
		bench("tls: full audit, lab and both checks on 1 CPU", sslCertName, 0, 0,
			append(append([]string(nil), one...), full(pinned)...), append(append([]string(nil), one...), sslCert(pinned)...))
	}
	return nil
}

// benchProcs compares check_socat_procs with check_procs -C socat, with
// about 100 and about 2000 extra (non-socat) processes on the host.
func benchProcs(bin, plugins string, n int, echoPort string, add func(string, string, float64, float64, []string, []string)) error {
	ours := filepath.Join(bin, "check_socat_procs")
	peer := filepath.Join(plugins, "check_procs")
	for _, p := range []string{ours, peer} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run `make build` and install monitoring-plugins-basic", p)
		}
	}
	// Three more socat instances, one with held connections (children).
	for i := 0; i < 2; i++ {
		l, err := startSocat("-T", "60", "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,max-children=10", "TCP:127.0.0.1:"+echoPort)
		if err != nil {
			return err
		}
		defer l.stop()
	}
	var extra []*exec.Cmd
	defer func() {
		for _, c := range extra {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}()
	grow := func(total int) error {
		for len(extra) < total {
			c := exec.Command("sleep", "3600")
			if err := c.Start(); err != nil {
				return err
			}
			extra = append(extra, c)
		}
		return nil
	}
	for _, size := range []int{100, 2000} {
		if err := grow(size); err != nil {
			return err
		}
		// The lab's own findings (an EXEC:cat echo, root) are silenced so
		// that the exit code says the audit ran; the work is the same.
		add(fmt.Sprintf("procs: live audit, %d extra processes", size), "check_procs -C socat", 1.0, 20,
			[]string{ours, "--ignore", "remote-exec", "--ignore", "runs-as-root", "--ignore", "unlimited-children",
				"--ignore", "no-idle-timeout", "--ignore", "no-retry"},
			[]string{peer, "-C", "socat"})
	}
	return nil
}

func hostInfo() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s (%d CPUs)", cpu, numCPU())
}

func numCPU() int {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\nprocessor") + 1
}

// benchLogs compares check_socat_logs --no-state with grep -c ' E ' on
// generated socat logs of 100 MB and 1 GB (warm page cache), its
// incremental run after 1 MiB was appended with check_log's on the 100 MB
// log, and times its incremental run after 1 MiB appended to the 1 GB log.
func benchLogs(bin, plugins string, rows *[]row) error {
	ours := filepath.Join(bin, "check_socat_logs")
	checkLog := filepath.Join(plugins, "check_log")
	for _, p := range []string{ours, checkLog} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run `make build` and install monitoring-plugins-basic", p)
		}
	}
	dir, err := os.MkdirTemp("", "bench-logs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	chunk := socatLogChunk(1 << 20)
	mk := func(name string, size int) (string, error) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		for written := 0; written < size; written += len(chunk) {
			if _, err := f.Write(chunk); err != nil {
				return "", err
			}
		}
		return path, nil
	}
	appendChunk := func(path string) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write(chunk)
		return err
	}
	warm := func(path string) {
		if f, err := os.Open(path); err == nil {
			_, _ = io.Copy(io.Discard, f)
			f.Close()
		}
	}
	small, err := mk("100m.log", 100<<20)
	if err != nil {
		return err
	}
	big, err := mk("1g.log", 1<<30)
	if err != nil {
		return err
	}
	full := func(name, path string, n int) {
		warm(path)
		fmt.Fprintf(os.Stderr, "bench: %s (%d runs each)...\n", name, n)
		o, p := compare(n, []string{ours, "--no-state", "-f", path}, []string{"grep", "-c", " E ", path})
		*rows = append(*rows, row{name: name, ours: o, peer: p, peerName: "grep -c ' E '", timeTarget: 2, rssTargetMiB: 32})
		fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", o.firstOut, p.firstOut)
	}
	full("logs: full scan of 100 MB, --no-state", small, 20)
	full("logs: full scan of 1 GB, --no-state", big, 5)
	if err := benchAdversarial(dir, ours, rows); err != nil {
		return err
	}

	// Incremental: 1 MiB appended before every run of either program.
	states := filepath.Join(dir, "state")
	oldLog := filepath.Join(dir, "check_log.old")
	incr := func(path string, n int, argv []string) stats {
		var samples []sample
		fails := 0
		first := ""
		for i := 0; i < n; i++ {
			if err := appendChunk(path); err != nil {
				fails++
				continue
			}
			s, out, err := measure(argv)
			samples = append(samples, s)
			if first == "" {
				first = strings.SplitN(out, "\n", 2)[0]
			}
			if err != nil {
				fails++
			}
		}
		st := summarize(samples, fails, first)
		_ = appendChunk(path)
		if kib, err := peakRSS(argv); err == nil {
			st.peakRSS = kib
		}
		return st
	}
	oursSmall := []string{ours, "-f", small, "--state-dir", states}
	peerSmall := []string{checkLog, "-F", small, "-O", oldLog, "-q", " E "}
	_, _, _ = measure(oursSmall) // the first runs record the position
	_, _, _ = measure(peerSmall)
	fmt.Fprintf(os.Stderr, "bench: logs: incremental run after 1 MiB appended, 100 MB log (20 runs each)...\n")
	o := incr(small, 20, oursSmall)
	p := incr(small, 20, peerSmall)
	*rows = append(*rows, row{name: "logs: incremental run after 1 MiB appended, 100 MB log", ours: o, peer: p, peerName: "check_log", timeTarget: 0, rssTargetMiB: 32})
	fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", o.firstOut, p.firstOut)

	oursBig := []string{ours, "-f", big, "--state-dir", states}
	_, _, _ = measure(oursBig)
	fmt.Fprintf(os.Stderr, "bench: logs: incremental run after 1 MiB appended, 1 GB log (20 runs)...\n")
	o = incr(big, 20, oursBig)
	*rows = append(*rows, row{name: "logs: incremental run after 1 MiB appended, 1 GB log", ours: o, absTarget: 50 * time.Millisecond, rssTargetMiB: 32})
	fmt.Fprintf(os.Stderr, "  ours: %s\n", o.firstOut)
	return nil
}

// benchAdversarial runs the full scan over each adversarial log of
// internal/loggen (1 GB each, and the crash loop at 4 GB), next to grep,
// and checks that the exits and accepted connections counted are the ones
// written: memory must not grow with what the log holds.
func benchAdversarial(dir, ours string, rows *[]row) error {
	type job struct {
		kind loggen.Kind
		size int64
	}
	var jobs []job
	for _, k := range loggen.Kinds() {
		jobs = append(jobs, job{k, 1 << 30})
	}
	jobs = append(jobs, job{loggen.CrashLoop, 4 << 30})
	for _, j := range jobs {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.log", j.kind, j.size>>20))
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		want, err := loggen.Write(f, j.kind, j.size)
		f.Close()
		if err != nil {
			return err
		}
		name := fmt.Sprintf("logs: adversarial %s, %s, --no-state", j.kind, sizeName(want.Bytes))
		fmt.Fprintf(os.Stderr, "bench: %s (3 runs each)...\n", name)
		o, p := compare(3, []string{ours, "--no-state", "-f", path}, []string{"grep", "-c", " E ", path})
		// The target for these shapes is memory; their time next
		// to grep (which reads no record) is informational.
		r := row{name: name, ours: o, peer: p, peerName: "grep -c ' E '", rssTargetMiB: 32}
		got := fmt.Sprintf("exit %d, accepted %d", perfInt(o.firstOut, "exit"), perfInt(o.firstOut, "accepted"))
		if w := fmt.Sprintf("exit %d, accepted %d", want.Exits, want.Accepted); got != w {
			r.note = fmt.Sprintf(" COUNTED WRONG: %s, written %s", got, w)
		} else {
			r.note = fmt.Sprintf(" (%s, as written)", got)
		}
		*rows = append(*rows, r)
		fmt.Fprintf(os.Stderr, "  ours: %.200s\n  peer: %s\n", o.firstOut, p.firstOut)
		os.Remove(path)
	}
	return nil
}

func sizeName(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.0f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// perfRe is one perfdata item; the label is quoted or not (the plugins
// stopped quoting in issue 12, and the bench read -1 for every count).
var perfRe = regexp.MustCompile(`(?:^| )'?([a-z_]+)'?=(\d+)`)

// perfInt reads a perfdata value of a plugin's first line (-1 if absent).
func perfInt(line, label string) int64 {
	parts := strings.SplitN(line, " | ", 2)
	for _, m := range perfRe.FindAllStringSubmatch(parts[len(parts)-1], -1) {
		if m[1] == label {
			var v int64
			_, _ = fmt.Sscan(m[2], &v)
			return v
		}
	}
	return -1
}

// socatLogChunk is about size bytes of realistic socat -d -d log lines:
// a forking relay's connections, some failing, from several PIDs.
func socatLogChunk(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		pid := 2000 + i%4 // four forking listeners
		child := 10000 + i%3000000
		fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N accepting connection from AF=2 10.1.%d.%d:%d on AF=2 0.0.0.0:8443\n", i%60, pid, i%250, i%200, 30000+i%30000)
		fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N forked off child process %d\n", i%60, pid, child)
		fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N listening on AF=2 0.0.0.0:8443\n", i%60, pid)
		switch i % 10 {
		case 3:
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] E connect(5, AF=2 10.9.0.1:8080, 16): Connection refused\n", i%60, child)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N exit(1)\n", i%60, child)
		case 7:
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] E SSL_accept(): error:0A00010B:SSL routines::wrong version number\n", i%60, child)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N exit(1)\n", i%60, child)
		default:
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N opening connection to AF=2 10.9.0.1:8080\n", i%60, child)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N successfully connected from local address AF=2 10.9.0.2:%d\n", i%60, child, 40000+i%20000)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N starting data transfer loop with FDs [6,6] and [5,5]\n", i%60, child)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N socket 1 (fd 6) is at EOF\n", i%60, child)
			fmt.Fprintf(&b, "2026/11/26 06:24:%02d socat[%d] N exiting with status 0\n", i%60, child)
		}
	}
	return []byte(b.String())
}

// binaryTable is each binary's size and start-up time (--version: the
// runtime, flag parsing, nothing else), median of n runs.
func binaryTable(bin string, names []string, n int) string {
	var b strings.Builder
	b.WriteString("| binary | size | start-up (`--version`, median) | peak RSS |\n|---|---|---|---|\n")
	for _, name := range names {
		path := filepath.Join(bin, name)
		info, err := os.Stat(path)
		if err != nil {
			continue
		}
		var samples []sample
		for i := 0; i < n; i++ {
			s, _, _ := measure([]string{path, "--version"})
			samples = append(samples, s)
		}
		st := summarize(samples, 0, "")
		rss, _ := peakRSS([]string{path, "--version"})
		fmt.Fprintf(&b, "| %s | %.1f MiB | %s | %.1f MiB |\n", name, float64(info.Size())/(1<<20), ms(st.median), float64(rss)/1024)
	}
	b.WriteString("\n")
	return b.String()
}

// buildFloor builds tools/bench/floor (static, stripped like the
// plugins): the least a Go check linking crypto/tls can do.
func buildFloor() (string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-floor")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "floor")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./tools/bench/floor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building tools/bench/floor (run make bench from the repository): %v\n%s", err, out)
	}
	return bin, cleanup, nil
}

// buildHello builds a static Go hello world (CGO_ENABLED=0, stripped like
// the plugins) in a temporary directory: the start-up floor of any Go
// binary on this machine.
func buildHello() (string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-hello")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"), 0o644); err != nil {
		cleanup()
		return "", nil, err
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building the hello world: %v\n%s", err, out)
	}
	return bin, cleanup, nil
}

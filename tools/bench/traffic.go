package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Issue 14's load: 10,000 packets a second for a sample of
// trafficSample; from 500 UDP flows of small requests, and from 4000
// flows of 1 KiB datagrams (more flows than a sample follows, each
// filling what it keeps: the most memory a sample holds).
const (
	trafficRate   = 10000
	trafficSample = 5 * time.Second
)

type trafficLoad struct {
	name    string
	flows   int
	payload int
}

var trafficLoads = []trafficLoad{{"500 flows of 140 B requests", 500, 140}, {"4000 flows of 1 KiB datagrams", 4000, 1024}}

// usage is what GNU time says of one run.
type usage struct {
	cpu    time.Duration // user + system
	rssKiB int64
	out    string
}

// timed runs argv under GNU time and returns its CPU time and peak RSS.
func timed(argv []string) (usage, error) {
	f, err := os.CreateTemp("", "bench-cpu")
	if err != nil {
		return usage{}, err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%U %S %M", "-o", f.Name(), "--"}, argv...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	// The CPU time from wait4, in microseconds (GNU time rounds to 10 ms):
	// GNU time's own and its child's, which it waited for.
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return usage{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var user, sys float64
	var kib int64
	if _, err := fmt.Sscan(lines[len(lines)-1], &user, &sys, &kib); err != nil {
		return usage{}, fmt.Errorf("GNU time said %q: %w", data, err)
	}
	return usage{cpu: cpu, rssKiB: kib, out: out.String()}, nil
}

// udpLoad sends trafficRate datagrams a second to port from load.flows
// sockets until stop is closed.
func udpLoad(port int, load trafficLoad, stop chan struct{}) (*sync.WaitGroup, error) {
	var conns []net.Conn
	for i := 0; i < load.flows; i++ {
		c, err := net.Dial("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, err
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		payload := []byte(strings.Repeat("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 40))[:load.payload] // plaintext
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		start, sent := time.Now(), 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// Catch up to the rate whatever the ticker's jitter.
			due := int(time.Since(start).Seconds() * trafficRate)
			for ; sent < due; sent++ {
				_, _ = conns[sent%len(conns)].Write(payload)
			}
		}
	}()
	return &wg, nil
}

// benchTraffic measures --sample-traffic against tcpdump -w on the same
// load: CPU time (user + system) and peak RSS of a 5 s sample at 10,000
// packets a second, alternating, and checks that both saw the packets.
func benchTraffic(bin string, runs int, rows *[]row, notes *[]string) error {
	ours := filepath.Join(bin, "check_socat_procs")
	if os.Geteuid() != 0 {
		*notes = append(*notes, "Traffic sampling was not measured: it needs CAP_NET_RAW (run make bench as root).\n")
		return nil
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		return errors.New("tcpdump is missing: apt-get install tcpdump")
	}
	// A port for the receiver: bound and released, then socat's.
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	mark := fmt.Sprintf("bench-traffic-%d", os.Getpid())
	sink := exec.Command("socat", "-lp", mark, "-u", fmt.Sprintf("UDP4-RECV:%d,bind=127.0.0.1", port), "/dev/null")
	sink.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sink.Start(); err != nil {
		return err
	}
	defer func() { _ = sink.Process.Kill(); _ = sink.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			break // socat holds it
		}
		c.Close()
		if time.Now().After(deadline) {
			return errors.New("socat did not bind its UDP port")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	dir, err := os.MkdirTemp("", "bench-traffic")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, load := range trafficLoads {
		if err := benchTrafficLoad(ours, mark, port, dir, load, runs, rows, notes); err != nil {
			return err
		}
	}
	return nil
}

func benchTrafficLoad(ours, mark string, port int, dir string, load trafficLoad, runs int, rows *[]row, notes *[]string) error {
	stop := make(chan struct{})
	wg, err := udpLoad(port, load, stop)
	if err != nil {
		return err
	}
	defer func() { close(stop); wg.Wait() }()

	secs := strconv.Itoa(int(trafficSample.Seconds()))
	oursArgv := []string{ours, "--match", mark, "--sample-traffic", secs + "s", "-t", strconv.Itoa(int(trafficSample.Seconds()) + 5)}
	peerArgv := []string{"timeout", "-s", "INT", secs, "tcpdump", "-i", "lo", "-n", "-s", "4352", "-w", filepath.Join(dir, "x.pcap"), "udp port " + strconv.Itoa(port)}
	name := fmt.Sprintf("procs --sample-traffic %s, %d packets/s, %s (CPU time)", trafficSample, trafficRate, load.name)
	fmt.Fprintf(os.Stderr, "bench: %s (%d runs each)...\n", name, runs)
	var o, p []usage
	for i := 0; i < runs; i++ {
		for k := 0; k < 2; k++ {
			argv := oursArgv
			if (i+k)%2 == 1 {
				argv = peerArgv
			}
			u, err := timed(argv)
			if err != nil {
				return err
			}
			if argv[0] == ours {
				o = append(o, u)
			} else {
				p = append(p, u)
			}
		}
	}
	so, sp := usageStats(o), usageStats(p)
	*rows = append(*rows, row{name: name, ours: so, peer: sp, peerName: "tcpdump -w, same filter and snap length", rssTargetMiB: 32})
	fmt.Fprintf(os.Stderr, "  ours: %s\n  peer: %s\n", so.firstOut, sp.firstOut)
	*notes = append(*notes, fmt.Sprintf("Traffic row, %s: UDP to a socat receiver on loopback at %d packets/s; the times are CPU "+
		"(user + system, from wait4) of a %s sample, not wall time; ours judges every flow, tcpdump only writes them. Packets seen: ours %s, tcpdump %s.\n",
		load.name, trafficRate, trafficSample, packetsSeen(so.firstOut), packetsSeen(sp.firstOut)))
	return nil
}
func usageStats(us []usage) stats {
	cpus := make([]time.Duration, len(us))
	var st stats
	for i, u := range us {
		cpus[i] = u.cpu
		st.peakRSS = max(st.peakRSS, u.rssKiB)
	}
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	if len(cpus) > 0 {
		st.median, st.p90 = cpus[len(cpus)/2], cpus[len(cpus)*9/10]
		st.firstOut = strings.SplitN(us[0].out, "\n", 2)[0]
		if strings.Contains(us[0].out, "packets captured") {
			for _, l := range strings.Split(us[0].out, "\n") {
				if strings.Contains(l, "packets captured") {
					st.firstOut = l
				}
			}
		}
	}
	return st
}

// packetsSeen reads the packet count of a first line: our
// traffic_packets perfdata, or tcpdump's "N packets captured".
func packetsSeen(s string) string {
	if i := strings.Index(s, "traffic_packets="); i >= 0 {
		v := s[i+len("traffic_packets="):]
		if j := strings.IndexAny(v, ";, "); j >= 0 {
			v = v[:j]
		}
		return v
	}
	if f := strings.Fields(s); len(f) > 0 && strings.Contains(s, "packets captured") {
		return f[0]
	}
	return "?"
}

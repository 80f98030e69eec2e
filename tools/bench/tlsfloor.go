package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/check-socat/check-socat/internal/tlsscan"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// tlsFloor is the least wall time any full audit of the legacy endpoint
// can take on this machine. socat does the server's side of every probe
// in a child it forks, so a run is bound by socat's CPU, not the
// scanner's: every accepted (version, suite) pair needs at least one
// handshake in which the server picks it, and those handshakes alone
// cost socat minimum CPU time. Spread over every CPU with no overhead,
// they still take minimum/cpus of wall time.
type tlsFloor struct {
	pairs   int
	perRun  time.Duration // socat's CPU (parent and children) per full audit
	ourCPU  time.Duration // check_socat_tls's own CPU per full audit
	minimum time.Duration // socat's CPU for one handshake per accepted pair
	cpus    int
}

// wall is the floor: the minimum work spread over every CPU.
func (f tlsFloor) wall() time.Duration { return f.minimum / time.Duration(max(1, f.cpus)) }

// cpusFor is the fewest CPUs on which the minimum work could fit in
// budget; a necessary condition for a target, not a promise.
func (f tlsFloor) cpusFor(budget time.Duration) int {
	return int(math.Ceil(float64(f.minimum) / float64(budget)))
}

func (f tlsFloor) text(peer string, peerMedian time.Duration, target float64) string {
	floor := f.wall()
	// Issue 16: the audit's cost to socat at most 1.15x the floor's.
	const auditTarget = 1.15
	verdict := "met"
	if r := float64(f.perRun) / float64(f.minimum); r > auditTarget {
		verdict = "NOT MET"
	}
	return fmt.Sprintf("TLS floor: a full audit costs socat %s of CPU (check_socat_tls itself %s); one handshake for each of the %d accepted pairs, "+
		"the least any complete enumeration needs, costs socat %s: the audit costs %.2fx that floor (target <= %.2fx: %s). On %d CPUs no full audit can take less than %s, %.2fx %s's median; "+
		"the %.1fx target needs at least %d CPUs.\n",
		ms(f.perRun), ms(f.ourCPU), f.pairs, ms(f.minimum), float64(f.perRun)/float64(f.minimum), auditTarget, verdict,
		f.cpus, ms(floor), float64(floor)/float64(peerMedian), peer,
		target, f.cpusFor(time.Duration(target*float64(peerMedian))))
}

// measureTLSFloor runs ours n times against the socat listener pid on
// port, then one probe per accepted pair, and reads socat's CPU time
// around each.
func measureTLSFloor(ours []string, pid int, port string, n int) (tlsFloor, error) {
	f := tlsFloor{cpus: numCPU()}
	before, err := socatCPU(pid)
	if err != nil {
		return f, err
	}
	for i := 0; i < n; i++ {
		cmd := exec.Command(ours[0], ours[1:]...)
		var exitErr *exec.ExitError
		if err := cmd.Run(); err != nil && !errors.As(err, &exitErr) {
			return f, err
		}
		f.ourCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	after, err := socatCPU(pid)
	if err != nil {
		return f, err
	}
	f.perRun, f.ourCPU = (after-before)/time.Duration(n), f.ourCPU/time.Duration(n)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	}
	scan := tlsscan.Scan(ctx, dial, "", 4)
	for _, v := range []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13} {
		if err := scan.Errors[v]; err != nil {
			return f, fmt.Errorf("scan of %s: %v", tlswire.VersionName(v), err)
		}
	}
	// Several rounds: socat's CPU is counted in clock ticks.
	const rounds = 3
	if before, err = socatCPU(pid); err != nil {
		return f, err
	}
	for r := 0; r < rounds; r++ {
		for v, suites := range scan.Suites {
			for _, s := range suites {
				fl, err := tlsscan.Probe(ctx, dial, tlswire.Hello{Version: v, Suites: []uint16{s}}, tlswire.UntilHello)
				if !tlsscan.Accepts(fl, v) || fl.Suite != s {
					return f, fmt.Errorf("%s %s was accepted in the scan, not alone: %v", tlswire.VersionName(v), tlswire.Suites().ByCode(s).Name, err)
				}
				if r == 0 {
					f.pairs++
				}
			}
		}
	}
	if after, err = socatCPU(pid); err != nil {
		return f, err
	}
	f.minimum = (after - before) / rounds
	return f, nil
}

// socatCPU is the CPU time of the socat listener pid and of its children
// it has reaped, once every child it forked so far is reaped.
func socatCPU(pid int) (time.Duration, error) {
	children := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	for deadline := time.Now().Add(10 * time.Second); ; {
		data, err := os.ReadFile(children)
		if err != nil {
			return 0, err
		}
		if len(strings.TrimSpace(string(data))) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("socat %d still has children after 10 s: %s", pid, data)
		}
		time.Sleep(time.Millisecond) // polling for the reaping, which has no event to wait on
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks()), nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}

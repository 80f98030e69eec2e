package procs

// --sample-traffic (issue 14): what actually crosses the network through
// each instance. The packets of its ports are sampled in its own network
// namespace (internal/capture), each connection is judged from its first
// bytes in each direction (internal/flowclass), and a leg that carries
// plaintext to or from another host is a finding.
//
// A connection belongs to an instance by its server end: the front leg
// is one the instance accepted (its server end is one of the instance's
// listen addresses), the back leg one it opened (its server end is a
// backend its command line connects to: the address as written, or the
// addresses its name resolves to here). Another program of the same
// network namespace talking to that same backend during the sample is
// counted with the instance: the output names the peers.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/capture"
	"github.com/check-socat/check-socat/internal/flowclass"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/sanitize"
	"github.com/check-socat/check-socat/internal/socatcmd"
	"github.com/check-socat/check-socat/internal/socktable"
)

// The bounds of --sample-traffic.
const (
	MinSample = time.Second
	MaxSample = 60 * time.Second
)

// legEnd is the server end of one leg of an instance.
type legEnd struct {
	proto string     // tcp or udp; "" for either
	addr  netip.Addr // the zero Addr or a wildcard: any address
	port  uint16
}

func (e legEnd) matches(proto string, a netip.AddrPort) bool {
	return a.Port() == e.port && (e.proto == "" || e.proto == proto) &&
		(!e.addr.IsValid() || e.addr.IsUnspecified() || e.addr.WithZone("") == a.Addr().Unmap().WithZone(""))
}

// trafficTarget is one instance as the sample looks for it.
type trafficTarget struct {
	inst, where string
	pid, port   int
	ns          string // its network namespace (Snapshot.Tables' key)
	front, back []legEnd
}

// leg tells which leg of t a flow is: "front", "back" or "". local are
// the addresses of the namespace (nil: unknown, every address may be):
// a front leg ends at one of them, a back leg starts at one, so that a
// wildcard listener is not charged with connections this host only
// forwards (containers on a bridge), nor with its own back leg when the
// backend has the same port.
func (t *trafficTarget) leg(f *capture.Flow, local map[netip.Addr]bool) string {
	isLocal := func(a netip.Addr) bool {
		a = a.Unmap().WithZone("")
		return local == nil || local[a] || a.IsLoopback()
	}
	// A datagram to a multicast or broadcast address is the receiver's
	// too (socat's ip-add-membership, broadcast relays).
	server := f.Server.Addr().Unmap()
	if isLocal(server) || f.Proto == "udp" && (server.IsMulticast() || server == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		for _, e := range t.front {
			if e.matches(f.Proto, f.Server) {
				return "front"
			}
		}
	}
	if isLocal(f.Client.Addr()) {
		for _, e := range t.back {
			if e.matches(f.Proto, f.Server) {
				return "back"
			}
		}
	}
	return ""
}

// ports are the ports the capture filters on for t.
func (t *trafficTarget) ports() []int {
	var out []int
	for _, e := range append(append([]legEnd(nil), t.front...), t.back...) {
		out = append(out, int(e.port))
	}
	return out
}

// frontEnds are where an instance accepts: its listening sockets, and
// the listen ports of its command line (a listener without fork closes
// its listening socket once it has accepted).
func frontEnds(l *live) []legEnd {
	var out []legEnd
	seen := map[legEnd]bool{}
	add := func(e legEnd) {
		if e.port != 0 && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	protoOf := map[uint16]string{}
	if l.cmd != nil {
		for _, s := range l.cmd.Listeners() {
			f := s.Facts(l.cmd.Globals.PreferFamily)
			p := f.ListenPort()
			if p == 0 || (f.Proto != "tcp" && f.Proto != "udp") {
				continue
			}
			protoOf[uint16(p)] = f.Proto
			e := legEnd{proto: f.Proto, port: uint16(p)}
			if a, err := netip.ParseAddr(strings.Trim(f.Host, "[]")); err == nil {
				e.addr = a.Unmap()
			}
			add(e)
		}
	}
	for _, a := range l.listens {
		add(legEnd{proto: protoOf[a.Port()], addr: a.Addr().Unmap(), port: a.Port()})
	}
	return out
}

// backEnds are the TCP and UDP backends a command line connects to (a
// proxy or SOCKS server stands for the backend behind it). A name is
// resolved here; when it does not resolve, its leg is recognised by the
// port alone, and a note says so.
func backEnds(ctx context.Context, c *socatcmd.Command, where string) (ends []legEnd, notes []string) {
	if c == nil {
		return nil, nil
	}
	for _, s := range c.Singles() {
		f := s.Facts(c.Globals.PreferFamily)
		if f.Role != socatcmd.RoleConnect || (f.Proto != "tcp" && f.Proto != "udp") {
			continue
		}
		port, err := strconv.Atoi(f.Port)
		if err != nil {
			port, err = net.DefaultResolver.LookupPort(ctx, f.Proto, f.Port)
		}
		if err != nil || port < 1 || port > 65535 {
			notes = append(notes, fmt.Sprintf("note: %s connects to port %s, which is not a port number or a known service here: that leg is not sampled",
				where, sanitize.Text(f.Port, 40)))
			continue
		}
		host := strings.Trim(f.Host, "[]")
		if a, err := netip.ParseAddr(host); err == nil {
			ends = append(ends, legEnd{proto: f.Proto, addr: a.Unmap(), port: uint16(port)})
			continue
		}
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			ends = append(ends, legEnd{proto: f.Proto, port: uint16(port)})
			notes = append(notes, fmt.Sprintf("note: %s connects to %s, which does not resolve here: its back leg is recognised by port %d alone",
				where, sanitize.Text(host, 80), port))
			continue
		}
		for _, a := range addrs {
			ends = append(ends, legEnd{proto: f.Proto, addr: a.Unmap(), port: uint16(port)})
		}
	}
	return ends, notes
}

// netnsOf is the network namespace of an instance. Another user's
// namespace link cannot be read (its key is "pid:N"): when its socket
// table shares a socket with ours it is ours (socket inodes are unique
// across namespaces), and an unprivileged user with CAP_NET_RAW samples
// it without entering anything.
func netnsOf(ns string, tables map[string]socktable.Table, ownNS string) string {
	if !strings.HasPrefix(ns, "pid:") {
		return ns
	}
	theirs := tables[ns]
	own, ok := tables[ownNS]
	if !ok {
		var err error
		if own, err = socktable.ReadOwn(); err != nil {
			return ns
		}
		tables[ownNS] = own
	}
	for ino := range theirs {
		if _, ok := own[ino]; ok {
			return ownNS
		}
	}
	return ns
}

// trafficError is a capture that could not start: said as UNKNOWN, with
// the capability it needs and how to grant it.
func trafficError(err error) error {
	const recipe = "run as root, or grant it to this binary as the README's traffic sampling recipe says (setcap)"
	switch {
	case errors.Is(err, capture.ErrPermission):
		return fmt.Errorf("--sample-traffic needs CAP_NET_RAW to capture packets: %s", recipe)
	case errors.Is(err, capture.ErrNamespacePermission):
		return fmt.Errorf("--sample-traffic needs CAP_SYS_ADMIN to enter an instance's network namespace (and CAP_SYS_PTRACE for another user's): %s", recipe)
	}
	return fmt.Errorf("--sample-traffic: %v", err)
}

// maxNamespaces bounds the network namespaces one run samples.
const maxNamespaces = 8

// sample is the capture of one network namespace.
type sample struct {
	targets []*trafficTarget
	cap     *capture.Capture
	res     *capture.Result
	err     error
}

// sampleTraffic captures the traffic of every target for d, all network
// namespaces at once, and returns what each namespace's capture saw.
func sampleTraffic(ctx context.Context, targets []*trafficTarget, d time.Duration, ownNS string) ([]*sample, []string, error) {
	byNS := map[string]*sample{}
	var order []string
	for _, t := range targets {
		if len(t.front)+len(t.back) == 0 {
			continue
		}
		s := byNS[t.ns]
		if s == nil {
			s = &sample{}
			byNS[t.ns] = s
			order = append(order, t.ns)
		}
		s.targets = append(s.targets, t)
	}
	var notes []string
	// At most maxNamespaces at once, each with its share of a run's
	// bounds (flows followed, ring): the run's memory does not grow with
	// the number of containers.
	if len(order) > maxNamespaces {
		var left []string
		for _, ns := range order[maxNamespaces:] {
			for _, t := range byNS[ns].targets {
				left = append(left, t.where)
			}
		}
		notes = append(notes, fmt.Sprintf("note: the instances are in %d network namespaces and a run samples %d: not sampled: %s (select them with --match)",
			len(order), maxNamespaces, joinMax(left, 5)))
		order = order[:maxNamespaces]
	}
	share := capture.Share(len(order))
	var samples []*sample
	closeAll := func() {
		for _, s := range samples {
			s.cap.Close()
		}
	}
	for _, ns := range order {
		s := byNS[ns]
		ports := map[int]bool{}
		var list []int
		for _, t := range s.targets {
			for _, p := range t.ports() {
				if !ports[p] {
					ports[p] = true
					list = append(list, p)
				}
			}
		}
		if len(list) > capture.MaxPorts {
			notes = append(notes, fmt.Sprintf("note: the instances of network namespace %s use %d ports; the sample follows the first %d", ns, len(list), capture.MaxPorts))
			list = list[:capture.MaxPorts]
		}
		var c *capture.Capture
		var err error
		if ns == ownNS {
			c, err = capture.Open("", list, share)
		} else {
			c, err = capture.OpenInNetns(fmt.Sprintf("/proc/%d/ns/net", s.targets[0].pid), "", list, share)
		}
		if err != nil {
			if errors.Is(err, capture.ErrPermission) || errors.Is(err, capture.ErrNamespacePermission) {
				closeAll()
				return nil, nil, trafficError(err)
			}
			// The instance may have ended since the scan.
			notes = append(notes, fmt.Sprintf("note: the traffic of network namespace %s was not sampled: %s", ns, sanitize.Text(err.Error(), 160)))
			continue
		}
		s.cap = c
		samples = append(samples, s)
	}
	var wg sync.WaitGroup
	for _, s := range samples {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil { // said as a note, not a crash
					s.res, s.err = nil, fmt.Errorf("the capture failed: %v", p)
				}
			}()
			s.res, s.err = s.cap.Run(ctx, d)
		}()
	}
	wg.Wait()
	closeAll()
	for _, s := range samples {
		if s.err != nil {
			notes = append(notes, fmt.Sprintf("note: the traffic sample was cut short: %s", sanitize.Text(s.err.Error(), 160)))
		}
	}
	return samples, notes, nil
}

// The classes of traffic the metrics count.
var trafficBuckets = []string{"tls", "ssh", "encrypted", "plaintext", "unknown", "idle"}

// bucket is the class a connection counts in.
func bucket(c flowclass.Class) string {
	switch {
	case c.Proto == "":
		return "idle" // no payload during the sample
	case c.Plaintext:
		return "plaintext"
	case c.Proto == "TLS" || c.Proto == "DTLS":
		return "tls"
	case c.Proto == "SSH":
		return "ssh"
	case c.Proto == "encrypted" || c.Proto == "WireGuard" || c.Proto == "QUIC" || c.Proto == "OpenVPN" || c.Proto == "RDP standard security":
		return "encrypted"
	}
	return "unknown" // too few bytes, or a hand-over to TLS whose rest was not seen
}

// trafficGroup is the connections of one leg that carry the same thing.
type trafficGroup struct {
	leg        string // front or back
	proto      string // as flowclass names it; "" when no payload was seen
	tlsVersion string
	offered    string // the client's highest, when the server's answer was not seen
	via        string // the plaintext start that handed over to TLS
	plaintext  bool
	weak       bool
	loopback   bool // every packet stayed on a loopback device
	peers      []string
	morePeers  int
	conns      int
	bytes      int64
	evidence   string
	// clientEvidence: the evidence is what a client sent.
	clientEvidence bool
	sni            string
}

// maxPeers bounds the peers a group names.
const maxPeers = 3

func (g *trafficGroup) addPeer(p string) {
	for _, x := range g.peers {
		if x == p {
			return
		}
	}
	if len(g.peers) < maxPeers {
		g.peers = append(g.peers, p)
	} else {
		g.morePeers++
	}
}

// trafficReport is what the sample says of one instance.
type trafficReport struct {
	target *trafficTarget
	groups []*trafficGroup
	conns  map[string]int   // by bucket
	bytes  map[string]int64 // by bucket
	total  int
	// each is every connection's verdict, for -vv (and the oracle test,
	// which compares them with tshark's connection by connection).
	each []string
	// broken counts flows whose judgement failed.
	broken int
}

// classifyFlow judges one flow; ok is false when the judgement failed
// (a bug, said as a note: one hostile flow does not cost the run).
func classifyFlow(f *capture.Flow) (c flowclass.Class, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	switch {
	case f.Proto == "udp":
		// Each way's first datagram: plaintext either way is plaintext.
		c := flowclass.ClassifyDatagram(f.ClientBytes)
		if len(f.ClientBytes) == 0 || !c.Plaintext && len(f.ServerBytes) > 0 {
			if s := flowclass.ClassifyDatagram(f.ServerBytes); s.Plaintext || len(f.ClientBytes) == 0 {
				return s, true
			}
		}
		return c, true
	case f.Started:
		return flowclass.Classify(f.ClientBytes, f.ServerBytes), true
	}
	return flowclass.ClassifyMiddle(f.ClientBytes, f.ServerBytes), true
}

// isLoopback: a flow whose packets crossed a loopback device, or whose
// two ends are loopback addresses, never left the host.
func isLoopback(f *capture.Flow) bool {
	return f.Loopback || f.Client.Addr().Unmap().IsLoopback() && f.Server.Addr().Unmap().IsLoopback()
}

// judgeTraffic sorts the flows of a sample into t's legs and judges each
// connection. Flows of other programs are left out.
func judgeTraffic(t *trafficTarget, flows []*capture.Flow, local map[netip.Addr]bool) *trafficReport {
	r := &trafficReport{target: t, conns: map[string]int{}, bytes: map[string]int64{}}
	index := map[string]*trafficGroup{}
	for _, f := range flows {
		leg := t.leg(f, local)
		if leg == "" {
			continue
		}
		c, ok := classifyFlow(f)
		if !ok {
			r.broken++
			continue
		}
		loop := isLoopback(f)
		b := bucket(c)
		r.total++
		r.conns[b]++
		r.bytes[b] += f.Bytes
		key := fmt.Sprintf("%s|%s|%s|%s|%s|%v", leg, c.Proto, c.TLSVersion, c.Offered, c.Via, loop)
		g := index[key]
		if g == nil {
			g = &trafficGroup{leg: leg, proto: c.Proto, tlsVersion: c.TLSVersion, offered: c.Offered, via: c.Via, plaintext: c.Plaintext, weak: c.WeakTLS(), loopback: loop}
			index[key] = g
			r.groups = append(r.groups, g)
		}
		g.conns++
		g.bytes += f.Bytes
		one := &trafficGroup{proto: c.Proto, tlsVersion: c.TLSVersion, offered: c.Offered, via: c.Via, plaintext: c.Plaintext}
		seen := leg
		if !f.Started {
			seen += ", from its middle" // begun before the sample
		}
		r.each = append(r.each, fmt.Sprintf("connection %s %s -> %s (%s): %s, %s", f.Proto,
			f.Client, f.Server, seen, one.what(), byteSize(f.Bytes)))
		if leg == "front" {
			g.addPeer(f.Client.Addr().Unmap().String())
		} else {
			g.addPeer(netip.AddrPortFrom(f.Server.Addr().Unmap(), f.Server.Port()).String())
		}
		// The client's words say most (a request, a login): a connection
		// whose start the sample saw is the better evidence.
		if fromClient := len(f.ClientBytes) > 0; c.Evidence != "" && (g.evidence == "" || fromClient && !g.clientEvidence) {
			g.evidence, g.clientEvidence = c.Evidence, fromClient
		}
		if g.sni == "" {
			g.sni = c.SNI
		}
	}
	// Alerting groups first, then by leg and protocol: the output is
	// the same whatever order the packets came in.
	sort.SliceStable(r.groups, func(i, j int) bool {
		a, b := r.groups[i], r.groups[j]
		if a.alerts() != b.alerts() {
			return a.alerts()
		}
		if a.leg != b.leg {
			return a.leg > b.leg // front before back
		}
		return a.proto < b.proto
	})
	return r
}

// alerts: the group is a finding.
func (g *trafficGroup) alerts() bool { return !g.loopback && (g.plaintext || g.weak) }

// what names what a group carries: "HTTP in clear", "TLS1.3", ...
func (g *trafficGroup) what() string {
	switch {
	case g.proto == "":
		return "no payload"
	case g.plaintext:
		return g.proto + " in clear"
	case g.tlsVersion != "" && g.via != "":
		return g.tlsVersion + " (after " + g.via + ")"
	case g.tlsVersion != "":
		return g.tlsVersion
	case g.proto == flowclass.Undetermined:
		return "too few bytes to judge"
	case g.offered != "":
		return "TLS, the server's answer not seen (the client offers up to " + g.offered + ")"
	case g.proto == "encrypted":
		return "encrypted data (not TLS)"
	}
	return g.proto
}

// where names the leg and its peers: "front leg from 10.0.0.1", "back
// leg to 10.0.0.2:80".
func (g *trafficGroup) where() string {
	peers := strings.Join(g.peers, ", ")
	if g.morePeers > 0 {
		peers += fmt.Sprintf(" (+%d more)", g.morePeers)
	}
	if g.leg == "front" {
		return "front leg from " + peers
	}
	return "back leg to " + peers
}

func (g *trafficGroup) amount() string {
	return fmt.Sprintf("%d connection%s, %s", g.conns, plural(g.conns), byteSize(g.bytes))
}

// byteSize is a byte count for people: 512 B, 1.5 KiB, 3.2 MiB.
func byteSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// findings are the report's alerting groups as catalogue findings.
func (r *trafficReport) findings() []Finding {
	t := r.target
	var out []Finding
	for _, g := range r.groups {
		if !g.alerts() {
			continue
		}
		f := Finding{Where: t.where, PID: t.pid, Port: t.port}
		switch {
		case g.plaintext:
			f.ID = IDPlaintextInTransit
			f.Reason = fmt.Sprintf("the %s carries %s (%s)", g.where(), g.what(), g.amount())
			if g.evidence != "" {
				f.Reason += ": " + g.evidence
			}
			if g.leg == "front" {
				f.Remedy = "accept TLS only (OPENSSL-LISTEN with cert= and cafile=), or bind the listener to loopback; rotate any credential seen here"
			} else {
				f.Remedy = "connect to the backend with TLS (OPENSSL:HOST:PORT with cafile=) or through an encrypted tunnel; rotate any credential seen here"
			}
		default:
			f.ID = IDWeakTLSInTransit
			f.Reason = fmt.Sprintf("the %s negotiates %s (%s)", g.where(), g.tlsVersion, g.amount())
			if g.tlsVersion == "" {
				f.Reason = fmt.Sprintf("the %s offers TLS up to %s only (%s)", g.where(), g.offered, g.amount())
			}
			f.Remedy = "require TLS 1.2 or later on this leg: min-proto-version=TLS1.2 on socat's OPENSSL address, and upgrade the peer"
		}
		f.State = DefaultState(f.ID)
		out = append(out, f)
	}
	return out
}

// details are the report as lines of long output: every group, the
// loopback ones said as such (reported, not alerted).
func (r *trafficReport) details(d time.Duration, verbose int) []string {
	t := r.target
	if r.total == 0 {
		return []string{fmt.Sprintf("traffic %s: no connection in the %s sample", t.where, d)}
	}
	var parts []string
	for _, b := range trafficBuckets {
		if r.conns[b] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", b, r.conns[b]))
		}
	}
	out := []string{fmt.Sprintf("traffic %s: %d connection%s in the %s sample (%s)", t.where, r.total, plural(r.total), d, strings.Join(parts, ", "))}
	if r.broken > 0 {
		out = append(out, fmt.Sprintf("traffic %s: %d connection(s) could not be judged (a bug: please report it)", t.where, r.broken))
	}
	for _, g := range r.groups {
		line := fmt.Sprintf("traffic %s: %s: %s (%s)", t.where, g.where(), g.what(), g.amount())
		if g.sni != "" {
			line += ", SNI " + sanitize.Text(g.sni, 80)
		}
		if g.loopback {
			line += "; on loopback, not alerted"
		}
		if g.plaintext && g.evidence != "" {
			line += ": " + g.evidence
		}
		out = append(out, line)
	}
	if verbose >= 2 {
		for _, e := range r.each {
			out = append(out, fmt.Sprintf("traffic %s: %s", t.where, e))
		}
	}
	return out
}

// metrics are the connections and bytes of each class, for an instance.
func (r *trafficReport) metrics(label string) []checks.Metric {
	inst := r.target.inst
	var out []checks.Metric
	for _, b := range trafficBuckets {
		out = append(out, checks.NewMetric("traffic_connections", "Connections seen during the traffic sample, by what they carry (unknown: too few bytes to judge; idle: no payload).",
			perfdata.New(label+"_"+b+"_conns", float64(r.conns[b]), "").WithMin(0), instanceLabel, inst, "class", b))
	}
	for _, b := range trafficBuckets[:len(trafficBuckets)-1] {
		out = append(out, checks.NewMetric("traffic_bytes", "Payload bytes seen during the traffic sample, by what they carry.",
			perfdata.New(label+"_"+b+"_bytes", float64(r.bytes[b]), "B").WithMin(0), instanceLabel, inst, "class", b))
	}
	return out
}

// trafficAudit is the whole --sample-traffic step of a live audit.
type trafficAudit struct {
	findings []Finding
	details  []string
	notes    []string
	metrics  []checks.Metric
	summary  string // for the first line when nothing alerts
	cut      string // set when the sample was cut too short to judge: UNKNOWN
}

// auditTraffic samples and judges the traffic of the instances.
func auditTraffic(ctx context.Context, env checks.Env, insts []*live, instOf map[int]string, tables map[string]socktable.Table, d time.Duration, ownNS string) (*trafficAudit, error) {
	env.SetStage("traffic sample")
	if err := capture.Probe(); err != nil {
		return nil, trafficError(err)
	}
	var targets []*trafficTarget
	labels := map[*trafficTarget]string{}
	a := &trafficAudit{}
	// The backends' names are resolved all at once, within a second: the
	// sample must start well before the deadline.
	type resolved struct {
		ends  []legEnd
		notes []string
	}
	backs := make([]resolved, len(insts))
	// Half of what the deadline leaves beyond the sample, at most a second.
	budget := time.Second
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, max(0, (time.Until(dl)-d)/2))
	}
	rctx, cancel := context.WithTimeout(ctx, budget)
	var wg sync.WaitGroup
	for i, l := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			backs[i].ends, backs[i].notes = backEnds(rctx, l.cmd, l.where)
		}()
	}
	wg.Wait()
	cancel()
	for i, l := range insts {
		t := &trafficTarget{inst: instOf[l.PID], where: l.where, pid: l.PID, port: l.port, ns: netnsOf(l.NetNS, tables, ownNS), front: frontEnds(l)}
		t.back = backs[i].ends
		a.notes = append(a.notes, backs[i].notes...)
		if len(t.front)+len(t.back) == 0 {
			a.notes = append(a.notes, fmt.Sprintf("note: %s has no TCP or UDP leg to sample", l.where))
			continue
		}
		targets = append(targets, t)
		labels[t] = l.label
	}
	// What a sample keeps is bounded (capture.MaxFlows connections of
	// capture.KeepBytes each way, 16 MiB, and the kernel's 4 MiB ring
	// outside the Go heap, shared among the namespaces); the limit keeps
	// the collector's slack from taking the run past issue 14's 32 MiB.
	debug.SetMemoryLimit(24 << 20)
	samples, notes, err := sampleTraffic(ctx, targets, d, ownNS)
	if err != nil {
		return nil, err
	}
	a.notes = append(a.notes, notes...)
	packets, unfollowed, kernel := 0, 0, 0
	conns := 0
	lasted := d
	for _, s := range samples {
		if s.res != nil {
			lasted = min(lasted, s.res.Duration.Round(100*time.Millisecond))
		}
	}
	for _, s := range samples {
		if s.res == nil {
			continue
		}
		packets += s.res.Packets
		unfollowed += s.res.Dropped
		kernel += s.res.KernelDrops
		for _, t := range s.targets {
			r := judgeTraffic(t, s.res.Flows, s.cap.Local)
			conns += r.total
			a.findings = append(a.findings, r.findings()...)
			a.details = append(a.details, r.details(lasted, env.Verbose)...)
			a.metrics = append(a.metrics, r.metrics(labels[t])...)
		}
	}
	if unfollowed > 0 {
		a.notes = append(a.notes, fmt.Sprintf("note: the sample followed the first %d connections a run keeps (shared among namespaces); %d packets of later ones were counted, not judged", capture.MaxFlows, unfollowed))
	}
	if kernel > 0 {
		a.notes = append(a.notes, fmt.Sprintf("note: the kernel dropped %d packets it could not queue for the sample: some connections may be missing", kernel))
	}
	a.metrics = append(a.metrics,
		checks.NewMetric("traffic_packets", "Packets of the sampled instances' ports seen during the traffic sample.", perfdata.New("traffic_packets", float64(packets), "").WithMin(0)),
		checks.NewMetric("traffic_dropped_packets", "Packets the kernel dropped during the traffic sample (its queue was full).", perfdata.New("traffic_dropped", float64(kernel), "").WithMin(0)),
	)
	if lasted < d-100*time.Millisecond {
		a.notes = append(a.notes, fmt.Sprintf("note: the traffic sample lasted %s of the %s asked: the deadline (-t) came first; give -t more room", lasted, d))
	}
	if len(samples) > 0 && lasted < d/2 {
		// Too short to stand for the traffic: not an OK.
		a.cut = fmt.Sprintf("the traffic sample lasted %s of the %s asked (the deadline came first): give -t more room", lasted, d)
	}
	if conns == 0 {
		a.summary = fmt.Sprintf("no traffic in the %s sample", lasted)
	} else {
		a.summary = fmt.Sprintf("%d connection%s sampled", conns, plural(conns))
	}
	return a, nil
}

package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/flowclass"
	"github.com/check-socat/check-socat/internal/testlab"
)

// A real socat echo on loopback, an HTTP request through it: the
// capture sees the one connection once (loopback hands every packet over
// twice), with the request on the client's side and the echo on the
// server's, and the classifier says HTTP. Traffic to another port is
// not seen: the kernel's filter drops it.
func TestLoopbackHTTP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_NET_RAW; CI runs as root")
	}
	for _, ring := range []bool{true, false} {
		t.Run(map[bool]string{true: "ring", false: "packet by packet"}[ring], func(t *testing.T) {
			useRing = ring
			defer func() { useRing = true }()
			loopbackHTTP(t, ring)
		})
	}
}

func loopbackHTTP(t *testing.T, ring bool) {
	echo := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	other := testlab.Start(t, "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	c, err := Open("lo", []int{echo.Port}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if (c.ring != nil) != ring {
		t.Fatalf("ring %v, want %v", c.ring != nil, ring)
	}
	request := "GET /private HTTP/1.1\r\nHost: db\r\nAuthorization: Basic c2VjcmV0\r\n\r\n"
	for _, port := range []int{echo.Port, other.Port} {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(request)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(request))
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	res, err := c.Run(context.Background(), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Only this test's flows: other tests running at once may listen on
	// the same port number on ::1 (a separate port space), and the
	// capture is by port.
	var mine []*Flow
	for _, f := range res.Flows {
		if f.Server.Addr().String() == "127.0.0.1" {
			mine = append(mine, f)
		}
	}
	res.Flows = mine
	if len(res.Flows) != 1 {
		t.Fatalf("%d flows, want 1: %+v", len(res.Flows), res.Flows)
	}
	f := res.Flows[0]
	if f.Proto != "tcp" || int(f.Server.Port()) != echo.Port || !bytes.Equal(f.ClientBytes, []byte(request)) ||
		!bytes.Equal(f.ServerBytes, []byte(request)) || f.Bytes != int64(2*len(request)) {
		t.Errorf("flow %+v (client %q, server %q)", f, f.ClientBytes, f.ServerBytes)
	}
	cl := flowclass.Classify(f.ClientBytes, f.ServerBytes)
	if cl.Proto != "HTTP" || !cl.Plaintext || bytes.Contains([]byte(cl.Evidence), []byte("c2VjcmV0")) {
		t.Errorf("classified %+v", cl)
	}
}

// Bad input: no port, too many, an interface that does not exist.
func TestOpenRefuses(t *testing.T) {
	if _, err := Open("lo", nil, Limits{}); err == nil {
		t.Errorf("no port accepted")
	}
	if _, err := Open("lo", make([]int, MaxPorts+1), Limits{}); err == nil {
		t.Errorf("%d ports accepted", MaxPorts+1)
	}
	if _, err := Open("no-such-if0", []int{80}, Limits{}); err == nil {
		t.Errorf("a missing interface accepted")
	}
}

// Any frame: parsed or refused, never a panic; what is kept stays
// within its bounds.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 2, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, ok := parse(frame)
		if !ok {
			return
		}
		if len(p.payload) > len(frame) || p.payloadLen < 0 {
			t.Fatalf("payload %d of a %d-byte frame, length %d", len(p.payload), len(frame), p.payloadLen)
		}
		res := &Result{}
		newTable(res, 80).add(p)
	})
}

// Whatever the traffic, what a sample keeps is bounded: more
// connections than MaxFlows, each sending more than KeepBytes each way,
// hold at most MaxFlows * 2 * KeepBytes of payload (and little else);
// the rest is counted.
func TestMemoryBound(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := &Result{}
	tab := newTable(res, 443)
	payload := bytes.Repeat([]byte("x"), 1400)
	server := netip.MustParseAddrPort("192.0.2.2:443")
	for i := 0; i < 2*MaxFlows; i++ {
		client := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.1"), uint16(1024+i))
		tab.add(packet{proto: "tcp", src: client, dst: server, syn: true, seq: 1000})
		tab.add(packet{proto: "tcp", src: server, dst: client, syn: true, ack: true, seq: 5000})
		for j := 0; j < 6; j++ { // 8.4 KB each way
			seq := uint32(j * len(payload))
			tab.add(packet{proto: "tcp", src: client, dst: server, ack: true, seq: 1001 + seq, payload: payload, payloadLen: len(payload)})
			tab.add(packet{proto: "tcp", src: server, dst: client, ack: true, seq: 5001 + seq, payload: payload, payloadLen: len(payload)})
			// The same segment again (a retransmission, or a second
			// interface): counted as a packet, not as bytes.
			tab.add(packet{proto: "tcp", src: server, dst: client, ack: true, seq: 5001 + seq, payload: payload, payloadLen: len(payload)})
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := 0
	for _, f := range res.Flows {
		kept += len(f.ClientBytes) + len(f.ServerBytes)
		if len(f.ClientBytes) != KeepBytes || cap(f.ServerBytes) != KeepBytes || f.Bytes != 12*1400 {
			t.Fatalf("flow keeps %d/%d bytes (cap %d), counts %d", len(f.ClientBytes), len(f.ServerBytes), cap(f.ServerBytes), f.Bytes)
		}
	}
	if len(res.Flows) != MaxFlows || res.Dropped != MaxFlows*20 || kept != MaxFlows*2*KeepBytes {
		t.Errorf("%d flows, %d packets not followed, %d bytes kept", len(res.Flows), res.Dropped, kept)
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(MaxFlows*2*KeepBytes) + 2<<20; grew > limit {
		t.Errorf("the heap grew by %.1f MiB, more than %.1f MiB", float64(grew)/(1<<20), float64(limit)/(1<<20))
	}
	// Data on the SYN (TCP Fast Open) is kept; a new SYN on the 4-tuple
	// of a connection that ended is a flow of its own.
	ftab := newTable(&Result{}, 443)
	c1 := netip.MustParseAddrPort("198.51.100.7:40000")
	ftab.add(packet{proto: "tcp", src: c1, dst: server, syn: true, seq: 100, payload: payload[:10], payloadLen: 10})
	ftab.add(packet{proto: "tcp", src: c1, dst: server, ack: true, seq: 111, payload: payload[:5], payloadLen: 5})
	ftab.add(packet{proto: "tcp", src: c1, dst: server, syn: true, seq: 90000})
	ftab.add(packet{proto: "tcp", src: c1, dst: server, ack: true, seq: 90001, payload: payload[:7], payloadLen: 7})
	if fl := ftab.res.Flows; len(fl) != 2 || len(fl[0].ClientBytes) != 15 || fl[0].Bytes != 15 || len(fl[1].ClientBytes) != 7 {
		t.Errorf("TFO and reuse: %d flows", len(fl))
	}
	// New SYNs on one 4-tuple (a fixed source port, RST between) make
	// new flows, and they count against the bound too.
	rtab := newTable(&Result{}, 443)
	for i := 0; i < 3*MaxFlows; i++ {
		rtab.add(packet{proto: "tcp", src: c1, dst: server, syn: true, seq: uint32(i) * 100000})
		rtab.add(packet{proto: "tcp", src: c1, dst: server, ack: true, seq: uint32(i)*100000 + 1, payload: payload, payloadLen: len(payload)})
	}
	if n := len(rtab.res.Flows); n != MaxFlows || rtab.res.Dropped == 0 {
		t.Errorf("reused 4-tuple: %d flows, %d packets not followed", n, rtab.res.Dropped)
	}
	// A datagram flow keeps its first datagram each way.
	udp := &Result{}
	utab := newTable(udp, 53)
	a, b := netip.MustParseAddrPort("198.51.100.1:5000"), netip.MustParseAddrPort("192.0.2.2:53")
	for i := 0; i < 10; i++ {
		utab.add(packet{proto: "udp", src: a, dst: b, payload: payload[:100+i], payloadLen: 100 + i})
	}
	if f := udp.Flows[0]; len(f.ClientBytes) != 100 || cap(f.ClientBytes) != 100 || f.Packets != 10 {
		t.Errorf("UDP flow keeps %d bytes (cap %d) of %d packets", len(f.ClientBytes), cap(f.ClientBytes), f.Packets)
	}
}

func newTable(res *Result, ports ...uint16) *table {
	t := &table{res: res, flows: map[flowKey]*Flow{}, ports: map[uint16]bool{}, maxFlows: MaxFlows}
	for _, p := range ports {
		t.ports[p] = true
	}
	return t
}

// The filter for MaxPorts ports assembles (its jumps fit in a byte), and
// the same ports over UDP and TCP are two flows.
func TestFilterFits(t *testing.T) {
	ports := make([]int, MaxPorts)
	for i := range ports {
		ports[i] = 1000 + i
	}
	if prog := portFilter(ports); len(prog) < 4*MaxPorts {
		t.Errorf("%d instructions for %d ports", len(prog), MaxPorts)
	}
	tab := newTable(&Result{}, 53)
	a, b := netip.MustParseAddrPort("198.51.100.1:5000"), netip.MustParseAddrPort("192.0.2.2:53")
	tab.add(packet{proto: "udp", src: a, dst: b, payload: []byte("x"), payloadLen: 1})
	tab.add(packet{proto: "tcp", src: a, dst: b, syn: true})
	if len(tab.res.Flows) != 2 {
		t.Errorf("%d flows, want a UDP one and a TCP one", len(tab.res.Flows))
	}
}

// Any block of the ring, as if the kernel wrote nonsense: read or
// skipped, never a panic.
func FuzzReadBlock(f *testing.F) {
	block := make([]byte, 256)
	binary.NativeEndian.PutUint32(block[12:], 1)  // one packet
	binary.NativeEndian.PutUint32(block[16:], 48) // at 48
	f.Add(block)
	f.Fuzz(func(t *testing.T, block []byte) {
		if len(block) < 20 {
			return
		}
		c := &Capture{ports: map[uint16]bool{80: true}}
		c.readBlock(block, newTable(&Result{}, 80))
	})
}

// The capture made inside a network namespace the test creates sees the
// traffic there (a socat and its client in the namespace).
func TestInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_SYS_ADMIN and CAP_NET_RAW; CI runs as root")
	}
	testlab.Need(t, "ip", "socat")
	ns := "cscap" + strconv.Itoa(os.Getpid())
	testlab.MustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	testlab.MustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	const port = 47011 // the namespace is the test's own: nobody else uses the port
	testlab.StartInNetns(t, ns, "socat", "TCP-LISTEN:"+strconv.Itoa(port)+",bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
	c, err := OpenInNetns("/run/netns/"+ns, "lo", []int{port}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payload := "SSH-2.0-capture-test\r\n"
	var out []byte
	testlab.Eventually(t, 10*time.Second, "socat to answer in the namespace", func() bool {
		cmd := exec.Command("ip", "netns", "exec", ns, "socat", "-T", "2", "-", "TCP:127.0.0.1:"+strconv.Itoa(port))
		cmd.Stdin = bytes.NewReader([]byte(payload))
		var err error
		out, err = cmd.Output()
		return err == nil && string(out) == payload
	})
	res, err := c.Run(context.Background(), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var ssh *Flow
	for _, f := range res.Flows {
		if bytes.Equal(f.ClientBytes, []byte(payload)) && bytes.Equal(f.ServerBytes, []byte(payload)) {
			ssh = f
		}
	}
	if ssh == nil || flowclass.Classify(ssh.ClientBytes, ssh.ServerBytes).Proto != "SSH" {
		t.Errorf("no SSH flow among %d: %+v", len(res.Flows), res.Flows)
	}
	// The host's loopback is another interface: a capture there sees
	// nothing of the namespace.
	host, err := Open("lo", []int{port}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	cmd := exec.Command("ip", "netns", "exec", ns, "socat", "-T", "2", "-", "TCP:127.0.0.1:"+strconv.Itoa(port))
	cmd.Stdin = bytes.NewReader([]byte(payload))
	if _, err := cmd.Output(); err != nil {
		t.Fatal(err)
	}
	if r, _ := host.Run(context.Background(), 200*time.Millisecond); len(r.Flows) != 0 {
		t.Errorf("the host's loopback saw the namespace's traffic: %+v", r.Flows)
	}
}

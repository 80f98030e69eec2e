// Package capture samples the TCP and UDP traffic of some ports on one
// network interface for a while, in pure Go: an AF_PACKET socket with a
// classic BPF filter the kernel applies, so that only those ports' packets
// reach us. It keeps the first bytes of each direction of each flow (for
// internal/flowclass) and counts the rest; memory is bounded by the
// number of flows and the bytes kept per direction, whatever the traffic.
//
// It needs CAP_NET_RAW. On loopback the kernel hands every packet over
// twice (as it leaves and as it arrives): the outgoing copy is dropped.
package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Limits of what a sample keeps.
const (
	// KeepBytes is what is kept of each direction of a flow.
	KeepBytes = 4 << 10
	// MaxFlows bounds the flows followed; later ones are counted only.
	// With KeepBytes each way that is 16 MiB at most, within issue 14's
	// 32 MiB for the whole run.
	MaxFlows = 2048
	snapLen  = 256 + KeepBytes // header room plus what is kept
)

// Flow is one TCP connection or UDP flow seen during the sample. The
// client is the side that sent the SYN, or else the side whose port is
// not one of the sampled ones.
type Flow struct {
	Proto          string // tcp or udp
	Client, Server netip.AddrPort
	// ClientBytes and ServerBytes are the first KeepBytes of payload each
	// side sent, in arrival order (of a UDP flow, its first datagram).
	ClientBytes, ServerBytes []byte
	Packets                  int
	Bytes                    int64 // payload bytes, both directions
	// Loopback: its packets crossed a loopback device (they never left
	// the host, whatever the addresses).
	Loopback bool
	// Started: the sample saw its start (a TCP SYN; any UDP flow). A
	// connection caught in the middle shows its middle bytes only.
	Started bool

	next     [2]uint32 // TCP: the next sequence number of each side
	seqKnown [2]bool
}

// Result is a sample.
type Result struct {
	Flows []*Flow
	// Dropped counts the packets of flows beyond MaxFlows (seen, not
	// followed).
	Dropped int
	Packets int
	// KernelDrops counts packets the kernel could not queue for us (the
	// socket's buffer was full): flows may be missing or cut.
	KernelDrops int
	// Duration is how long the sample lasted: less than asked when the
	// context's deadline or its end came first.
	Duration time.Duration
}

// Limits bound one capture: the flows it follows and the size of its
// ring. The zero value is the whole budget of a run; Share divides it
// among captures that run at once (one per network namespace), so that
// a run stays within issue 14's 32 MiB however many there are.
type Limits struct {
	Flows     int
	RingBytes int
}

// RingBytes is the ring of a run (all its captures together).
const RingBytes = 4 << 20

// Share is the limits of each of n captures running at once.
func Share(n int) Limits {
	n = max(n, 1)
	return Limits{Flows: max(64, MaxFlows/n), RingBytes: max(256<<10, RingBytes/n)}
}

func (l Limits) orDefault() Limits {
	if l.Flows <= 0 {
		l.Flows = MaxFlows
	}
	if l.RingBytes <= 0 {
		l.RingBytes = RingBytes
	}
	return l
}

// ErrPermission is returned when the capture needs CAP_NET_RAW.
var ErrPermission = errors.New("capturing packets needs CAP_NET_RAW")

// ErrNamespacePermission is returned when another network namespace may
// not be entered: that needs CAP_SYS_ADMIN, and opening another user's
// /proc/PID/ns/net needs CAP_SYS_PTRACE.
var ErrNamespacePermission = errors.New("entering another network namespace needs CAP_SYS_ADMIN (and CAP_SYS_PTRACE for another user's process)")

// Probe reports whether this process may capture packets at all: it
// opens (and closes) a packet socket that receives nothing. A run with no
// instance to sample then fails as one with some would.
func Probe() error {
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return ErrPermission
		}
		return fmt.Errorf("packet socket: %w", err)
	}
	return syscall.Close(fd)
}

// MaxPorts bounds the ports of one capture (the filter's jumps are
// 8-bit offsets).
const MaxPorts = 40

// Capture is a packet socket bound to one interface (or all of a
// network namespace) with its port filter: packets are queued from Open
// on, read by Run.
type Capture struct {
	// Local are the addresses of the capture's network namespace (read
	// where the socket was made): whether a connection's end is this
	// host's or one it only forwards. Nil when they could not be read.
	Local map[netip.Addr]bool

	fd        int
	ports     map[uint16]bool
	maxFlows  int
	ring      []byte // the TPACKET_V3 ring shared with the kernel; nil: read packet by packet
	blockSize int
	next      int // the next block of the ring to read
}

// The receive ring (TPACKET_V3, what libpcap uses): the kernel writes
// packets into blocks of a memory area both share, and hands a block over
// when it is full or ringRetire has passed; reading a block costs no
// system call per packet. RingBytes (4 MiB) holds about 0.4 s of 10,000
// 1 KiB packets a second.
const (
	ringBlocks    = 4
	ringFrameSize = 1 << 11 // a unit of the kernel's accounting; V3 packs packets
	ringRetire    = 50      // ms

	solPacket      = 263 // SOL_PACKET
	packetRxRing   = 5   // PACKET_RX_RING
	packetVersion  = 10  // PACKET_VERSION
	tpacketV3      = 2   // TPACKET_V3
	tpStatusUser   = 1   // TP_STATUS_USER: the block is ours to read
	tpStatusKernel = 0   // TP_STATUS_KERNEL: handed back
	tpacket3HdrLen = 48  // TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): struct sockaddr_ll follows
)

// useRing: captures use the ring when the kernel has it (the tests read
// packet by packet too, as a kernel without TPACKET_V3 makes us).
var useRing = true

// tpacketReq3 is struct tpacket_req3 (linux/if_packet.h).
type tpacketReq3 struct {
	blockSize, blockNr, frameSize, frameNr, retireBlkTov, sizeofPriv, featureReqWord uint32
}

// setupRing switches fd to TPACKET_V3 and maps its receive ring of
// ringBlocks blocks of blockSize.
func setupRing(fd, blockSize int) ([]byte, error) {
	if err := syscall.SetsockoptInt(fd, solPacket, packetVersion, tpacketV3); err != nil {
		return nil, fmt.Errorf("PACKET_VERSION: %w", err)
	}
	req := tpacketReq3{blockSize: uint32(blockSize), blockNr: ringBlocks, frameSize: ringFrameSize,
		frameNr: uint32(blockSize / ringFrameSize * ringBlocks), retireBlkTov: ringRetire}
	if err := setsockoptStruct(fd, solPacket, packetRxRing, unsafe.Pointer(&req), unsafe.Sizeof(req)); err != nil {
		return nil, fmt.Errorf("PACKET_RX_RING: %w", err)
	}
	mem, err := syscall.Mmap(fd, 0, blockSize*ringBlocks, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the ring: %w", err)
	}
	return mem, nil
}

// arphrdLoopback is the hardware type of a loopback device
// (ARPHRD_LOOPBACK in linux/if_arp.h).
const arphrdLoopback = 772

// Open starts capturing on iface, or on every interface of the network
// namespace when iface is "", for the given ports (TCP and UDP, either
// side), within lim (the zero Limits: a run's whole budget). Close it
// when done.
func Open(iface string, ports []int, lim Limits) (*Capture, error) {
	lim = lim.orDefault()
	if len(ports) == 0 || len(ports) > MaxPorts {
		return nil, fmt.Errorf("capture: give 1 to %d ports, not %d", MaxPorts, len(ports))
	}
	index := 0
	if iface != "" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %w", iface, err)
		}
		index = ifi.Index
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, int(htons(syscall.ETH_P_ALL)))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, ErrPermission
		}
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	// The filter first, then bind: nothing of other ports is queued.
	if err := attachFilter(fd, portFilter(ports)); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("attaching the port filter: %w", err)
	}
	sll := &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: index}
	if err := syscall.Bind(fd, sll); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("binding to %s: %w", iface, err)
	}
	// A larger queue than the default (about 200 KiB): at 10,000 packets
	// a second a 100 ms scheduling hiccup must not drop packets. Bounded
	// by net.core.rmem_max for an unprivileged caller.
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<20)
	c := &Capture{fd: fd, ports: map[uint16]bool{}, Local: localAddrs(), maxFlows: lim.Flows}
	if useRing {
		// Blocks of whole pages, a multiple of the frame size.
		c.blockSize = max(64<<10, lim.RingBytes/ringBlocks) &^ (64<<10 - 1)
		if ring, err := setupRing(fd, c.blockSize); err == nil {
			c.ring = ring
		} // else: a kernel without TPACKET_V3 (before 3.2) is read packet by packet
	}
	for _, p := range ports {
		c.ports[uint16(p)] = true
	}
	return c, nil
}

// localAddrs are the addresses of this thread's network namespace.
func localAddrs() map[netip.Addr]bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := map[netip.Addr]bool{}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out[p.Addr().Unmap().WithZone("")] = true
			if b := p.Addr().Unmap(); b.Is4() && p.Bits() < 31 { // the subnet's broadcast address
				v := b.As4()
				host := uint32(1)<<(32-p.Bits()) - 1
				n := binary.BigEndian.Uint32(v[:]) | host
				binary.BigEndian.PutUint32(v[:], n)
				out[netip.AddrFrom4(v)] = true
			}
		}
	}
	return out
}

// Close releases the ring and the socket.
func (c *Capture) Close() error {
	if c.ring != nil {
		_ = syscall.Munmap(c.ring)
		c.ring = nil
	}
	return syscall.Close(c.fd)
}

// Run reads the packets until d has passed or ctx ends, and returns the
// flows seen.
func (c *Capture) Run(ctx context.Context, d time.Duration) (*Result, error) {
	res := &Result{}
	tab := &table{res: res, flows: map[flowKey]*Flow{}, ports: c.ports, maxFlows: c.maxFlows}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	end := start.Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	if c.ring != nil {
		return c.runRing(ctx, end, tab)
	}
	// A blocking read that wakes at least every 50 ms to look at the
	// clock and the context: one system call per packet, not two.
	buf := make([]byte, snapLen)
	tv := syscall.NsecToTimeval(int64(50 * time.Millisecond))
	_ = syscall.SetsockoptTimeval(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	for {
		if !time.Now().Before(end) || ctx.Err() != nil {
			break
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return res, fmt.Errorf("reading packets: %w", err)
		}
		loop := false
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OTHERHOST {
			continue // not for this host (a promiscuous device)
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Hatype == arphrdLoopback {
			if ll.Pkttype == syscall.PACKET_OUTGOING {
				continue // loopback: the same packet arrives once more
			}
			loop = true
		}
		res.Packets++
		if pkt, ok := parse(buf[:min(n, len(buf))]); ok {
			pkt.loopback = loop
			tab.add(pkt)
		}
	}
	res.KernelDrops = c.drops()
	return res, nil
}

// runRing reads the blocks the kernel hands over until end or ctx ends,
// waiting in ppoll between them.
func (c *Capture) runRing(ctx context.Context, end time.Time, tab *table) (*Result, error) {
	res := tab.res
	for {
		left := time.Until(end)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		block := c.ring[c.next*c.blockSize : (c.next+1)*c.blockSize]
		status := (*uint32)(unsafe.Pointer(&block[8])) // tpacket_hdr_v1.block_status
		if atomic.LoadUint32(status)&tpStatusUser == 0 {
			if err := c.wait(min(left, ringRetire*time.Millisecond)); err != nil {
				return res, fmt.Errorf("waiting for packets: %w", err)
			}
			continue
		}
		c.readBlock(block, tab)
		atomic.StoreUint32(status, tpStatusKernel)
		c.next = (c.next + 1) % ringBlocks
	}
	res.KernelDrops = c.drops()
	return res, nil
}

// readBlock hands every packet of a block to add, bounds-checked.
func (c *Capture) readBlock(block []byte, tab *table) {
	ne := binary.NativeEndian
	num := ne.Uint32(block[12:16])
	off := int(ne.Uint32(block[16:20]))
	for i := uint32(0); i < num; i++ {
		if off <= 0 || off+tpacket3HdrLen+12 > len(block) {
			return
		}
		hdr := block[off:]
		next := int(ne.Uint32(hdr[0:4]))
		snap := int(ne.Uint32(hdr[12:16]))
		mac := int(ne.Uint16(hdr[24:26]))
		hatype := ne.Uint16(hdr[tpacket3HdrLen+8:])
		pkttype := hdr[tpacket3HdrLen+10]
		if mac >= 0 && snap >= 0 && mac+snap <= len(hdr) && pkttype != syscall.PACKET_OTHERHOST &&
			!(hatype == arphrdLoopback && pkttype == syscall.PACKET_OUTGOING) {
			tab.res.Packets++
			if pkt, ok := parse(hdr[mac : mac+snap]); ok {
				pkt.loopback = hatype == arphrdLoopback
				tab.add(pkt)
			}
		}
		if next == 0 {
			return
		}
		off += next
	}
}

// wait blocks in ppoll until the socket has a block for us or d passes.
func (c *Capture) wait(d time.Duration) error {
	fds := [1]struct {
		fd             int32
		events, revent int16
	}{{fd: int32(c.fd), events: 0x1 | 0x8}} // POLLIN | POLLERR
	ts := syscall.NsecToTimespec(int64(d))
	_, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if errno != 0 && errno != syscall.EINTR {
		return errno
	}
	return nil
}

// drops reads (and resets) the kernel's count of packets it dropped
// for want of room in the socket's queue (PACKET_STATISTICS).
func (c *Capture) drops() int {
	var st struct{ Packets, Drops uint32 }
	if err := getsockoptStruct(c.fd, syscall.SOL_PACKET, packetStatistics, unsafe.Pointer(&st), unsafe.Sizeof(st)); err != nil {
		return 0
	}
	return int(st.Drops)
}

// packetStatistics is PACKET_STATISTICS (linux/if_packet.h).
const packetStatistics = 6

// packet is what one frame says.
type packet struct {
	proto      string
	src, dst   netip.AddrPort
	syn, ack   bool
	seq        uint32 // TCP
	loopback   bool
	payload    []byte
	payloadLen int // as the headers say (the frame may be cut)
}

// flowKey names a flow: its protocol and its two ends, the sender's
// first.
type flowKey struct {
	proto    string
	src, dst netip.AddrPort
}

// table is the flows of one capture.
type table struct {
	res      *Result
	flows    map[flowKey]*Flow
	ports    map[uint16]bool
	maxFlows int
}

// add counts a packet in its flow, and keeps the start of its payload.
func (t *table) add(p packet) {
	res, flows, ports := t.res, t.flows, t.ports
	key := flowKey{p.proto, p.src, p.dst}
	rev := flowKey{p.proto, p.dst, p.src}
	f, fromClient := flows[key], true
	if f == nil {
		if g := flows[rev]; g != nil {
			f, fromClient = g, false
		}
	}
	if f != nil && p.proto == "tcp" && p.syn && !p.ack && fromClient && f.seqKnown[0] && p.seq+1 != f.next[0] {
		// A new connection on the 4-tuple of one that ended: its own flow.
		delete(flows, key)
		f = nil
	}
	if f == nil {
		if len(res.Flows) >= t.maxFlows { // flows, not table entries: a 4-tuple reused holds several
			res.Dropped++
			return
		}
		client, server := p.src, p.dst
		// Without a SYN to tell, the sampled port is the server's.
		if !(p.syn && !p.ack) && (ports[p.src.Port()] && !ports[p.dst.Port()] || p.syn && p.ack) {
			client, server = p.dst, p.src
			fromClient = false
		}
		f = &Flow{Proto: p.proto, Client: client, Server: server, Loopback: p.loopback, Started: p.proto == "udp" || p.syn}
		flows[flowKey{p.proto, client, server}] = f
		res.Flows = append(res.Flows, f)
	}
	f.Packets++
	dir := 0
	side := &f.ClientBytes
	if !fromClient {
		dir, side = 1, &f.ServerBytes
	}
	if p.proto == "tcp" {
		// A segment seen before (a retransmission, or the same packet
		// on a second interface: a bridge and its port) counts once.
		seq := p.seq
		if p.syn {
			seq++ // the SYN takes a number; data on it (TCP Fast Open) follows
		}
		if p.payloadLen == 0 {
			if p.syn {
				f.next[dir], f.seqKnown[dir] = seq, true
			}
			return
		}
		if f.seqKnown[dir] && int32(seq+uint32(p.payloadLen)-f.next[dir]) <= 0 {
			return // nothing new
		}
		f.next[dir], f.seqKnown[dir] = seq+uint32(p.payloadLen), true
	}
	f.Bytes += int64(p.payloadLen)
	if len(p.payload) == 0 || f.Proto == "udp" && len(*side) > 0 {
		return // a datagram flow is judged by its first datagram each way
	}
	room := KeepBytes - len(*side)
	if room <= 0 {
		return
	}
	more := p.payload[:min(room, len(p.payload))]
	if len(*side)+len(more) > cap(*side) {
		// At most two allocations a side: the first packet's size (at
		// least 1 KiB for a stream), then KeepBytes. The kept bytes stay
		// within MaxFlows * 2 * KeepBytes with little garbage beside.
		size := KeepBytes
		switch {
		case f.Proto == "udp":
			size = len(more)
		case cap(*side) == 0:
			size = min(KeepBytes, max(1<<10, len(more)))
		}
		grown := make([]byte, len(*side), size)
		copy(grown, *side)
		*side = grown
	}
	*side = append(*side, more...)
}

// parse reads an Ethernet header (loopback's is one too; one VLAN tag
// is followed), then IPv4 or IPv6, then TCP or UDP. Raw-IP devices (tun,
// ppp) have no such header: their packets are not read (README, Limits).
func parse(b []byte) (packet, bool) {
	if len(b) < 14 {
		return packet{}, false
	}
	eth := binary.BigEndian.Uint16(b[12:14])
	off := 14
	if eth == 0x8100 && len(b) >= 18 { // one VLAN tag
		eth, off = binary.BigEndian.Uint16(b[16:18]), 18
	}
	var p packet
	var l4 []byte
	var next byte
	switch eth {
	case 0x0800:
		ip := b[off:]
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return packet{}, false
		}
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if ihl < 20 || len(ip) < ihl || binary.BigEndian.Uint16(ip[6:8])&0x1fff != 0 {
			return packet{}, false // a fragment after the first: no ports
		}
		src, _ := netip.AddrFromSlice(ip[12:16])
		dst, _ := netip.AddrFromSlice(ip[16:20])
		next = ip[9]
		l4 = ip[ihl:]
		if total >= ihl && total-ihl < len(l4) {
			l4 = l4[:total-ihl]
		}
		p.src, p.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		p.payloadLen = total - ihl
	case 0x86dd:
		ip := b[off:]
		if len(ip) < 40 {
			return packet{}, false
		}
		src, _ := netip.AddrFromSlice(ip[8:24])
		dst, _ := netip.AddrFromSlice(ip[24:40])
		next = ip[6] // extension headers are not followed
		l4 = ip[40:]
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		if plen < len(l4) {
			l4 = l4[:plen]
		}
		p.src, p.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		p.payloadLen = plen
	default:
		return packet{}, false
	}
	switch next {
	case 6:
		if len(l4) < 20 {
			return packet{}, false
		}
		doff := int(l4[12]>>4) * 4
		if doff < 20 || doff > len(l4) {
			return packet{}, false
		}
		p.proto = "tcp"
		p.syn, p.ack = l4[13]&0x02 != 0, l4[13]&0x10 != 0
		p.seq = binary.BigEndian.Uint32(l4[4:8])
		p.payload = l4[doff:]
		p.payloadLen -= doff
	case 17:
		if len(l4) < 8 {
			return packet{}, false
		}
		p.proto = "udp"
		p.payload = l4[8:]
		p.payloadLen -= 8
	default:
		return packet{}, false
	}
	p.src = netip.AddrPortFrom(p.src.Addr(), binary.BigEndian.Uint16(l4[0:2]))
	p.dst = netip.AddrPortFrom(p.dst.Addr(), binary.BigEndian.Uint16(l4[2:4]))
	if p.payloadLen < 0 {
		p.payloadLen = 0
	}
	return p, true
}

// attachFilter sets SO_ATTACH_FILTER (what syscall.AttachLsf did; the
// standard library keeps the types, golang.org/x/net/bpf would add a
// module for one system call).
func attachFilter(fd int, prog []syscall.SockFilter) error {
	fprog := syscall.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return setsockoptStruct(fd, syscall.SOL_SOCKET, syscall.SO_ATTACH_FILTER, unsafe.Pointer(&fprog), unsafe.Sizeof(fprog))
}

// setsockoptStruct sets a socket option to a struct, through the
// syscall package's own setsockopt (a socketcall on 386).
func setsockoptStruct(fd, level, opt int, p unsafe.Pointer, size uintptr) error {
	return syscall.SetsockoptString(fd, level, opt, unsafe.String((*byte)(p), size))
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// OpenInNetns is Open inside another network namespace (netns: a path
// such as /run/netns/NAME or /proc/PID/ns/net): the socket is made there,
// on a locked thread that enters the namespace and comes back, and keeps
// capturing there. It needs CAP_SYS_ADMIN besides CAP_NET_RAW.
func OpenInNetns(netns, iface string, ports []int, lim Limits) (*Capture, error) {
	target, err := os.Open(netns)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: opening %s: %v", ErrNamespacePermission, netns, err)
		}
		return nil, fmt.Errorf("network namespace %s: %w", netns, err)
	}
	defer target.Close()
	// A goroutine of its own on a locked thread: if the thread cannot
	// come back, the goroutine ends still locked and the runtime ends the
	// thread with it; the caller's goroutine never runs in the other
	// namespace.
	type opened struct {
		c   *Capture
		err error
	}
	done := make(chan opened, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- opened{nil, fmt.Errorf("this thread's network namespace: %w", err)}
			return
		}
		defer own.Close()
		if err := setns(int(target.Fd())); err != nil {
			runtime.UnlockOSThread()
			if errors.Is(err, syscall.EPERM) {
				done <- opened{nil, fmt.Errorf("%w: entering %s: %v", ErrNamespacePermission, netns, err)}
				return
			}
			done <- opened{nil, fmt.Errorf("entering %s: %w", netns, err)}
			return
		}
		c, openErr := Open(iface, ports, lim)
		if err := setns(int(own.Fd())); err != nil {
			if c != nil {
				c.Close()
			}
			done <- opened{nil, fmt.Errorf("coming back from %s: %w", netns, err)} // the thread stays locked and ends
			return
		}
		runtime.UnlockOSThread()
		done <- opened{c, openErr}
	}()
	o := <-done
	return o.c, o.err
}

func setns(fd int) error {
	_, _, errno := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

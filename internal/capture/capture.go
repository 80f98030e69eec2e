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
	// side sent, in arrival order.
	ClientBytes, ServerBytes []byte
	Packets                  int
	Bytes                    int64 // payload bytes, both directions
	// Loopback: its packets crossed a loopback device (they never left
	// the host, whatever the addresses).
	Loopback bool
	// Started: the sample saw its start (a TCP SYN; any UDP flow). A
	// connection caught in the middle shows its middle bytes only.
	Started bool
}

// Result is a sample.
type Result struct {
	Flows []*Flow
	// Dropped counts flows beyond MaxFlows (seen, not followed).
	Dropped int
	Packets int
	// KernelDrops counts packets the kernel could not queue for us (the
	// socket's buffer was full): flows may be missing or cut.
	KernelDrops int
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
	fd    int
	ports map[uint16]bool
}

// arphrdLoopback is the hardware type of a loopback device
// (ARPHRD_LOOPBACK in linux/if_arp.h).
const arphrdLoopback = 772

// Open starts capturing on iface, or on every interface of the network
// namespace when iface is "", for the given ports (TCP and UDP, either
// side). Close it when done.
func Open(iface string, ports []int) (*Capture, error) {
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
	c := &Capture{fd: fd, ports: map[uint16]bool{}}
	for _, p := range ports {
		c.ports[uint16(p)] = true
	}
	return c, nil
}

// Close releases the socket.
func (c *Capture) Close() error { return syscall.Close(c.fd) }

// Run reads the packets until d has passed or ctx ends, and returns the
// flows seen.
func (c *Capture) Run(ctx context.Context, d time.Duration) (*Result, error) {
	res := &Result{}
	flows := map[[2]netip.AddrPort]*Flow{}
	buf := make([]byte, snapLen)
	end := time.Now().Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	for {
		left := time.Until(end)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		tv := syscall.NsecToTimeval(int64(min(left, 100*time.Millisecond)))
		_ = syscall.SetsockoptTimeval(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return res, fmt.Errorf("reading packets: %w", err)
		}
		loop := false
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Hatype == arphrdLoopback {
			if ll.Pkttype == syscall.PACKET_OUTGOING {
				continue // loopback: the same packet arrives once more
			}
			loop = true
		}
		res.Packets++
		if pkt, ok := parse(buf[:min(n, len(buf))]); ok {
			pkt.loopback = loop
			add(res, flows, c.ports, pkt)
		}
	}
	res.KernelDrops = c.drops()
	return res, nil
}

// drops reads (and resets) the kernel's count of packets it dropped
// for want of room in the socket's queue (PACKET_STATISTICS).
func (c *Capture) drops() int {
	var st struct{ Packets, Drops uint32 }
	size := uint32(unsafe.Sizeof(st))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(c.fd), syscall.SOL_PACKET, packetStatistics,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return 0
	}
	return int(st.Drops)
}

// packetStatistics is PACKET_STATISTICS (linux/if_packet.h).
const packetStatistics = 6

// Sample opens a capture, runs it for d and closes it.
func Sample(ctx context.Context, iface string, ports []int, d time.Duration) (*Result, error) {
	c, err := Open(iface, ports)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Run(ctx, d)
}

// packet is what one frame says.
type packet struct {
	proto      string
	src, dst   netip.AddrPort
	syn, ack   bool
	loopback   bool
	payload    []byte
	payloadLen int // as the headers say (the frame may be cut)
}

func add(res *Result, flows map[[2]netip.AddrPort]*Flow, ports map[uint16]bool, p packet) {
	key := [2]netip.AddrPort{p.src, p.dst}
	rev := [2]netip.AddrPort{p.dst, p.src}
	f, fromClient := flows[key], true
	if f == nil {
		if g := flows[rev]; g != nil {
			f, fromClient = g, false
		}
	}
	if f == nil {
		if len(flows) >= MaxFlows {
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
		flows[[2]netip.AddrPort{client, server}] = f
		res.Flows = append(res.Flows, f)
	}
	f.Packets++
	f.Bytes += int64(p.payloadLen)
	side := &f.ClientBytes
	if !fromClient {
		side = &f.ServerBytes
	}
	if room := KeepBytes - len(*side); room > 0 && len(p.payload) > 0 {
		more := p.payload[:min(room, len(p.payload))]
		if len(*side)+len(more) > cap(*side) {
			// Grown by hand: append may round up past KeepBytes, and the
			// bound on memory is MaxFlows * 2 * KeepBytes.
			grown := make([]byte, len(*side), min(KeepBytes, max(2*cap(*side), len(*side)+len(more))))
			copy(grown, *side)
			*side = grown
		}
		*side = append(*side, more...)
	}
}

// parse reads Ethernet (or, on loopback and raw IP devices, the cooked
// header the kernel gives), then IPv4 or IPv6, then TCP or UDP.
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
	_, _, errno := syscall.Syscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_ATTACH_FILTER,
		uintptr(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog), 0)
	if errno != 0 {
		return errno
	}
	return nil
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
func OpenInNetns(netns, iface string, ports []int) (*Capture, error) {
	target, err := os.Open(netns)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: opening %s: %v", ErrNamespacePermission, netns, err)
		}
		return nil, fmt.Errorf("network namespace %s: %w", netns, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("this thread's network namespace: %w", err)
	}
	defer own.Close()
	if err := setns(int(target.Fd())); err != nil {
		runtime.UnlockOSThread()
		if errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("%w: entering %s: %v", ErrNamespacePermission, netns, err)
		}
		return nil, fmt.Errorf("entering %s: %w", netns, err)
	}
	c, openErr := Open(iface, ports)
	if err := setns(int(own.Fd())); err != nil {
		// The thread is in the other namespace and cannot come back: it
		// stays locked, and the runtime ends it with this goroutine.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("coming back from %s: %w", netns, err)
	}
	runtime.UnlockOSThread()
	return c, openErr
}

func setns(fd int) error {
	_, _, errno := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

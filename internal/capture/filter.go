package capture

import "syscall"

// Classic BPF opcodes (linux/filter.h).
const (
	ldhAbs  = 0x28 // A = half word at k
	ldbAbs  = 0x30 // A = byte at k
	ldhInd  = 0x48 // A = half word at X+k
	ldxbMsh = 0xb1 // X = 4*(byte at k & 0xf)
	jeqK    = 0x15 // if A == k
	jsetK   = 0x45 // if A & k
	retK    = 0x06 // accept k bytes
)

// insn is an instruction whose jump targets are labels, resolved by
// assemble.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string // labels; "" is the next instruction
	label  string // this instruction's own label
}

// assemble resolves the labels into the kernel's relative offsets.
func assemble(prog []insn) []syscall.SockFilter {
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	rel := func(i int, l string) uint8 {
		if l == "" {
			return 0
		}
		d := at[l] - i - 1
		if d < 0 || d > 255 {
			// Classic BPF jumps forward by at most 255: MaxPorts keeps
			// the program within that (TestFilterFits).
			panic("capture: a filter jump out of range")
		}
		return uint8(d)
	}
	out := make([]syscall.SockFilter, len(prog))
	for i, in := range prog {
		out[i] = syscall.SockFilter{Code: in.code, K: in.k, Jt: rel(i, in.jt), Jf: rel(i, in.jf)}
	}
	return out
}

// portFilter accepts the TCP and UDP packets (IPv4 without later
// fragments, IPv6 without extension headers) whose source or destination
// port is one of ports, cut to snapLen bytes; the kernel drops the rest
// before they reach the socket.
func portFilter(ports []int) []syscall.SockFilter {
	var p []insn
	match := func() {
		for _, port := range ports {
			p = append(p, insn{code: jeqK, k: uint32(port), jt: "accept"})
		}
	}
	p = append(p,
		insn{code: ldhAbs, k: 12},
		insn{code: jeqK, k: 0x0800, jt: "ip4"},
		insn{code: jeqK, k: 0x86dd, jt: "ip6", jf: "drop"},
		// IPv4: TCP or UDP, no later fragment, ports after the header.
		insn{label: "ip4", code: ldbAbs, k: 14 + 9},
		insn{code: jeqK, k: 6, jt: "ip4l4"},
		insn{code: jeqK, k: 17, jt: "ip4l4", jf: "drop"},
		insn{label: "ip4l4", code: ldhAbs, k: 14 + 6},
		insn{code: jsetK, k: 0x1fff, jt: "drop"},
		insn{code: ldxbMsh, k: 14},
		insn{code: ldhInd, k: 14},
	)
	match()
	p = append(p, insn{code: ldhInd, k: 16})
	match()
	p = append(p, insn{code: retK, k: 0})
	// IPv6: TCP or UDP right after the fixed header.
	p = append(p,
		insn{label: "ip6", code: ldbAbs, k: 14 + 6},
		insn{code: jeqK, k: 6, jt: "ip6l4"},
		insn{code: jeqK, k: 17, jt: "ip6l4", jf: "drop"},
		insn{label: "ip6l4", code: ldhAbs, k: 14 + 40},
	)
	match()
	p = append(p, insn{code: ldhAbs, k: 14 + 42})
	match()
	p = append(p,
		insn{label: "drop", code: retK, k: 0},
		insn{label: "accept", code: retK, k: snapLen},
	)
	return assemble(p)
}

package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Header room the snap lengths leave in front of the payload: the longest
// IPv4 header (60 bytes) and the longest TCP header (60 bytes). An IPv6
// header (40) is shorter, and UDP's (8) much shorter, so at least the
// requested number of payload bytes is always kept.
const headerRoom = 60 + 60

const dnsPort = 53

// filterProgram builds the classic BPF program attached to the socket. The
// socket is a cooked one (SOCK_DGRAM), so offset 0 is the IP header on
// every kind of link (Ethernet, loopback, tun, WireGuard, IPIP); the
// EtherType, packet type and link type come from the kernel's ancillary
// loads, which ext produces (tests substitute constants so that the
// program runs in x/net/bpf's VM, which lacks them).
//
// It passes, with the snap lengths as the program's return value:
//   - UDP and TCP from port 53 (DNS answers): dnsSnap bytes, so that a
//     whole answer is kept;
//   - every other TCP segment, IPv4 or IPv6: tcpSnap bytes;
//
// and drops everything else: other protocols, IPv4 fragments after the
// first (they carry no ports), IPv6 packets whose transport header is not
// the first one (extension headers are not walked), and the outgoing copy
// of each loopback packet (the kernel shows loopback traffic twice, once
// sent and once received; the received copy is kept).
func filterProgram(tcpSnap, dnsSnap uint32, ext func(bpf.Extension) bpf.Instruction) ([]bpf.Instruction, error) {
	var a asm
	// Loopback: drop the outgoing copy.
	a.emit(ext(bpf.ExtType))
	a.jeq(unix.PACKET_OUTGOING, "outgoing", "proto")
	a.label("outgoing")
	a.emit(ext(bpf.ExtLinkLayerType))
	a.jeq(unix.ARPHRD_LOOPBACK, "drop", "proto")

	a.label("proto")
	a.emit(ext(bpf.ExtProto))
	a.jeq(unix.ETH_P_IP, "v4", "")
	a.jeq(unix.ETH_P_IPV6, "v6", "drop")

	a.label("v4")
	// Fragment offset (low 13 bits of bytes 6-7) non-zero: no ports here.
	a.emit(bpf.LoadAbsolute{Off: 6, Size: 2})
	a.jset(0x1fff, "drop", "")
	a.emit(bpf.LoadAbsolute{Off: 9, Size: 1}) // protocol
	a.jeq(uint32(TCP), "v4tcp", "")
	a.jeq(uint32(UDP), "v4udp", "drop")
	a.label("v4tcp")
	a.emit(bpf.LoadMemShift{Off: 0})          // X = IHL*4
	a.emit(bpf.LoadIndirect{Off: 0, Size: 2}) // source port
	a.jeq(dnsPort, "dns", "tcp")
	a.label("v4udp")
	a.emit(bpf.LoadMemShift{Off: 0})
	a.emit(bpf.LoadIndirect{Off: 0, Size: 2})
	a.jeq(dnsPort, "dns", "drop")

	a.label("v6")
	a.emit(bpf.LoadAbsolute{Off: 6, Size: 1}) // next header
	a.jeq(uint32(TCP), "v6tcp", "")
	a.jeq(uint32(UDP), "v6udp", "drop")
	a.label("v6tcp")
	a.emit(bpf.LoadAbsolute{Off: ipv6Header, Size: 2})
	a.jeq(dnsPort, "dns", "tcp")
	a.label("v6udp")
	a.emit(bpf.LoadAbsolute{Off: ipv6Header, Size: 2})
	a.jeq(dnsPort, "dns", "drop")

	a.label("tcp")
	a.emit(bpf.RetConstant{Val: tcpSnap})
	a.label("dns")
	a.emit(bpf.RetConstant{Val: dnsSnap})
	a.label("drop")
	a.emit(bpf.RetConstant{Val: 0})
	return a.resolve()
}

// kernelExt is filterProgram's ext for the kernel: the ancillary loads.
func kernelExt(e bpf.Extension) bpf.Instruction { return bpf.LoadExtension{Num: e} }

// assembleFilter turns the program into the kernel's form.
func assembleFilter(tcpSnap, dnsSnap uint32) ([]unix.SockFilter, error) {
	prog, err := filterProgram(tcpSnap, dnsSnap, kernelExt)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assembling the capture filter: %w", err)
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}

// asm is a small assembler with named labels, so that the program above
// reads top to bottom without hand-counted jump offsets.
type asm struct {
	ins    []bpf.Instruction
	labels map[string]int
	jumps  []jump
}

type jump struct {
	at              int
	onTrue, onFalse string // "" is the next instruction
}

func (a *asm) emit(ins ...bpf.Instruction) { a.ins = append(a.ins, ins...) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) jeq(val uint32, t, f string) { a.cond(bpf.JumpEqual, val, t, f) }

func (a *asm) jset(mask uint32, t, f string) { a.cond(bpf.JumpBitsSet, mask, t, f) }

func (a *asm) cond(c bpf.JumpTest, val uint32, t, f string) {
	a.jumps = append(a.jumps, jump{at: len(a.ins), onTrue: t, onFalse: f})
	a.emit(bpf.JumpIf{Cond: c, Val: val})
}

// resolve fills in the jump offsets.
func (a *asm) resolve() ([]bpf.Instruction, error) {
	skip := func(at int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok {
			return 0, fmt.Errorf("capture filter: no label %q", label)
		}
		d := to - at - 1
		if d < 0 || d > 255 {
			return 0, fmt.Errorf("capture filter: jump to %q out of range (%d)", label, d)
		}
		return uint8(d), nil
	}
	for _, j := range a.jumps {
		ins := a.ins[j.at].(bpf.JumpIf)
		var err error
		if ins.SkipTrue, err = skip(j.at, j.onTrue); err != nil {
			return nil, err
		}
		if ins.SkipFalse, err = skip(j.at, j.onFalse); err != nil {
			return nil, err
		}
		a.ins[j.at] = ins
	}
	return a.ins, nil
}

package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// seg describes a packet for the builders below.
type seg struct {
	src, dst netip.AddrPort
	proto    Proto
	seq, ack uint32
	flags    TCPFlags
	payload  []byte
	// wire, when above len(payload), is the payload length the headers
	// declare (the rest was cut, as by a snap length).
	wire int
}

// build makes an IPv4 or IPv6 packet (by the source address) as a cooked
// capture socket sees it, starting at the IP header. Checksums are left at
// zero: nothing here reads them.
func build(s seg) []byte {
	wire := max(s.wire, len(s.payload))
	var l4 []byte
	switch s.proto {
	case UDP:
		l4 = make([]byte, udpHeader)
		binary.BigEndian.PutUint16(l4[0:], s.src.Port())
		binary.BigEndian.PutUint16(l4[2:], s.dst.Port())
		binary.BigEndian.PutUint16(l4[4:], uint16(udpHeader+wire))
	default:
		l4 = make([]byte, tcpMinHeader)
		binary.BigEndian.PutUint16(l4[0:], s.src.Port())
		binary.BigEndian.PutUint16(l4[2:], s.dst.Port())
		binary.BigEndian.PutUint32(l4[4:], s.seq)
		binary.BigEndian.PutUint32(l4[8:], s.ack)
		l4[12] = 5 << 4
		l4[13] = byte(s.flags)
		binary.BigEndian.PutUint16(l4[14:], 64240)
	}
	l4wire := len(l4) + wire
	proto := s.proto
	if proto == 0 {
		proto = TCP
	}
	var ip []byte
	if s.src.Addr().Is4() {
		ip = make([]byte, ipv4MinHeader)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(ipv4MinHeader+l4wire))
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		ip[8] = 64
		ip[9] = byte(proto)
		a, b := s.src.Addr().As4(), s.dst.Addr().As4()
		copy(ip[12:], a[:])
		copy(ip[16:], b[:])
	} else {
		ip = make([]byte, ipv6Header)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(l4wire))
		ip[6] = byte(proto)
		ip[7] = 64
		a, b := s.src.Addr().As16(), s.dst.Addr().As16()
		copy(ip[8:], a[:])
		copy(ip[24:], b[:])
	}
	out := append(ip, l4...)
	return append(out, s.payload...)
}

// packet decodes build's output into a Packet, as Run would deliver it.
func packet(s seg, at time.Time) Packet {
	var p Packet
	if err := Decode(build(s), &p); err != nil {
		panic(err)
	}
	p.Time = at
	p.Len = len(build(s)) - len(s.payload) + max(s.wire, len(s.payload))
	p.IfIndex = 2
	return p
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

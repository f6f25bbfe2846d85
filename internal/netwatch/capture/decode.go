package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Decoding errors. Each frame the ring hands over that fails to decode is
// counted in Stats.DecodeErrors.
var (
	ErrShort       = errors.New("packet shorter than its headers")
	ErrBadHeader   = errors.New("malformed IP or transport header")
	ErrUnsupported = errors.New("not a TCP or UDP packet over IPv4 or IPv6 without extension headers")
	ErrFragment    = errors.New("IPv4 fragment without a transport header")
)

const (
	ipv4MinHeader = 20
	ipv6Header    = 40
	tcpMinHeader  = 20
	udpHeader     = 8
)

// Decode parses data, which begins at the IP header (the capture socket is
// a cooked one, so link headers of any kind are already gone), into p. It
// reads only within data, never allocates, and sets p.Payload to a sub-slice
// of data. p.Time, p.IfIndex, p.Outgoing and p.Len are left to the caller.
//
// The payload is bounded by the lengths the headers declare, not by the
// end of data: a short Ethernet frame's padding is never taken for payload.
func Decode(data []byte, p *Packet) error {
	if len(data) < 1 {
		return ErrShort
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(data, p)
	case 6:
		return decodeIPv6(data, p)
	}
	return ErrUnsupported
}

func decodeIPv4(data []byte, p *Packet) error {
	if len(data) < ipv4MinHeader {
		return ErrShort
	}
	hl := int(data[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if hl < ipv4MinHeader || total < hl {
		return ErrBadHeader
	}
	if len(data) < hl {
		return ErrShort
	}
	frag := binary.BigEndian.Uint16(data[6:8])
	if frag&0x1fff != 0 {
		return ErrFragment
	}
	p.MoreFragments = frag&0x2000 != 0
	src := netip.AddrFrom4([4]byte(data[12:16]))
	dst := netip.AddrFrom4([4]byte(data[16:20]))
	return decodeL4(Proto(data[9]), src, dst, data[hl:], total-hl, p)
}

func decodeIPv6(data []byte, p *Packet) error {
	if len(data) < ipv6Header {
		return ErrShort
	}
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	if plen == 0 {
		// A jumbogram (or a GSO packet whose length the kernel left at 0)
		// carries its length in a hop-by-hop option, which the filter
		// never passes.
		return ErrUnsupported
	}
	p.MoreFragments = false
	src := netip.AddrFrom16([16]byte(data[8:24]))
	dst := netip.AddrFrom16([16]byte(data[24:40]))
	return decodeL4(Proto(data[6]), src, dst, data[ipv6Header:], plen, p)
}

// decodeL4 parses the transport header in l4, whose length on the wire is
// wire (from the IP header); l4 holds what was captured of it.
func decodeL4(proto Proto, src, dst netip.Addr, l4 []byte, wire int, p *Packet) error {
	// What was captured beyond the IP packet's end is link-layer padding.
	if len(l4) > wire {
		l4 = l4[:wire]
	}
	switch proto {
	case TCP:
		if len(l4) < tcpMinHeader {
			if wire < tcpMinHeader {
				return ErrBadHeader
			}
			return ErrShort
		}
		hl := int(l4[12]>>4) * 4
		if hl < tcpMinHeader || hl > wire {
			return ErrBadHeader
		}
		if len(l4) < hl {
			return ErrShort
		}
		p.Proto = TCP
		p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:2]))
		p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:4]))
		p.Seq = binary.BigEndian.Uint32(l4[4:8])
		p.Ack = binary.BigEndian.Uint32(l4[8:12])
		p.TCPFlags = TCPFlags(l4[13])
		p.Payload = l4[hl:]
		p.PayloadLen = wire - hl
		return nil
	case UDP:
		if len(l4) < udpHeader {
			if wire < udpHeader {
				return ErrBadHeader
			}
			return ErrShort
		}
		ulen := int(binary.BigEndian.Uint16(l4[4:6]))
		// A first fragment's UDP length covers the whole datagram, more
		// than this packet carries.
		if ulen < udpHeader || (ulen > wire && !p.MoreFragments) {
			return ErrBadHeader
		}
		p.Proto = UDP
		p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:2]))
		p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:4]))
		p.Seq, p.Ack, p.TCPFlags = 0, 0, 0
		p.PayloadLen = ulen - udpHeader
		if end := min(ulen, len(l4)); end >= udpHeader {
			p.Payload = l4[udpHeader:end]
		}
		return nil
	}
	return ErrUnsupported
}

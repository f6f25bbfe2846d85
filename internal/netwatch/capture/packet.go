package capture

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Proto is a transport protocol number as IP carries it.
type Proto uint8

const (
	TCP Proto = 6
	UDP Proto = 17
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// TCPFlags are the low eight flag bits of a TCP header.
type TCPFlags uint8

const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

func (f TCPFlags) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for i, n := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"} {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Packet is one captured TCP segment or UDP datagram.
type Packet struct {
	// Time is the kernel's receive (or send) timestamp.
	Time time.Time
	// IfIndex is the interface it was seen on, in the namespace of the
	// capture.
	IfIndex int
	// Outgoing is true for a packet this namespace sent, false for one it
	// received (or, on a bridge port, forwarded).
	Outgoing bool
	Src, Dst netip.AddrPort
	Proto    Proto
	// TCPFlags, Seq and Ack are zero for UDP.
	TCPFlags TCPFlags
	Seq, Ack uint32
	// Payload is the transport payload as captured: the first bytes of
	// it, up to the snap length. It points into the capture ring and is
	// valid only during the callback; copy what must outlive it.
	Payload []byte
	// PayloadLen is the payload's length on the wire, from the IP and UDP
	// lengths; it exceeds len(Payload) when the snap length cut it.
	PayloadLen int
	// Len is the IP packet's length on the wire, as the kernel saw it
	// (GRO may have merged several wire segments into one).
	Len int
	// MoreFragments is set for the first fragment of a fragmented IPv4
	// datagram: its payload is incomplete whatever the snap length.
	MoreFragments bool
}

// Truncated reports whether Payload falls short of PayloadLen: the snap
// length cut it, or the packet is the first fragment of an IPv4 datagram.
func (p *Packet) Truncated() bool { return len(p.Payload) < p.PayloadLen }

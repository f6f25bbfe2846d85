package capture

import (
	"fmt"
	"net/netip"
	"time"
)

// Dir is one direction of a flow.
type Dir uint8

const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

func (d Dir) String() string {
	if d == ClientToServer {
		return "client-to-server"
	}
	return "server-to-client"
}

// EndReason says why a flow stopped being tracked.
type EndReason uint8

const (
	EndFIN     EndReason = iota + 1 // both sides sent FIN
	EndRST                          // a side sent RST
	EndIdle                         // nothing for TrackerOptions.IdleTimeout
	EndEvicted                      // MaxFlows were tracked and a new flow took its place
	EndFlush                        // Tracker.Flush
)

func (r EndReason) String() string {
	switch r {
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	case EndIdle:
		return "idle"
	case EndEvicted:
		return "evicted"
	case EndFlush:
		return "flush"
	}
	return fmt.Sprintf("end(%d)", uint8(r))
}

// DirStats counts one direction of a flow.
type DirStats struct {
	Packets uint64
	// Bytes is the IP packets' length on the wire (Packet.Len).
	Bytes uint64
	// PayloadBytes is the TCP payload on the wire, retransmissions
	// included.
	PayloadBytes uint64
	// Retransmits counts payload-carrying segments with no byte beyond
	// those already seen.
	Retransmits uint64
	// Truncated counts segments whose payload the snap length cut.
	Truncated uint64
	// Conflicts counts segments that overlapped bytes already seen with
	// different bytes; the first copy is kept.
	Conflicts uint64
	// FirstSegment is the payload length on the wire of the segment that
	// carried the direction's first byte (0 until it was seen): some
	// protocols show in the sizes of their opening messages (Stratum V2's
	// encrypted handshake) rather than in their bytes.
	FirstSegment int
	// FIN is set once the side sent FIN.
	FIN bool
}

// Timing is one small payload-carrying segment: when it was seen and its
// payload length on the wire.
type Timing struct {
	At  time.Time
	Len int
}

// Flow is one TCP connection, keyed by its 5-tuple.
type Flow struct {
	// Client opened the connection (sent the SYN), Server accepted it.
	Client, Server netip.AddrPort
	// IfIndex is the interface the flow was first seen on; copies of its
	// segments on other interfaces are not counted.
	IfIndex int
	// FirstSeen and LastSeen are the times of its first and latest
	// segments.
	FirstSeen, LastSeen time.Time
	// MidStream is set when the flow was picked up without its SYN or
	// SYN-ACK: the first bytes are then those of the first segment seen,
	// and Client and Server are a guess (the lower port is taken for the
	// server's).
	MidStream bool
	// RST is set once either side reset the connection.
	RST bool
	Dir [2]DirStats

	streams      [2]stream
	timings      [2]timingRing
	firstPayload time.Time // zero until a payload was seen
	finAt        time.Time // when the second FIN was seen, zero before
	delivered    bool      // OnFirstBytes was called
	key          flowKey
	prev, next   *Flow // the tracker's recency list, newest first
}

// Timings returns the times and lengths of the latest small segments
// carrying new data in direction d, oldest first (at most
// TrackerOptions.Timings of them).
func (f *Flow) Timings(d Dir) []Timing {
	return f.timings[d].list()
}

// timingRing keeps the latest timings in a fixed ring, allocated on first
// use.
type timingRing struct {
	ring []timing
	next int
	full bool
}

type timing struct {
	at  int64 // UnixNano
	len int32
}

func (r *timingRing) push(size int, at time.Time, length int) {
	if size <= 0 {
		return
	}
	if r.ring == nil {
		r.ring = make([]timing, size)
	}
	r.ring[r.next] = timing{at.UnixNano(), int32(min(length, 1<<30))}
	r.next++
	if r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
}

func (r *timingRing) list() []Timing {
	count, start := r.next, 0
	if r.full {
		count, start = len(r.ring), r.next
	}
	out := make([]Timing, 0, count)
	for i := range count {
		e := r.ring[(start+i)%len(r.ring)]
		out = append(out, Timing{At: time.Unix(0, e.at), Len: int(e.len)})
	}
	return out
}

// flowKey is a 5-tuple (the protocol is always TCP) with the endpoints in
// a fixed order, so that both directions find the same flow.
type flowKey struct{ a, b netip.AddrPort }

func keyOf(src, dst netip.AddrPort) flowKey {
	if src.Compare(dst) < 0 {
		return flowKey{src, dst}
	}
	return flowKey{dst, src}
}

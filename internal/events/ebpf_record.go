package events

import (
	"encoding/binary"
	"net/netip"
)

// Layout of the ring buffer records of bpf/events.bpf.c (struct
// event_hdr, exec_event, connect_event), in the host's byte order.
const (
	recTS       = 0  // u64 bpf_ktime_get_ns
	recPID      = 8  // u32
	recTGID     = 12 // u32
	recPPID     = 16 // u32
	recKind     = 20 // u8
	recFamily   = 21 // u8
	recPort     = 22 // [2]u8, network byte order
	recComm     = 24 // [16]char
	recHdrSize  = 40
	recFilename = recHdrSize // exec: [512]char
	recExecSize = recFilename + 512
	recFD       = recHdrSize     // connect: s32
	recAddr     = recHdrSize + 4 // connect: [16]u8
	recConnSize = recAddr + 16

	afInet  = 2
	afInet6 = 10
)

// recordDecoder turns ring buffer records into Events. Not safe for
// concurrent use: it keeps the clock offset and the interned strings.
type recordDecoder struct {
	clock monoClock
	strs  interner
}

// decode decodes one record; ok is false when it is malformed (shorter
// than its kind needs, or of an unknown kind or address family).
func (d *recordDecoder) decode(b []byte) (ev Event, ok bool) {
	if len(b) < recHdrSize {
		return ev, false
	}
	ne := binary.NativeEndian
	ev = Event{
		Kind:   Kind(b[recKind]),
		PID:    int(ne.Uint32(b[recPID:])),
		TGID:   int(ne.Uint32(b[recTGID:])),
		PPID:   int(ne.Uint32(b[recPPID:])),
		Comm:   d.strs.str(cstr(b[recComm:recHdrSize])),
		Source: EBPF,
	}
	switch ev.Kind {
	case Exec:
		if len(b) < recExecSize {
			return ev, false
		}
		ev.Filename = d.strs.str(cstr(b[recFilename:recExecSize]))
	case Fork, Exit:
	case Connect:
		if len(b) < recConnSize {
			return ev, false
		}
		port := binary.BigEndian.Uint16(b[recPort:])
		var addr netip.Addr
		switch b[recFamily] {
		case afInet:
			addr = netip.AddrFrom4([4]byte(b[recAddr : recAddr+4]))
		case afInet6:
			addr = netip.AddrFrom16([16]byte(b[recAddr : recAddr+16])).Unmap()
		default:
			return ev, false
		}
		ev.Dst = netip.AddrPortFrom(addr, port)
		ev.FD = int(int32(ne.Uint32(b[recFD:])))
	default:
		return ev, false
	}
	ev.Time = d.clock.time(ne.Uint64(b[recTS:]))
	return ev, true
}

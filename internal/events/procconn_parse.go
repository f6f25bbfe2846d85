package events

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Netlink and connector wire formats (include/uapi/linux/netlink.h,
// connector.h, cn_proc.h), in the host's byte order.
const (
	nlmsgHdrLen = 16 // len u32, type u16, flags u16, seq u32, pid u32
	nlmsgNoop   = 1
	nlmsgError  = 2
	nlmsgDone   = 3 // the connector sends every message as NLMSG_DONE

	cnMsgLen  = 20 // id {idx u32, val u32}, seq u32, ack u32, len u16, flags u16
	cnIdxProc = 1
	cnValProc = 1

	procEventHdrLen = 16 // what u32, cpu u32, timestamp_ns u64
	procEventLen    = procEventHdrLen + 24

	procCnMcastListen = 1
	procCnMcastIgnore = 2

	procEventNone = 0 // an acknowledgement of a listen request
	procEventFork = 0x00000001
	procEventExec = 0x00000002
	procEventExit = 0x80000000

	// maxProcMsgs bounds the messages taken from one datagram; the kernel
	// sends one per datagram.
	maxProcMsgs = 64
)

var errProcConn = errors.New("malformed proc connector message")

// procMsg is one proc connector message. Data holds the event's union as
// 32-bit words, zero past what the kernel sent:
//
//	fork: parent pid, parent tgid, child pid, child tgid
//	exec: pid, tgid
//	exit: pid, tgid, exit code, exit signal, parent pid, parent tgid (5.x+)
//	none: the error of the acknowledged request
type procMsg struct {
	What     uint32
	Seq, Ack uint32 // the connector header's; Ack matches an answer to its request
	TS       uint64 // CLOCK_MONOTONIC nanoseconds
	Data     [6]uint32
}

// parseProcConnector appends the proc connector messages in one netlink
// datagram to msgs. No length is trusted: each is checked against the
// bytes actually there. Messages of other netlink types and of other
// connectors are skipped. On error the messages parsed so far are returned
// with it.
func parseProcConnector(b []byte, msgs []procMsg) ([]procMsg, error) {
	ne := binary.NativeEndian
	for n := 0; len(b) > 0; n++ {
		if n == maxProcMsgs {
			return msgs, fmt.Errorf("%w: over %d messages in a datagram", errProcConn, maxProcMsgs)
		}
		if len(b) < nlmsgHdrLen {
			return msgs, fmt.Errorf("%w: %d bytes left, short of a netlink header", errProcConn, len(b))
		}
		l := ne.Uint32(b)
		typ := ne.Uint16(b[4:])
		if l < nlmsgHdrLen || uint64(l) > uint64(len(b)) {
			return msgs, fmt.Errorf("%w: netlink length %d with %d bytes left", errProcConn, l, len(b))
		}
		body := b[nlmsgHdrLen:l]
		// Messages are 4-byte aligned; the last one may lack its padding.
		b = b[min((uint64(l)+3)&^3, uint64(len(b))):]

		switch typ {
		case nlmsgDone:
		case nlmsgError:
			if len(body) >= 4 {
				return msgs, fmt.Errorf("%w: netlink error %d", errProcConn, int32(ne.Uint32(body)))
			}
			return msgs, fmt.Errorf("%w: truncated netlink error", errProcConn)
		default:
			continue
		}
		if len(body) < cnMsgLen {
			return msgs, fmt.Errorf("%w: %d bytes, short of a connector header", errProcConn, len(body))
		}
		if ne.Uint32(body) != cnIdxProc || ne.Uint32(body[4:]) != cnValProc {
			continue
		}
		dl := int(ne.Uint16(body[16:]))
		data := body[cnMsgLen:]
		if dl > len(data) {
			return msgs, fmt.Errorf("%w: connector length %d with %d bytes left", errProcConn, dl, len(data))
		}
		data = data[:dl]
		if len(data) < procEventHdrLen {
			return msgs, fmt.Errorf("%w: %d-byte proc event", errProcConn, len(data))
		}
		m := procMsg{
			What: ne.Uint32(data),
			Seq:  ne.Uint32(body[8:]),
			Ack:  ne.Uint32(body[12:]),
			TS:   ne.Uint64(data[8:]),
		}
		u := data[procEventHdrLen:]
		for i := 0; i < len(m.Data) && len(u) >= 4; i++ {
			m.Data[i] = ne.Uint32(u)
			u = u[4:]
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// listenRequest builds the message that starts (PROC_CN_MCAST_LISTEN) or
// stops (PROC_CN_MCAST_IGNORE) the kernel's proc events for this socket.
// Its 4-byte payload is understood by every kernel; the 8-byte form with
// an event filter (6.6+) would be ignored by older ones.
func listenRequest(op, seq uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne.PutUint32(b, uint32(len(b)))
	ne.PutUint16(b[4:], nlmsgDone)
	ne.PutUint32(b[8:], seq)
	cn := b[nlmsgHdrLen:]
	ne.PutUint32(cn, cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint32(cn[8:], seq)
	ne.PutUint32(cn[12:], seq) // ack: the kernel answers with ack+1
	ne.PutUint16(cn[16:], 4)
	ne.PutUint32(cn[cnMsgLen:], op)
	return b
}

package events

import (
	"encoding/binary"
	"errors"
	"testing"
)

// procEvent builds a proc_event: what, cpu 0, timestamp, then the union.
func procEvent(what uint32, ts uint64, words ...uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, procEventLen)
	ne.PutUint32(b, what)
	ne.PutUint64(b[8:], ts)
	for i, w := range words {
		ne.PutUint32(b[procEventHdrLen+4*i:], w)
	}
	return b
}

// cnMsg wraps data in a connector header claiming dataLen bytes.
func cnMsg(idx, val, ack uint32, dataLen int, data []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, cnMsgLen, cnMsgLen+len(data))
	ne.PutUint32(b, idx)
	ne.PutUint32(b[4:], val)
	ne.PutUint32(b[8:], 77)
	ne.PutUint32(b[12:], ack)
	ne.PutUint16(b[16:], uint16(dataLen))
	return append(b, data...)
}

// nlMsg wraps payload in a netlink header claiming nlLen bytes (0: the
// true length) and pads it to 4 bytes unless pad is false.
func nlMsg(typ uint16, nlLen int, pad bool, payload []byte) []byte {
	ne := binary.NativeEndian
	if nlLen == 0 {
		nlLen = nlmsgHdrLen + len(payload)
	}
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(payload)+3)
	ne.PutUint32(b, uint32(nlLen))
	ne.PutUint16(b[4:], typ)
	b = append(b, payload...)
	for pad && len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// procDatagram is one well-formed proc connector datagram.
func procDatagram(what uint32, words ...uint32) []byte {
	ev := procEvent(what, 5e9, words...)
	return nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 0, len(ev), ev))
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestParseProcConnector(t *testing.T) {
	exec := procDatagram(procEventExec, 100, 100)
	fork := procDatagram(procEventFork, 1, 1, 100, 100)
	exit := procDatagram(procEventExit, 100, 100, 0, 17, 1, 1)
	ack := nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 43, procEventLen, procEvent(procEventNone, 1, 0)))
	short := procEvent(procEventExec, 9, 200, 200)[:procEventHdrLen+8] // an event sent without its union's tail
	oddPayload := cnMsg(cnIdxProc, cnValProc, 0, procEventLen, append(procEvent(procEventExec, 1, 300, 300), 0xaa))

	for _, c := range []struct {
		name string
		in   []byte
		want []procMsg
	}{
		{"empty", nil, nil},
		{"exec", exec, []procMsg{{What: procEventExec, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100}}}},
		{"fork", fork, []procMsg{{What: procEventFork, Seq: 77, TS: 5e9, Data: [6]uint32{1, 1, 100, 100}}}},
		{"exit", exit, []procMsg{{What: procEventExit, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100, 0, 17, 1, 1}}}},
		{"ack", ack, []procMsg{{What: procEventNone, Seq: 77, Ack: 43, TS: 1}}},
		{"three in one datagram", cat(fork, exec, exit), []procMsg{
			{What: procEventFork, Seq: 77, TS: 5e9, Data: [6]uint32{1, 1, 100, 100}},
			{What: procEventExec, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100}},
			{What: procEventExit, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100, 0, 17, 1, 1}},
		}},
		{"short union", nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 0, len(short), short)),
			[]procMsg{{What: procEventExec, Seq: 77, TS: 9, Data: [6]uint32{200, 200}}}},
		{"last message unpadded", nlMsg(nlmsgDone, 0, false, oddPayload),
			[]procMsg{{What: procEventExec, Seq: 77, TS: 1, Data: [6]uint32{300, 300}}}},
		{"noop skipped", cat(nlMsg(nlmsgNoop, 0, true, []byte{1, 2, 3, 4}), exec),
			[]procMsg{{What: procEventExec, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100}}}},
		{"other connector skipped", cat(nlMsg(nlmsgDone, 0, true, cnMsg(7, 1, 0, 4, []byte{1, 2, 3, 4})), exec),
			[]procMsg{{What: procEventExec, Seq: 77, TS: 5e9, Data: [6]uint32{100, 100}}}},
	} {
		got, err := parseProcConnector(c.in, nil)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: message %d is %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
	}

	ev := procEvent(procEventExec, 1, 5, 5)
	tooMany := make([]byte, 0, (maxProcMsgs+1)*len(exec))
	for range maxProcMsgs + 1 {
		tooMany = append(tooMany, exec...)
	}
	for _, c := range []struct {
		name    string
		in      []byte
		partial int // messages returned with the error
	}{
		{"truncated netlink header", exec[:nlmsgHdrLen-1], 0},
		{"netlink length beyond the datagram", nlMsg(nlmsgDone, 4096, true, cnMsg(cnIdxProc, cnValProc, 0, len(ev), ev)), 0},
		{"netlink length below its header", nlMsg(nlmsgDone, 8, true, cnMsg(cnIdxProc, cnValProc, 0, len(ev), ev)), 0},
		{"netlink length 0xffffffff", nlMsg(nlmsgDone, 0xffffffff, true, nil), 0},
		{"truncated connector header", nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 0, len(ev), ev)[:cnMsgLen-2]), 0},
		{"connector length beyond the message", nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 0, 60000, ev)), 0},
		{"connector length short of an event", nlMsg(nlmsgDone, 0, true, cnMsg(cnIdxProc, cnValProc, 0, 8, ev)), 0},
		{"netlink error", nlMsg(nlmsgError, 0, true, []byte{0xf3, 0xff, 0xff, 0xff}), 0},
		{"truncated netlink error", nlMsg(nlmsgError, 0, true, nil), 0},
		{"good then garbage", cat(exec, []byte{1, 2, 3}), 1},
		{"good then lying length", cat(exec, nlMsg(nlmsgDone, 1000, true, nil)), 1},
		{"too many messages", tooMany, maxProcMsgs},
	} {
		got, err := parseProcConnector(c.in, nil)
		if !errors.Is(err, errProcConn) {
			t.Errorf("%s: err %v", c.name, err)
		}
		if len(got) != c.partial {
			t.Errorf("%s: %d messages returned, want %d", c.name, len(got), c.partial)
		}
	}
}

func TestParseProcConnectorReuse(t *testing.T) {
	exec := procDatagram(procEventExec, 100, 100)
	msgs := make([]procMsg, 0, 4)
	if n := testing.AllocsPerRun(100, func() { msgs, _ = parseProcConnector(exec, msgs[:0]) }); n != 0 {
		t.Errorf("%v allocations per datagram", n)
	}
}

func TestListenRequest(t *testing.T) {
	msgs, err := parseProcConnector(listenRequest(procCnMcastListen, 42), nil)
	if err == nil || len(msgs) != 0 {
		// Its 4-byte payload is no proc event: parsing it must fail cleanly.
		t.Errorf("listen request parsed as %+v, %v", msgs, err)
	}
	b := listenRequest(procCnMcastIgnore, 42)
	ne := binary.NativeEndian
	if len(b) != 40 || ne.Uint32(b) != 40 || ne.Uint16(b[4:]) != nlmsgDone ||
		ne.Uint32(b[nlmsgHdrLen:]) != cnIdxProc || ne.Uint32(b[nlmsgHdrLen+12:]) != 42 ||
		ne.Uint16(b[nlmsgHdrLen+16:]) != 4 || ne.Uint32(b[nlmsgHdrLen+cnMsgLen:]) != procCnMcastIgnore {
		t.Errorf("request % x", b)
	}
}

func FuzzParseProcConnector(f *testing.F) {
	f.Add(procDatagram(procEventExec, 100, 100))
	f.Add(cat(procDatagram(procEventFork, 1, 1, 2, 2), procDatagram(procEventExit, 2, 2, 0, 17, 1, 1)))
	f.Add(nlMsg(nlmsgDone, 4096, true, nil))
	f.Add(nlMsg(nlmsgError, 0, true, []byte{0xf3, 0xff, 0xff, 0xff}))
	f.Add(listenRequest(procCnMcastListen, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := parseProcConnector(b, nil)
		if len(msgs) > maxProcMsgs || len(msgs)*(nlmsgHdrLen+cnMsgLen+procEventHdrLen) > len(b) {
			t.Fatalf("%d messages from %d bytes", len(msgs), len(b))
		}
		if err != nil && !errors.Is(err, errProcConn) {
			t.Fatalf("error %v not marked", err)
		}
		s := procConnSource{}
		for i := range msgs {
			s.event(&msgs[i])
		}
	})
}

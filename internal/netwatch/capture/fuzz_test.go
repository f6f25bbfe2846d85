package capture

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
	"unsafe"
)

// FuzzDecode decodes arbitrary bytes as a captured packet and checks that
// what it returns stays inside them, then feeds the packet to a small
// tracker.
func FuzzDecode(f *testing.F) {
	f.Add(build(seg{src: ap("192.0.2.1:40000"), dst: ap("198.51.100.7:3333"), flags: PSH | ACK, payload: []byte("hello\n")}))
	f.Add(build(seg{src: ap("[2001:db8::1]:40000"), dst: ap("[2001:db8::2]:443"), flags: SYN}))
	f.Add(build(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:5353"), proto: UDP, payload: []byte{1, 2, 3}}))
	f.Add(build(seg{src: ap("192.0.2.1:1"), dst: ap("192.0.2.2:2"), flags: ACK, payload: []byte("abcd"), wire: 1400}))
	tr := NewTracker(TrackerOptions{MaxFlows: 4, FirstBytes: 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Packet
		if err := Decode(data, &p); err != nil {
			return
		}
		if p.Proto != TCP && p.Proto != UDP || !p.Src.IsValid() || !p.Dst.IsValid() {
			t.Fatalf("decoded %+v", p)
		}
		if len(p.Payload) > p.PayloadLen {
			t.Fatalf("payload %d of %d in %d bytes", len(p.Payload), p.PayloadLen, len(data))
		}
		if len(p.Payload) > 0 {
			start := uintptr(unsafe.Pointer(&p.Payload[0])) - uintptr(unsafe.Pointer(&data[0]))
			if start+uintptr(len(p.Payload)) > uintptr(len(data)) {
				t.Fatalf("payload outside the packet")
			}
		}
		p.Time = time.Unix(1700000000, 0)
		p.Len = len(data)
		tr.Add(&p)
		if st := tr.Stats(); st.Active > 4 {
			t.Fatalf("%d flows tracked past the bound", st.Active)
		}
	})
}

// FuzzReassemble plays segments that the input describes into a stream and
// checks it against a byte-by-byte model: the first copy of each byte wins,
// the prefix ends at the first missing byte, and the spans stay bounded
// and exact. Each segment is 4 input bytes: offset (2), length, and flags
// (bit 0: carry wrong bytes, bit 1: captured only in part, as a snap
// length cuts it).
func FuzzReassemble(f *testing.F) {
	f.Add(uint32(0xfffffff0), []byte{0, 10, 10, 0, 0, 0, 10, 0, 0, 5, 20, 1})
	f.Add(uint32(1000), []byte{0, 0, 64, 2, 0, 64, 64, 0, 0, 200, 64, 0, 0, 128, 64, 0})
	f.Add(uint32(7), bytes.Repeat([]byte{0, 3, 1, 0, 0, 1, 1, 0}, 20))
	const limit = 256
	truth := make([]byte, limit+512)
	for i := range truth {
		truth[i] = byte(i*7 + i>>8)
	}
	f.Fuzz(func(t *testing.T, base uint32, ops []byte) {
		s := newStream(limit, nil)
		s.setBase(base)
		var filled [limit]bool
		var want [limit]byte
		for ; len(ops) >= 4; ops = ops[4:] {
			off := int(binary.BigEndian.Uint16(ops)%600) - 50 // some before byte 0
			n := int(ops[2]) % 80
			data := make([]byte, n)
			for i := range data {
				if k := off + i; k >= 0 {
					data[i] = truth[k]
				}
				if ops[3]&1 != 0 {
					data[i] ^= 0xa5
				}
			}
			captured := data
			if ops[3]&2 != 0 {
				captured = data[:n/2]
			}
			_, _, overflow := s.add(base+uint32(int32(off)), captured, n, true)
			if overflow {
				continue
			}
			for i := range captured {
				if k := off + i; k >= 0 && k < limit && !filled[k] {
					filled[k], want[k] = true, captured[i]
				}
			}
		}
		prefix := 0
		for prefix < limit && filled[prefix] {
			prefix++
		}
		if got := s.bytes(); !bytes.Equal(got, want[:prefix]) {
			t.Fatalf("prefix %d bytes, want %d:\n%x\n%x", len(got), prefix, got, want[:prefix])
		}
		if len(s.spans) > maxSpans || len(s.buf) > limit {
			t.Fatalf("%d spans, %d-byte buffer", len(s.spans), len(s.buf))
		}
		// The spans are exactly the filled bytes.
		var covered [limit]bool
		for i, sp := range s.spans {
			if sp.lo >= sp.hi || i > 0 && sp.lo <= s.spans[i-1].hi {
				t.Fatalf("spans %v", s.spans)
			}
			for k := sp.lo; k < sp.hi; k++ {
				covered[k] = true
			}
		}
		if covered != filled {
			t.Fatalf("spans %v do not match the bytes received", s.spans)
		}
	})
}

package capture

import (
	"bytes"
	"slices"
)

// maxSpans bounds the filled ranges one direction keeps while segments
// arrive out of order. Real reordering leaves one or two gaps; a segment
// that would open more is not reassembled (counted in
// TrackerStats.SpanOverflow), which bounds the work a hostile peer can
// cause per segment.
const maxSpans = 16

// stream reassembles the first limit bytes of one direction of a TCP
// connection by sequence number. Byte i of the direction is at buf[i];
// bytes arrive in any order, any number of times, and the first copy of a
// byte wins (a later, different copy is a conflict: retransmissions carry
// the same bytes, so a difference is an evasion attempt or a broken
// middlebox). Memory is bounded by limit, whatever arrives.
type stream struct {
	limit int
	pool  *bufPool // where buf comes from and returns to
	base  uint32   // sequence number of byte 0
	based bool
	buf   []byte // limit bytes, from the first byte on
	spans []span // filled ranges of buf: sorted, disjoint, never adjacent
	// spanRoom holds the first spans without an allocation: in-order
	// data needs one, light reordering two.
	spanRoom [2]span
	// hole is the lowest offset that the snap length cut from a segment
	// (-1: none): the prefix cannot grow past it, so waiting is useless.
	hole int
	// fin is the offset of the FIN (-1: none seen).
	fin int
	// high is the sequence number after the highest byte seen, to tell
	// new data from retransmissions; it is tracked after the prefix is
	// handed over, too.
	high    uint32
	highSet bool
}

type span struct{ lo, hi int }

func newStream(limit int, pool *bufPool) stream {
	return stream{limit: limit, pool: pool, hole: -1, fin: -1}
}

// setBase fixes byte 0, when the SYN gives it, before any data.
func (s *stream) setBase(seq uint32) {
	if !s.based {
		s.base, s.based = seq, true
	}
}

// offset is seq's position in the stream, negative before byte 0. Sequence
// numbers wrap at 2³², so the difference is taken modulo 2³² and read as
// signed: a segment is at most 2³¹ bytes before or after the base.
func (s *stream) offset(seq uint32) int { return int(int32(seq - s.base)) }

// add records a segment of wire bytes at seq of which payload is the
// captured start. With collect false (the first bytes were handed over),
// only retransmission tracking goes on. It reports whether the segment
// carried bytes never seen before, how many earlier ranges it overlapped
// with different bytes, and whether it was left out of reassembly for want of
// spans.
func (s *stream) add(seq uint32, payload []byte, wire int, collect bool) (fresh bool, conflicts int, overflow bool) {
	s.setBase(seq)
	end := seq + uint32(wire)
	if !s.highSet || int32(end-s.high) > 0 {
		fresh = true
		s.high, s.highSet = end, true
	}
	if !collect {
		return fresh, 0, false
	}
	off := s.offset(seq)
	if len(payload) > wire {
		payload = payload[:wire]
	}
	if len(payload) < wire {
		if cut := off + len(payload); cut >= 0 && (s.hole < 0 || cut < s.hole) {
			s.hole = cut
		}
	}
	lo, hi := max(off, 0), min(off+len(payload), s.limit)
	if lo >= hi {
		return fresh, 0, false
	}
	data := payload[lo-off : hi-off]
	// Where the segment lands among the spans: spans[i:j] overlap or
	// touch it and are merged with it.
	i := 0
	for i < len(s.spans) && s.spans[i].hi < lo {
		i++
	}
	j := i
	for j < len(s.spans) && s.spans[j].lo <= hi {
		j++
	}
	if len(s.spans)-(j-i)+1 > maxSpans {
		return fresh, 0, true
	}
	if s.buf == nil {
		s.buf = s.pool.get(s.limit)
		// Set here, not in newStream: the stream is copied into its Flow.
		s.spans = s.spanRoom[:0]
	}
	// Copy into the gaps only; compare where earlier bytes are.
	pos := lo
	for _, sp := range s.spans[i:j] {
		if sp.lo > pos {
			g := min(sp.lo, hi)
			copy(s.buf[pos:g], data[pos-lo:g-lo])
			pos = g
		}
		ol, oh := max(sp.lo, pos), min(sp.hi, hi)
		if ol < oh {
			if !bytes.Equal(s.buf[ol:oh], data[ol-lo:oh-lo]) {
				conflicts++
			}
			pos = oh
		}
	}
	if pos < hi {
		copy(s.buf[pos:hi], data[pos-lo:])
	}
	merged := span{lo, hi}
	if i < j {
		merged.lo = min(lo, s.spans[i].lo)
		merged.hi = max(hi, s.spans[j-1].hi)
	}
	s.spans = slices.Replace(s.spans, i, j, merged)
	return fresh, conflicts, false
}

// setFIN records the FIN at seq (the sequence number after the last data
// byte).
func (s *stream) setFIN(seq uint32) {
	s.setBase(seq)
	if off := s.offset(seq); off >= 0 && (s.fin < 0 || off < s.fin) {
		s.fin = off
	}
}

// prefix is how many bytes from byte 0 have arrived without a gap.
func (s *stream) prefix() int {
	if len(s.spans) == 0 || s.spans[0].lo != 0 {
		return 0
	}
	return s.spans[0].hi
}

// bytes returns the reassembled prefix.
func (s *stream) bytes() []byte { return s.buf[:s.prefix()] }

// done reports whether the prefix can no longer grow: it is full, it
// reached a byte the snap length cut, or it reached the FIN.
func (s *stream) done() bool {
	p := s.prefix()
	return p >= s.limit || (s.hole >= 0 && p >= s.hole) || (s.fin >= 0 && p >= s.fin)
}

// release frees the buffers once the prefix was handed over.
func (s *stream) release() {
	s.pool.put(s.buf)
	s.buf, s.spans = nil, nil
}

// bufPool recycles reassembly buffers, all of one size, so that a tracker
// under connection churn does not allocate a buffer per flow. It keeps at
// most max of them; its owner's lock guards it. A nil pool allocates.
type bufPool struct {
	free [][]byte
	max  int
}

// get returns a buffer of n bytes; its contents are stale (a stream reads
// only what its spans say it wrote).
func (p *bufPool) get(n int) []byte {
	if p != nil && len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		if len(b) == n {
			return b
		}
	}
	return make([]byte, n)
}

func (p *bufPool) put(b []byte) {
	if p != nil && b != nil && len(p.free) < p.max {
		p.free = append(p.free, b)
	}
}

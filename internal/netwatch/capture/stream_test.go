package capture

import (
	"bytes"
	"testing"
)

// text is a stream's true content for the tests: byte i is text[i].
var text = []byte("The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.")

// put adds text[off:off+n] at base+off.
func put(s *stream, base uint32, off, n int) (fresh bool, conflicts int, overflow bool) {
	return s.add(base+uint32(off), text[off:off+n], n, true)
}

func TestStreamInOrder(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(1000)
	put(&s, 1000, 0, 10)
	put(&s, 1000, 10, 20)
	if got := s.bytes(); !bytes.Equal(got, text[:30]) {
		t.Errorf("%q", got)
	}
	if s.done() {
		t.Error("done before the limit or a FIN")
	}
}

func TestStreamOutOfOrderOverlapRetransmit(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(5000)
	steps := []struct {
		off, n     int
		fresh      bool
		wantPrefix int
	}{
		{20, 10, true, 0},   // ahead of a gap
		{40, 5, true, 0},    // another island
		{0, 8, false, 8},    // earlier than the highest byte seen: not new in sequence space
		{4, 20, false, 30},  // overlaps both the prefix and the first island
		{20, 10, false, 30}, // retransmission
		{28, 14, false, 45}, // fills to the second island and past it
		{45, 5, true, 50},
	}
	for i, st := range steps {
		fresh, conflicts, overflow := put(&s, 5000, st.off, st.n)
		if fresh != st.fresh || conflicts != 0 || overflow {
			t.Errorf("step %d: fresh %v conflicts %d overflow %v", i, fresh, conflicts, overflow)
		}
		if p := s.prefix(); p != st.wantPrefix {
			t.Errorf("step %d: prefix %d, want %d", i, p, st.wantPrefix)
		}
	}
	if got := s.bytes(); !bytes.Equal(got, text[:50]) {
		t.Errorf("%q", got)
	}
	if len(s.spans) != 1 {
		t.Errorf("spans %v", s.spans)
	}
}

func TestStreamConflictKeepsFirstCopy(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(1)
	s.add(1, []byte("hello world"), 11, true)
	_, conflicts, _ := s.add(7, []byte("WORLD!!"), 7, true)
	if conflicts != 1 {
		t.Errorf("conflicts %d", conflicts)
	}
	if got := string(s.bytes()); got != "hello world!!" {
		t.Errorf("%q", got)
	}
}

func TestStreamLimitAndWrap(t *testing.T) {
	s := newStream(16, nil)
	base := uint32(0xfffffff8) // the sequence numbers wrap inside the stream
	s.setBase(base)
	put(&s, base, 12, 20)
	put(&s, base, 0, 12)
	if got := s.bytes(); !bytes.Equal(got, text[:16]) {
		t.Errorf("%q", got)
	}
	if !s.done() {
		t.Error("not done at the limit")
	}
	if len(s.buf) > 16 {
		t.Errorf("buffer grew to %d past the limit", len(s.buf))
	}
}

func TestStreamBeforeBase(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(100)
	// Bytes 90..99 precede the stream's first byte and are clipped.
	s.add(90, append(bytes.Repeat([]byte{'x'}, 10), text[:5]...), 15, true)
	if got := s.bytes(); !bytes.Equal(got, text[:5]) {
		t.Errorf("%q", got)
	}
}

func TestStreamHoleFromSnapLength(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(0)
	s.add(0, text[:8], 30, true) // 30 bytes on the wire, 8 captured
	if s.prefix() != 8 || !s.done() {
		t.Errorf("prefix %d done %v hole %d", s.prefix(), s.done(), s.hole)
	}
}

func TestStreamFIN(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(0)
	put(&s, 0, 5, 5)
	s.setFIN(10)
	if s.done() {
		t.Error("done with a gap before the FIN")
	}
	put(&s, 0, 0, 5)
	if !s.done() {
		t.Error("not done at the FIN")
	}
}

func TestStreamSpanOverflow(t *testing.T) {
	s := newStream(1024, nil)
	s.setBase(0)
	var overflowed bool
	for i := range maxSpans + 4 {
		// Islands of one byte with a gap after each.
		_, _, o := s.add(uint32(2+2*i), []byte{'x'}, 1, true)
		overflowed = overflowed || o
	}
	if !overflowed || len(s.spans) > maxSpans {
		t.Errorf("overflow %v, %d spans", overflowed, len(s.spans))
	}
	// A segment that merges islands is still taken.
	if _, _, o := s.add(0, bytes.Repeat([]byte{'x'}, 40), 40, true); o || s.prefix() < 40 {
		t.Errorf("merge refused: overflow %v prefix %d", o, s.prefix())
	}
}

func TestStreamAfterRelease(t *testing.T) {
	s := newStream(64, nil)
	s.setBase(0)
	put(&s, 0, 0, 10)
	s.release()
	if fresh, _, _ := s.add(10, text[10:20], 10, false); !fresh {
		t.Error("new data not seen after release")
	}
	if fresh, _, _ := s.add(5, text[5:15], 10, false); fresh {
		t.Error("retransmission taken for new data after release")
	}
	if s.buf != nil {
		t.Error("collected after release")
	}
}

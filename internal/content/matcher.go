package content

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Limits on a pattern set. They bound the DFA table, which costs
// (states x byte classes x 4) bytes; the defaults allow far more than the
// shipped intel needs while keeping a hostile user file from asking for
// gigabytes.
const (
	MaxPatterns     = 1 << 14
	MaxPatternLen   = 1 << 10
	MaxPatternBytes = 1 << 16 // sum of all pattern lengths
	maxTableEntries = 1 << 24 // 64 MiB of uint32 transitions
)

// matchFlag marks a transition whose target state has outputs, so the scan
// loop tests one bit instead of looking up an output table on every byte.
const matchFlag = 1 << 31

// Matcher finds many byte patterns in one pass (Aho-Corasick compiled to a
// DFA over byte classes). It is immutable after NewMatcher and safe for
// concurrent use; each scan keeps its position in its own Stream.
type Matcher struct {
	// classes maps each byte to its column. Bytes that occur in no pattern
	// share one column, which shrinks the table several times over.
	classes [256]uint8
	stride  uint32
	// trans[state+class] is the next state, premultiplied by stride, with
	// matchFlag set when that state reports matches.
	trans []uint32
	// starts is a filter over the first gram bytes of every pattern (2 to 4:
	// the shortest pattern's length): bit hash(g) is set when some pattern
	// starts with g. From the root state, positions whose next gram bytes
	// start no pattern are skipped without walking the table: that is
	// nearly every position of ordinary files. Nil when a pattern is one
	// byte long.
	starts *filter
	grams  *filter // the same for the first gram bytes, hashed
	gram   int
	outIdx []uint32 // outputs of state i are outs[outIdx[i]:outIdx[i+1]]
	outs   []int32
	lens   []int
}

// Match is one occurrence of a pattern.
type Match struct {
	Pattern int   // index into the patterns given to NewMatcher
	End     int64 // offset one past the occurrence's last byte
}

// Start returns the offset of the occurrence's first byte.
func (mt Match) Start(m *Matcher) int64 { return mt.End - int64(m.lens[mt.Pattern]) }

// NewMatcher compiles patterns. Duplicates are allowed and each reports.
func NewMatcher(patterns [][]byte) (*Matcher, error) {
	if len(patterns) > MaxPatterns {
		return nil, fmt.Errorf("content: %d patterns, more than the limit of %d", len(patterns), MaxPatterns)
	}
	total := 0
	var used [256]bool
	nused := 0
	for i, p := range patterns {
		if len(p) == 0 {
			return nil, fmt.Errorf("content: pattern %d is empty", i)
		}
		if len(p) > MaxPatternLen {
			return nil, fmt.Errorf("content: pattern %d is %d bytes, more than the limit of %d", i, len(p), MaxPatternLen)
		}
		total += len(p)
		for _, b := range p {
			if !used[b] {
				used[b] = true
				nused++
			}
		}
	}
	if total > MaxPatternBytes {
		return nil, fmt.Errorf("content: patterns total %d bytes, more than the limit of %d", total, MaxPatternBytes)
	}

	m := &Matcher{lens: make([]int, len(patterns))}
	if nused == 256 {
		for b := range 256 {
			m.classes[b] = uint8(b)
		}
		m.stride = 256
	} else {
		next := 1 // class 0 is "any byte no pattern uses"
		for b := range 256 {
			if used[b] {
				m.classes[b] = uint8(next)
				next++
			}
		}
		m.stride = uint32(next)
	}
	stride := int(m.stride)

	// Trie in dense rows; 0 means "no child" because the root is never one.
	trans := make([]uint32, stride)
	outs := [][]int32{nil}
	for id, p := range patterns {
		m.lens[id] = len(p)
		s := 0
		for _, b := range p {
			c := int(m.classes[b])
			nx := trans[s*stride+c]
			if nx == 0 {
				if len(trans)+stride > maxTableEntries {
					return nil, errors.New("content: pattern set needs too large a table")
				}
				nx = uint32(len(outs))
				trans = append(trans, make([]uint32, stride)...)
				outs = append(outs, nil)
				trans[s*stride+c] = nx
			}
			s = int(nx)
		}
		outs[s] = append(outs[s], int32(id))
	}
	n := len(outs)

	// Breadth-first: every state's failure state is shallower, so its row and
	// outputs are final before they are copied into deeper states.
	fail := make([]uint32, n)
	queue := make([]uint32, 0, n)
	for c := range stride {
		if v := trans[c]; v != 0 {
			queue = append(queue, v)
		}
	}
	for i := 0; i < len(queue); i++ {
		u := int(queue[i])
		f := int(fail[u])
		if len(outs[f]) > 0 {
			outs[u] = append(outs[u], outs[f]...)
		}
		for c := range stride {
			v := trans[u*stride+c]
			if v != 0 {
				fail[v] = trans[f*stride+c]
				queue = append(queue, v)
			} else {
				trans[u*stride+c] = trans[f*stride+c]
			}
		}
	}

	m.outIdx = make([]uint32, n+1)
	for s := range n {
		m.outIdx[s] = uint32(len(m.outs))
		m.outs = append(m.outs, outs[s]...)
	}
	m.outIdx[n] = uint32(len(m.outs))
	for i, t := range trans {
		v := t * m.stride
		if len(outs[t]) > 0 {
			v |= matchFlag
		}
		trans[i] = v
	}
	m.trans = trans
	m.gram = maxGram
	for _, p := range patterns {
		m.gram = min(m.gram, len(p))
	}
	if m.gram >= 2 {
		m.starts, m.grams = new(filter), new(filter)
		for _, p := range patterns {
			m.starts.set(gramOf(p, 2))
			m.grams.set(gramHash(gramOf(p, m.gram), m.gram))
		}
	}
	return m, nil
}

// maxGram is the longest pattern prefix the start filter looks at.
const maxGram = 4

// gramOf reads the first n bytes of p (n <= 4) as a little-endian integer.
func gramOf(p []byte, n int) uint32 {
	var x uint32
	for i := n - 1; i >= 0; i-- {
		x = x<<8 | uint32(p[i])
	}
	return x
}

// gramHash maps a pattern's first bytes to a bit of the start filter: its
// first two bytes index the filter exactly; the third and fourth, when the
// shortest pattern has them, pick one of 64 bits of a second filter.
func gramHash(x uint32, n int) uint32 {
	if n == 2 {
		return x
	}
	return (x * 0x9e3779b1) >> 16
}

// skip returns the first position from i whose next gram bytes may start a
// pattern, or the first position whose gram runs past the end of p (the
// last bytes of a chunk take the table walk, as their successors are not
// known yet).
func (m *Matcher) skip(p []byte, i int) int {
	starts := m.starts
	for ; i+8 <= len(p); i += 7 {
		// The byte pairs at seven positions from one load, tested
		// together: one branch per seven positions in the common case.
		w := binary.LittleEndian.Uint64(p[i:])
		hit := starts.bit(uint32(w)&0xffff) |
			starts.bit(uint32(w>>8)&0xffff)<<1 |
			starts.bit(uint32(w>>16)&0xffff)<<2 |
			starts.bit(uint32(w>>24)&0xffff)<<3 |
			starts.bit(uint32(w>>32)&0xffff)<<4 |
			starts.bit(uint32(w>>40)&0xffff)<<5 |
			starts.bit(uint32(w>>48)&0xffff)<<6
		for hit != 0 {
			k := bits.TrailingZeros64(hit)
			if m.gram <= 2 || m.gramMay(p[i+k:]) {
				return i + k
			}
			hit &= hit - 1
		}
	}
	for ; i+m.gram <= len(p); i++ {
		if starts.bit(uint32(p[i])|uint32(p[i+1])<<8) != 0 && (m.gram <= 2 || m.gramMay(p[i:])) {
			return i
		}
	}
	return i
}

// filter is a set of 16-bit values.
type filter [1 << 16 / 64]uint64

// bit returns 1 when x (below 1<<16) is in the set, else 0.
func (f *filter) bit(x uint32) uint64 { return f[(x>>6)&1023] >> (x & 63) & 1 }

func (f *filter) set(x uint32) { f[(x>>6)&1023] |= 1 << (x & 63) }

// gramMay is the second filter, on the first m.gram (3 or 4) bytes of p.
func (m *Matcher) gramMay(p []byte) bool {
	if len(p) < m.gram {
		return true
	}
	return m.grams.bit(gramHash(gramOf(p, m.gram), m.gram)) != 0
}

// Len returns the number of patterns.
func (m *Matcher) Len() int { return len(m.lens) }

// States returns the number of DFA states (for sizing and tests).
func (m *Matcher) States() int { return len(m.trans) / int(m.stride) }

// FindAll returns every occurrence in data, ordered by end offset.
func (m *Matcher) FindAll(data []byte) []Match {
	var res []Match
	st := m.NewStream()
	st.Write(data, func(p int, end int64) { res = append(res, Match{Pattern: p, End: end}) })
	return res
}

// Stream is one pass over a sequence of chunks. Occurrences that straddle
// chunk boundaries are found because the automaton state carries over.
// A Stream is not safe for concurrent use; make one per scan.
type Stream struct {
	m     *Matcher
	state uint32
	off   int64
}

// NewStream starts a pass at offset 0.
func (m *Matcher) NewStream() *Stream { return &Stream{m: m} }

// Offset returns how many bytes the stream has consumed.
func (st *Stream) Offset() int64 { return st.off }

// Write consumes the next chunk and calls fn for every occurrence that ends
// in it, in order of end offset.
func (st *Stream) Write(p []byte, fn func(pattern int, end int64)) {
	m := st.m
	trans := m.trans
	classes := &m.classes
	s := st.state
	for i := 0; i < len(p); i++ {
		if s == 0 && m.starts != nil {
			// No pattern starts at a skipped position, so no occurrence
			// can involve it: the walk resumes from the root where one may.
			if i = m.skip(p, i); i >= len(p) {
				break
			}
		}
		s = trans[s+uint32(classes[p[i]])]
		if s&matchFlag != 0 {
			s &^= matchFlag
			end := st.off + int64(i) + 1
			state := s / m.stride
			for _, id := range m.outs[m.outIdx[state]:m.outIdx[state+1]] {
				fn(int(id), end)
			}
		}
	}
	st.state = s
	st.off += int64(len(p))
}

package content

import (
	"errors"
	"fmt"
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
	// pairs has bit (a<<8 | b) set when some pattern starts with the bytes
	// a, b. From the root state, positions whose next two bytes start no
	// pattern are skipped without walking the table: that is nearly every
	// position of ordinary files. Nil when a pattern is one byte long.
	pairs  []uint64
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
	m.pairs = make([]uint64, 1<<16/64)
	for _, p := range patterns {
		if len(p) < 2 {
			m.pairs = nil
			break
		}
		k := uint32(p[0])<<8 | uint32(p[1])
		m.pairs[k>>6] |= 1 << (k & 63)
	}
	return m, nil
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
	pairs := m.pairs
	s := st.state
	for i := 0; i < len(p); i++ {
		if s == 0 && pairs != nil {
			// No pattern can start at i, so the state after p[i] is what
			// the root gives for p[i+1] alone: skip i. The last byte of a
			// chunk has no successor yet and takes the table walk.
			for i+1 < len(p) {
				k := uint32(p[i])<<8 | uint32(p[i+1])
				if pairs[k>>6]&(1<<(k&63)) != 0 {
					break
				}
				i++
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

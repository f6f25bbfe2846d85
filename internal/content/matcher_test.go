package content

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// naive lists every occurrence (overlapping ones too) by repeated bytes.Index.
func naive(patterns [][]byte, data []byte) []Match {
	var res []Match
	for id, p := range patterns {
		for start := 0; ; {
			i := bytes.Index(data[start:], p)
			if i < 0 {
				break
			}
			res = append(res, Match{Pattern: id, End: int64(start + i + len(p))})
			start += i + 1
		}
	}
	sortMatches(res)
	return res
}

func sortMatches(ms []Match) {
	slices.SortFunc(ms, func(a, b Match) int {
		if a.End != b.End {
			return int(a.End - b.End)
		}
		return a.Pattern - b.Pattern
	})
}

// feedChunks runs data through a stream in random pieces of 1-7 bytes, so
// that most occurrences straddle a chunk boundary.
func feedChunks(m *Matcher, data []byte, rng *rand.Rand) []Match {
	var res []Match
	st := m.NewStream()
	for len(data) > 0 {
		k := min(1+rng.IntN(7), len(data))
		st.Write(data[:k], func(p int, end int64) { res = append(res, Match{Pattern: p, End: end}) })
		data = data[k:]
	}
	sortMatches(res)
	return res
}

func randBytes(rng *rand.Rand, n int, alphabet string) []byte {
	b := make([]byte, n)
	for i := range b {
		if alphabet == "" {
			b[i] = byte(rng.UintN(256))
		} else {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
	}
	return b
}

func TestMatcherAgainstIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		// Small alphabets give many overlapping and nested occurrences.
		alphabet := []string{"ab", "abc", "abcdefgh", ""}[round%4]
		var patterns [][]byte
		for range 1 + rng.IntN(20) {
			patterns = append(patterns, randBytes(rng, 1+rng.IntN(8), alphabet))
		}
		data := randBytes(rng, rng.IntN(2000), alphabet)
		m, err := NewMatcher(patterns)
		if err != nil {
			t.Fatal(err)
		}
		want := naive(patterns, data)
		got := m.FindAll(data)
		sortMatches(got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: whole-buffer matches differ:\n got %v\nwant %v\npatterns %q", round, got, want, patterns)
		}
		if got := feedChunks(m, data, rng); !slices.Equal(got, want) {
			t.Fatalf("round %d: chunked matches differ:\n got %v\nwant %v\npatterns %q", round, got, want, patterns)
		}
	}
}

func TestMatcherAllByteValues(t *testing.T) {
	// Every byte value in some pattern: no shared "other" class.
	var patterns [][]byte
	for b := range 256 {
		patterns = append(patterns, []byte{byte(b), byte(255 - b)})
	}
	m, err := NewMatcher(patterns)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	data := randBytes(rng, 5000, "")
	got := m.FindAll(data)
	sortMatches(got)
	if want := naive(patterns, data); !slices.Equal(got, want) {
		t.Fatalf("got %d matches, want %d", len(got), len(want))
	}
}

func TestMatcherDuplicatesAndStart(t *testing.T) {
	m, err := NewMatcher([][]byte{[]byte("he"), []byte("she"), []byte("he"), []byte("hers")})
	if err != nil {
		t.Fatal(err)
	}
	got := m.FindAll([]byte("ushers"))
	want := []Match{{1, 4}, {0, 4}, {2, 4}, {3, 6}}
	sortMatches(got)
	sortMatches(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if s := (Match{Pattern: 3, End: 6}).Start(m); s != 2 {
		t.Fatalf("start = %d, want 2", s)
	}
}

func TestMatcherLimits(t *testing.T) {
	if _, err := NewMatcher([][]byte{[]byte("a"), nil}); err == nil {
		t.Error("empty pattern accepted")
	}
	if _, err := NewMatcher([][]byte{make([]byte, MaxPatternLen+1)}); err == nil {
		t.Error("over-long pattern accepted")
	}
	if _, err := NewMatcher(make([][]byte, MaxPatterns+1)); err == nil {
		t.Error("too many patterns accepted")
	}
	var many [][]byte
	for range MaxPatternBytes/MaxPatternLen + 1 {
		many = append(many, bytes.Repeat([]byte("x"), MaxPatternLen))
	}
	if _, err := NewMatcher(many); err == nil {
		t.Error("too many pattern bytes accepted")
	}
	m, err := NewMatcher(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.FindAll([]byte("anything")); len(got) != 0 {
		t.Errorf("empty matcher found %v", got)
	}
}

// FuzzMatcher compares the automaton with a naive search. The first input
// byte picks how many patterns to cut from the head of pat.
func FuzzMatcher(f *testing.F) {
	f.Add([]byte("\x03heshehis"), []byte("ushershishe"), uint8(3))
	f.Add([]byte("\x01aaaa"), []byte("aaaaaaaaa"), uint8(1))
	f.Add([]byte("\x02\x00\xff\xfe"), []byte("\x00\xff\xfe\x00\xff"), uint8(7))
	f.Fuzz(func(t *testing.T, pat, data []byte, chunk uint8) {
		if len(pat) == 0 || len(data) > 1<<16 {
			return
		}
		n := int(pat[0]%16) + 1
		rest := pat[1:]
		var patterns [][]byte
		for i := 0; i < n && len(rest) > 0; i++ {
			k := min(len(rest), 1+int(rest[0])%9)
			patterns = append(patterns, rest[:k])
			rest = rest[k:]
		}
		m, err := NewMatcher(patterns)
		if err != nil {
			t.Fatal(err)
		}
		want := naive(patterns, data)
		var got []Match
		st := m.NewStream()
		step := int(chunk%7) + 1
		for i := 0; i < len(data); i += step {
			st.Write(data[i:min(i+step, len(data))], func(p int, end int64) { got = append(got, Match{p, end}) })
		}
		sortMatches(got)
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q data %q: got %v want %v", patterns, data, got, want)
		}
	})
}

package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

// Test indicators may be plain literals: test code is not in the davy binary.
var testIndicators = []Indicator{
	{Name: "salt", Category: CategoryAlgorithm, Pattern: []byte("RandomX\x03"), Source: "test"},
	{Name: "algo-word", Category: CategoryAlgorithm, Pattern: []byte("cryptonight"), Source: "test", Weak: true},
	{Name: "subscribe", Category: CategoryStratum, Pattern: []byte("mining.subscribe"), Source: "test"},
	{Name: "keepalive", Category: CategoryStratum, Pattern: []byte("keepalived"), Source: "test", Weak: true},
	{Name: "help", Category: CategoryBanner, Pattern: []byte("password for mining server"), Source: "test"},
	{Name: "donate", Category: CategoryBanner, Pattern: []byte("--donate-level"), Source: "test"},
	{Name: "upx", Category: CategoryPacker, Pattern: []byte("UPX!"), Source: "test"},
}

func newTestScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	s, err := NewScanner(testIndicators, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// smallReader returns 1-7 bytes per Read so indicators straddle reads.
type smallReader struct {
	data []byte
	rng  *rand.Rand
}

func (r *smallReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(1+r.rng.IntN(7), len(p), len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func TestScanFindsSplitIndicators(t *testing.T) {
	s := newTestScanner(t, Options{})
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		data := randBytes(rng, 3000, "")
		want := map[string]int64{}
		for _, in := range testIndicators {
			if rng.IntN(2) == 0 {
				continue
			}
			at := rng.IntN(len(data) - len(in.Pattern))
			copy(data[at:], in.Pattern)
			want[in.Name] = -1
		}
		// The expected first offsets come from bytes.Index on the final data
		// (a later copy may overwrite an earlier one, or random bytes match).
		for _, in := range testIndicators {
			if i := bytes.Index(data, in.Pattern); i >= 0 {
				want[in.Name] = int64(i)
			} else {
				delete(want, in.Name)
			}
		}
		res, err := s.Scan(&smallReader{data: data, rng: rng})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, h := range res.Hits {
			got[h.Name] = h.Offset
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: got %v want %v", round, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("round %d: %s at %d, want %d", round, k, got[k], v)
			}
		}
		if res.BytesRead != int64(len(data)) || res.Truncated {
			t.Fatalf("read %d truncated %v", res.BytesRead, res.Truncated)
		}
		sum := sha256.Sum256(data)
		if res.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatal("sha256 mismatch")
		}
	}
}

func TestScanAcrossBufferBoundary(t *testing.T) {
	s := newTestScanner(t, Options{})
	data := make([]byte, 3*bufSize)
	pat := []byte("mining.subscribe")
	at := bufSize - 5
	copy(data[at:], pat)
	res, err := s.Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].Name != "subscribe" || res.Hits[0].Offset != int64(at) {
		t.Fatalf("hits = %+v", res.Hits)
	}
}

func TestScanLimit(t *testing.T) {
	s := newTestScanner(t, Options{MaxBytes: 1000})
	data := make([]byte, 1000)
	copy(data[990:], "keepalived") // ends exactly at the limit
	for _, tc := range []struct {
		name      string
		data      []byte
		truncated bool
		hits      int
	}{
		{"exactly at limit", data, false, 1},
		{"one byte over", append(slices.Clone(data), 'x'), true, 1},
		{"indicator past limit", append(slices.Clone(data), []byte("mining.subscribe")...), true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Scan(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if res.BytesRead != 1000 || res.Truncated != tc.truncated || len(res.Hits) != tc.hits {
				t.Fatalf("read %d truncated %v hits %v", res.BytesRead, res.Truncated, res.Names())
			}
			sum := sha256.Sum256(tc.data[:1000])
			if res.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatal("sha256 is not that of the prefix read")
			}
		})
	}
}

func TestScanHeader(t *testing.T) {
	s := newTestScanner(t, Options{})
	elf := append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}, make([]byte, 200)...)
	upxEarly := slices.Clone(elf)
	copy(upxEarly[100:], "UPX!")
	upxLate := append(slices.Clone(elf), make([]byte, 2000)...)
	copy(upxLate[1500:], "UPX!")
	for _, tc := range []struct {
		name     string
		data     []byte
		elf, upx bool
	}{
		{"empty", nil, false, false},
		{"short", []byte{0x7f, 'E'}, false, false},
		{"elf", elf, true, false},
		{"upx in head", upxEarly, true, true},
		{"upx after head", upxLate, true, false},
		{"script", []byte("#!/bin/sh\necho UPX!\n"), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Scan(&smallReader{data: tc.data, rng: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			if res.ELF != tc.elf || res.UPX != tc.upx {
				t.Fatalf("elf %v upx %v, want %v %v", res.ELF, res.UPX, tc.elf, tc.upx)
			}
		})
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestScanErrors(t *testing.T) {
	s := newTestScanner(t, Options{})
	boom := errors.New("boom")
	res, err := s.Scan(&failingReader{data: []byte("xx mining.subscribe xx"), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapped boom", err)
	}
	if len(res.Hits) != 1 || res.BytesRead != 22 {
		t.Fatalf("partial result lost: %+v", res)
	}
	if _, err := s.Scan(stuckReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("stuck reader: err = %v", err)
	}
	// Stuck exactly at the size limit, while probing for more.
	small := newTestScanner(t, Options{MaxBytes: 4})
	res, err = small.Scan(io.MultiReader(bytes.NewReader([]byte("abcd")), stuckReader{}))
	if !errors.Is(err, io.ErrNoProgress) || res.BytesRead != 4 {
		t.Fatalf("stuck at limit: read %d, err = %v", res.BytesRead, err)
	}
}

func TestNewScannerRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		ind  []Indicator
	}{
		{"no name", []Indicator{{Category: CategoryBanner, Pattern: []byte("x")}}},
		{"bad category", []Indicator{{Name: "a", Category: "nope", Pattern: []byte("x")}}},
		{"empty pattern", []Indicator{{Name: "a", Category: CategoryBanner}}},
		{"duplicate name", []Indicator{{Name: "a", Category: CategoryBanner, Pattern: []byte("x")}, {Name: "a", Category: CategoryStratum, Pattern: []byte("y")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewScanner(tc.ind, Options{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestScanConcurrent(t *testing.T) {
	s := newTestScanner(t, Options{})
	data := bytes.Repeat([]byte("..RandomX\x03..mining.subscribe.."), 1000)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			res, err := s.Scan(bytes.NewReader(data))
			if err == nil && len(res.Hits) != 2 {
				err = errors.New("wrong hits: " + res.Summary())
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

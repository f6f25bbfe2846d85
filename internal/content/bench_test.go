package content_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/intel"
)

func realScanner(b *testing.B) *content.Scanner {
	b.Helper()
	in, err := intel.Load("")
	if err != nil {
		b.Fatal(err)
	}
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return sc
}

func randomData(n int) []byte {
	rng := rand.New(rand.NewPCG(42, 42))
	data := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	return data
}

// BenchmarkScan scans 64 MiB of random bytes with the embedded indicators:
// matching, SHA-256 and the header checks together, as a detector pays them.
func BenchmarkScan(b *testing.B) {
	sc := realScanner(b)
	data := randomData(64 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := sc.Scan(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatcher is the automaton alone on the same input.
func BenchmarkMatcher(b *testing.B) {
	sc := realScanner(b)
	var pats [][]byte
	for _, ind := range sc.Indicators() {
		pats = append(pats, ind.Pattern)
	}
	m, err := content.NewMatcher(pats)
	if err != nil {
		b.Fatal(err)
	}
	data := randomData(64 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		st := m.NewStream()
		for off := 0; off < len(data); off += 256 << 10 {
			st.Write(data[off:min(off+256<<10, len(data))], func(int, int64) {})
		}
	}
	b.ReportMetric(float64(m.States()), "states")
}

// systemBinaries returns up to n bytes of this machine's executables and
// libraries: the bytes image and host scans mostly read.
func systemBinaries(b *testing.B, n int) []byte {
	b.Helper()
	var data []byte
	for _, dir := range []string{"/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if len(data) >= n {
				return data[:n]
			}
			if !e.Type().IsRegular() {
				continue
			}
			body, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && bytes.HasPrefix(body, []byte("\x7fELF")) {
				data = append(data, body...)
			}
		}
	}
	if len(data) < 1<<20 {
		b.Skip("fewer than 1 MiB of executables on this machine")
	}
	return data
}

// BenchmarkMatcherBinaries is the automaton on real executables, whose
// byte pairs are far less uniform than random data's.
func BenchmarkMatcherBinaries(b *testing.B) {
	sc := realScanner(b)
	var pats [][]byte
	for _, ind := range sc.Indicators() {
		pats = append(pats, ind.Pattern)
	}
	m, err := content.NewMatcher(pats)
	if err != nil {
		b.Fatal(err)
	}
	data := systemBinaries(b, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		st := m.NewStream()
		for off := 0; off < len(data); off += 64 << 10 {
			st.Write(data[off:min(off+64<<10, len(data))], func(int, int64) {})
		}
	}
}

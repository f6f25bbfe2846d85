package miner

import (
	"math"
	"runtime"
	"testing"
)

func TestHashDeterministic(t *testing.T) {
	ds := buildDataset(make([]byte, 32), saltFor("rx/0"), 1, 2, false)
	sp := newScratchpad()
	blob := make([]byte, 76)
	a := hashBlob(ds, sp, blob, true)
	b := hashBlob(ds, sp, blob, true)
	blob[39] = 1
	c := hashBlob(ds, sp, blob, true)
	if a != b || a == c {
		t.Fatalf("hash not deterministic or ignores the nonce: %x %x %x", a, b, c)
	}
	other := buildDataset([]byte{1}, saltFor("rx/0"), 1, 1, false)
	if hashBlob(other, sp, make([]byte, 76), true) == a {
		t.Fatal("hash ignores the dataset")
	}
}

func TestDatasetSaltMatters(t *testing.T) {
	a := buildDataset(nil, saltFor("rx/0"), 1, 1, false)
	b := buildDataset(nil, saltFor("rx/wow"), 1, 1, false)
	if a.items[0] == b.items[0] {
		t.Fatal("salt ignored")
	}
	if string(saltFor("rx/0")) != "RandomX\x03" {
		t.Fatal("Monero salt changed")
	}
}

func TestDecodeTarget(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		diff uint64
	}{{"b88d0600", 10000}, {"ffffffff", 1}, {"37894100", 1000}, {"ffffffffffffff00", 256}} {
		_, d, err := decodeTarget(tc.hex)
		if err != nil || d < tc.diff*99/100 || d > tc.diff*101/100+1 {
			t.Errorf("%s: diff %d, %v; want ~%d", tc.hex, d, err, tc.diff)
		}
	}
	for _, bad := range []string{"", "00000000", "zz", "0102"} {
		if _, _, err := decodeTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if tgt, _ := targetForDiff(0); tgt != math.MaxUint64 {
		t.Errorf("diff 0 target %x", tgt)
	}
}

func TestRateMeter(t *testing.T) {
	var m rateMeter
	if got := m.line(); got != "speed 10s/60s/15m n/a n/a n/a H/s max n/a H/s" {
		t.Fatalf("empty: %q", got)
	}
	var base = int64(0)
	for i := range 12 {
		m.add(timeAt(base+int64(i)), uint64(i)*100)
	}
	if got := m.line(); got != "speed 10s/60s/15m 100.0 n/a n/a H/s max 100.0 H/s" {
		t.Fatalf("after 11 s: %q", got)
	}
}

func BenchmarkHash(b *testing.B) {
	ds := buildDataset(nil, saltFor("rx/0"), 64, 2, false)
	sp := newScratchpad()
	blob := make([]byte, 76)
	for i := 0; b.Loop(); i++ {
		blob[39] = byte(i)
		hashBlob(ds, sp, blob, true)
	}
}

// RandomX programs leave the rounding mode changed while they run; the
// hash ends with it back at nearest, and the result does not depend on the
// mode the thread had before.
func TestHashChangesRoundingModeAndRestoresIt(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ds := buildDataset(nil, saltFor("rx/0"), 1, 1, false)
	sp := newScratchpad()
	blob := make([]byte, 76)
	a := hashBlob(ds, sp, blob, true)
	if rc := getMXCSR() >> 13 & 3; rc != 0 {
		t.Errorf("rounding mode %d after a hash, want 0", rc)
	}
	setRounding(2)
	if rc := getMXCSR() >> 13 & 3; runtime.GOARCH == "amd64" && rc != 2 {
		t.Fatalf("setRounding(2) left mode %d", rc)
	}
	if b := hashBlob(ds, sp, blob, true); b != a {
		t.Error("the hash depends on the rounding mode the thread had before")
	}
	if hashBlob(ds, sp, blob, false) == a {
		t.Error("the rounding modes do not change the hash: they are not exercised")
	}
}

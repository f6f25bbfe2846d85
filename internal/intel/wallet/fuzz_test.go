package wallet

import "testing"

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		generalFund,
		mutate(generalFund, 50, base58Alphabet),
		"4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t",
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
		"1111111111111111111114oLvT2",
		"MGxNPPB7eBoWPUaprtX9v9CXJZoD2465zN",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"LTC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KGMN4N9",
		"bc1gmk9yu",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xde709f2102306220921060314715629080e2fb77",
		"xmrig -o stratum+tcp://pool:3333 -u " + generalFund + ".rig1 -p x",
		"",
		"\xff\x00",
	} {
		f.Add(s)
	}
}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if a != (Address{}) {
				t.Fatalf("Parse(%q) returned %+v with error %v", s, a, err)
			}
			return
		}
		if a.Text != s || a.Coin == "" || a.Kind == "" {
			t.Fatalf("Parse(%q) = %+v", s, a)
		}
	})
}

func FuzzFind(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range Find(s) {
			b, err := Parse(a.Text)
			if err != nil || b != a {
				t.Fatalf("Find(%q) returned %+v, which re-parses as %+v, %v", s, a, b, err)
			}
		}
	})
}

// Each base58 decoder must accept at most one text per byte string, or a
// corrupted address could decode to a valid payload.
func FuzzBase58Canonical(f *testing.F) {
	fuzzSeeds(f)
	f.Add("zzzzzzzzzzz")
	f.Add("5Q")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 {
			return
		}
		if b, err := decodeMonero(s); err == nil {
			if enc := encodeMoneroBase58(b); enc != s {
				t.Fatalf("monero: %q decodes to %x, which encodes to %q", s, b, enc)
			}
		}
		if b, err := decodeBase58(s); err == nil {
			if enc := encodeBase58(b); enc != s {
				t.Fatalf("base58: %q decodes to %x, which encodes to %q", s, b, enc)
			}
		}
	})
}

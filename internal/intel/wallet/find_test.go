package wallet

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	xmr := Address{CoinMonero, KindStandard, generalFund}
	btc := Address{CoinBitcoin, KindP2PKH, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}
	bech := Address{CoinBitcoin, KindBech32, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}
	eth := Address{CoinEthereum, KindEIP55, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}
	ethHex := Address{CoinEthereum, KindHex, "0xde709f2102306220921060314715629080e2fb77"}
	ltc := Address{CoinLitecoin, KindP2PKH, "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz"}
	corrupt := mutate(generalFund, 50, base58Alphabet)

	tests := []struct {
		name string
		in   string
		want []Address
	}{
		{"xmrig worker suffix", "xmrig -o stratum+tcp://pool:3333 -u " + generalFund + ".rig1 -p x", []Address{xmr}},
		{"user= with fixed diff", "./xmrig --donate-level 1 --user=" + generalFund + "+5000 --pass=x", []Address{xmr}},
		{"slash worker", "-u " + generalFund + "/worker01", []Address{xmr}},
		{"solo prefix", "--user solo:" + generalFund, []Address{xmr}},
		{"quoted", `-u "` + generalFund + `"`, []Address{xmr}},
		{"xmrig json config", `{
    "autosave": true,
    "cpu": true,
    "pools": [
        {
            "url": "pool.supportxmr.com:443",
            "user": "` + generalFund + `",
            "pass": "x",
            "tls": true
        },
        {
            "url": "xmr.2miners.com:2222",
            "user": "` + generalFund + `.backup",
            "keepalive": true
        }
    ]
}`, []Address{xmr}},
		{"corrupted wallet", "xmrig -u " + corrupt + ".rig1 -p x", nil},
		{"several coins", "t-rex -a kawpow -o stratum+tcp://x:1 -u " + eth.Text + ".w1; " +
			"cpuminer -u " + btc.Text + " ; ltc=" + ltc.Text + "\npayout " + bech.Text + "," + ethHex.Text,
			[]Address{eth, btc, ltc, bech, ethHex}},
		{"env file", "WALLET=" + btc.Text + "\nWORKER=x\n", []Address{btc}},
		{"percent-encoded dot", "u=" + generalFund + "%2Eworker", []Address{xmr}},
		{"address glued to letters", "wallet" + generalFund, nil},
		{"tx hash is not an address", "tx 0x" + strings.Repeat("ab", 32), nil},
		{"plain words", "the quick brown fox jumps over 1234567890", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Find(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Find(%q) =\n%+v\nwant\n%+v", tt.in, got, tt.want)
			}
		})
	}
}

// Random base58 words in every address shape must yield nothing: the
// checksums make a chance match about 2^-32 per word.
func TestFindRandomBase58(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(lead string, n int) string {
		b := []byte(lead)
		for len(b) < n {
			b = append(b, base58Alphabet[r.IntN(len(base58Alphabet))])
		}
		return string(b)
	}
	var sb strings.Builder
	sb.WriteString("xmrig")
	for range 500 {
		for _, w := range []string{
			word("4", moneroStdChars), word("8", moneroStdChars), word("4", moneroIntChars),
			word("1", 34), word("3", 34), word("L", 34), word("M", 33),
		} {
			sb.WriteString(" -u ")
			sb.WriteString(w)
			sb.WriteString(".rig")
		}
	}
	if got := Find(sb.String()); len(got) != 0 {
		t.Fatalf("Find on random base58 returned %+v", got)
	}
}

func TestFindLimits(t *testing.T) {
	t.Run("only the first MiB", func(t *testing.T) {
		pad := strings.Repeat(" ", MaxFindBytes-len(generalFund)-1)
		if got := Find(pad + generalFund); len(got) != 1 {
			t.Fatalf("address ending inside the limit: got %+v", got)
		}
		if got := Find(pad + "  " + generalFund); len(got) != 0 {
			t.Fatalf("address past the limit: got %+v", got)
		}
	})
	t.Run("candidate cap", func(t *testing.T) {
		// Each token is shaped like a Bitcoin address but fails its checksum.
		bad := "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb "
		junk := strings.Repeat(bad, MaxFindCandidates)
		if got := Find(junk + generalFund); len(got) != 0 {
			t.Fatalf("address after %d candidates: got %+v", MaxFindCandidates, got)
		}
		if got := Find(strings.Repeat(bad, MaxFindCandidates-1) + generalFund); len(got) != 1 {
			t.Fatalf("address as candidate %d: got %+v", MaxFindCandidates, got)
		}
		// Tokens of no address shape are not candidates.
		if got := Find(strings.Repeat("hello ", 2*MaxFindCandidates) + generalFund); len(got) != 1 {
			t.Fatalf("plain words used up the candidate budget: got %+v", got)
		}
	})
}

func BenchmarkFindWorstCase(b *testing.B) {
	line := strings.Repeat(mutate(generalFund, 50, base58Alphabet)+" ", MaxFindBytes/(len(generalFund)+1))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Find(line)
	}
}

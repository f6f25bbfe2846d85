package wallet

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Test vectors from BIP-173 and BIP-350 (and sipa/bech32's reference tests).

func TestBech32Checksums(t *testing.T) {
	valid := []struct {
		s        string
		constant uint32
	}{
		{"A12UEL5L", bech32Const},
		{"a12uel5l", bech32Const},
		{"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs", bech32Const},
		{"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", bech32Const},
		{"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j", bech32Const},
		{"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", bech32Const},
		{"?1ezyfcl", bech32Const},
		{"A1LQFN3A", bech32mConst},
		{"a1lqfn3a", bech32mConst},
		{"an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6", bech32mConst},
		{"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", bech32mConst},
		{"11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8", bech32mConst},
		{"split1checkupstagehandshakeupstreamerranterredcaperredlc445v", bech32mConst},
		{"?1v759aa", bech32mConst},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.s, func(t *testing.T) {
			_, _, c, err := bech32Decode(tc.s)
			if err != nil || c != tc.constant {
				t.Fatalf("bech32Decode(%q) = %#x, %v; want %#x", tc.s, c, err, tc.constant)
			}
			// Flipping a bit of the first data character must break it.
			pos := strings.LastIndexByte(tc.s, '1')
			bad := tc.s[:pos+1] + string(tc.s[pos+1]^1) + tc.s[pos+2:]
			if _, _, _, err := bech32Decode(bad); err == nil {
				t.Fatalf("bech32Decode(%q) accepted a changed string", bad)
			}
		})
	}
	invalid := []string{
		" 1nwldj5", "\x7f1axkwrx", "\x801eym55h",
		"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
		"pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee",
		" 1xj0phk", "\x7f1g6xzxy", "\x801vctc34",
		"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
		"qyrz8wqd2c9m", "1qyrz8wqd2c9m", "y1b0jsk6g", "lt1igcx5c0", "in1muywd", "mm1crxm3i", "au1s5cgom",
		"M1VUXWEZ", "16plkw9", "1p2gdwpf",
	}
	for i, s := range invalid {
		t.Run("invalid/"+string(rune('a'+i)), func(t *testing.T) {
			if _, _, _, err := bech32Decode(s); err == nil {
				t.Fatalf("bech32Decode(%q) accepted", s)
			}
		})
	}
}

func TestDecodeSegwitVectors(t *testing.T) {
	valid := []struct{ s, script string }{
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"BC1SW50QGDZ25J", "6002751e"},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
		{"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.s, func(t *testing.T) {
			hrp := strings.ToLower(tc.s[:2])
			v, prog, err := decodeSegwit(hrp, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			op := byte(0)
			if v > 0 {
				op = 0x50 + v
			}
			got := hex.EncodeToString(append([]byte{op, byte(len(prog))}, prog...))
			if got != tc.script {
				t.Fatalf("scriptPubKey %s, want %s", got, tc.script)
			}
			if enc := encodeSegwit(hrp, v, prog); enc != strings.ToLower(tc.s) {
				t.Fatalf("encodeSegwit = %s, want %s", enc, strings.ToLower(tc.s))
			}
		})
	}
	invalid := []string{
		// BIP-350
		"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
		"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
		"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
		"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
		"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
		"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
		"bc1pw5dgrnzv",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
		"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
		"bc1gmk9yu",
		// BIP-173 (its v1+ examples used bech32, which BIP-350 also rejects)
		"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
		"BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
		"bc1rw5uspcuh",
		"bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
		"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
		"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
	}
	for _, s := range invalid {
		t.Run("invalid/"+s, func(t *testing.T) {
			for _, hrp := range []string{"bc", "tb"} {
				if _, _, err := decodeSegwit(hrp, s); err == nil {
					t.Fatalf("decodeSegwit(%q, %q) accepted", hrp, s)
				}
			}
		})
	}
}

func TestParseSegwit(t *testing.T) {
	a := func(coin, kind, s string) Address { return Address{coin, kind, s} }
	tests := []struct {
		name    string
		in      string
		want    Address
		wantErr error
	}{
		{"bip173 p2wpkh", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", a(CoinBitcoin, KindBech32, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"), nil},
		{"bip173 upper", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", a(CoinBitcoin, KindBech32, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"), nil},
		{"taproot", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", a(CoinBitcoin, KindBech32m, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"), nil},
		{"v16", "BC1SW50QGDZ25J", a(CoinBitcoin, KindBech32m, "BC1SW50QGDZ25J"), nil},
		{"v2", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", a(CoinBitcoin, KindBech32m, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"), nil},
		{"litecoin", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", a(CoinLitecoin, KindBech32, "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9"), nil},
		{"litecoin upper", "LTC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KGMN4N9", a(CoinLitecoin, KindBech32, "LTC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KGMN4N9"), nil},
		{"bitcoin checksum on ltc prefix", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Address{}, ErrChecksum},
		{"bad checksum", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", Address{}, ErrChecksum},
		{"bech32 for v1", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", Address{}, ErrChecksum},
		{"bech32m for v0", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", Address{}, ErrChecksum},
		{"bad v0 length", "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", Address{}, ErrLength},
		{"1-byte program", "bc1pw5dgrnzv", Address{}, ErrLength},
		{"41-byte program", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", Address{}, ErrLength},
		{"mixed case", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8F3T4", Address{}, ErrChar},
		{"bad char b", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", Address{}, ErrChar},
		{"empty data", "bc1gmk9yu", Address{}, ErrFormat},
		{"witness version 17", "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", Address{}, ErrFormat},
		{"testnet not recognised", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", Address{}, ErrFormat},
		{"too long", "bc1" + strings.Repeat("q", 100), Address{}, ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.in, tt.want, tt.wantErr) })
	}
}

func TestSegwitRoundTrip(t *testing.T) {
	for _, hrp := range []string{"bc", "ltc"} {
		for _, tc := range []struct {
			version byte
			n       int
			kind    string
		}{{0, 20, KindBech32}, {0, 32, KindBech32}, {1, 32, KindBech32m}, {2, 2, KindBech32m}, {16, 40, KindBech32m}} {
			s := encodeSegwit(hrp, tc.version, randomBytes(t, tc.n))
			got, err := Parse(s)
			if err != nil || got.Kind != tc.kind || got.Coin != segwitHRPs[hrp] || got.Text != s {
				t.Fatalf("Parse(%s) = %+v, %v; want %s", s, got, err, tc.kind)
			}
			bad := mutate(s, len(s)-8, bech32Charset)
			if _, err := Parse(bad); err == nil {
				t.Fatalf("Parse accepted %s with one character changed", bad)
			}
		}
	}
}

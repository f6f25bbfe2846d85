package wallet

import (
	"errors"
	"testing"
)

func TestParseBase58Check(t *testing.T) {
	a := func(coin, kind, s string) Address { return Address{coin, kind, s} }
	tests := []struct {
		name    string
		in      string
		want    Address
		wantErr error
	}{
		{"genesis p2pkh", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", a(CoinBitcoin, KindP2PKH, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"), nil},
		{"wiki p2pkh", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", a(CoinBitcoin, KindP2PKH, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"), nil},
		{"wiki p2sh", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", a(CoinBitcoin, KindP2SH, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"), nil},
		{"all-zero hash", "1111111111111111111114oLvT2", a(CoinBitcoin, KindP2PKH, "1111111111111111111114oLvT2"), nil},
		{"litecoin p2pkh", "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz", a(CoinLitecoin, KindP2PKH, "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz"), nil},
		{"litecoin p2pkh 2", "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1", a(CoinLitecoin, KindP2PKH, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"), nil},
		{"litecoin p2sh", "MGxNPPB7eBoWPUaprtX9v9CXJZoD2465zN", a(CoinLitecoin, KindP2SH, "MGxNPPB7eBoWPUaprtX9v9CXJZoD2465zN"), nil},
		{"genesis last char changed", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", Address{}, ErrChecksum},
		{"genesis middle char changed", "1A1zP1eP5QGefi2DMPTfTL5SLmv7EivfNa", Address{}, ErrChecksum},
		{"genesis chars swapped", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DviFNa", Address{}, ErrChecksum},
		{"bad char 0", "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", Address{}, ErrChar},
		{"bad char O", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivONa", Address{}, ErrChar},
		{"bad char I", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivINa", Address{}, ErrChar},
		{"too short", "1A1zP1eP5QGefi2DMPTfTL5", Address{}, ErrLength},
		{"too long", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaaaa", Address{}, ErrLength},
		{"decodes to 26 bytes", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLyz", Address{}, ErrLength},
		{"unknown lead", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", Address{}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.in, tt.want, tt.wantErr) })
	}
}

func TestBase58CheckRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		version    byte
		coin, kind string
	}{
		{0x00, CoinBitcoin, KindP2PKH},
		{0x05, CoinBitcoin, KindP2SH},
		{0x30, CoinLitecoin, KindP2PKH},
		{0x32, CoinLitecoin, KindP2SH},
	} {
		for i := range 50 {
			var h [20]byte
			copy(h[:], randomBytes(t, 20))
			if i < 3 {
				h[0], h[1] = 0, 0 // leading zero bytes change the text length
			}
			s := encodeBase58Check(tc.version, h)
			got, err := Parse(s)
			if err != nil || got != (Address{tc.coin, tc.kind, s}) {
				t.Fatalf("Parse(%s) = %+v, %v; want %s %s", s, got, err, tc.coin, tc.kind)
			}
			if _, err := Parse(mutate(s, len(s)/2, base58Alphabet)); err == nil {
				t.Fatalf("Parse accepted %s with one character changed", s)
			}
		}
	}
}

func TestParseBase58CheckUnknownVersion(t *testing.T) {
	var h [20]byte
	copy(h[:], randomBytes(t, 20))
	// 0x6f is Bitcoin testnet ("m..."/"n..."): valid checksum, wrong network.
	_, err := parseBase58Check(encodeBase58Check(0x6f, h))
	if !errors.Is(err, ErrNetwork) {
		t.Errorf("testnet version: error = %v, want ErrNetwork", err)
	}
}

func TestDecodeBase58(t *testing.T) {
	for _, tc := range []struct{ in, hex string }{
		{"", ""},
		{"1", "00"},
		{"11", "0000"},
		{"2", "01"},
		{"z", "39"},
		{"21", "3a"},
		{"5Q", "ff"},
		{"LUv", "ffff"},
	} {
		got, err := decodeBase58(tc.in)
		if err != nil || hexOf(got) != tc.hex {
			t.Errorf("decodeBase58(%q) = %x, %v; want %s", tc.in, got, err, tc.hex)
		}
		if enc := encodeBase58(got); enc != tc.in {
			t.Errorf("encodeBase58(%x) = %q, want %q", got, enc, tc.in)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

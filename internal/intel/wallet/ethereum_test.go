package wallet

import (
	"strings"
	"testing"
)

func TestParseEthereum(t *testing.T) {
	a := func(kind, s string) Address { return Address{CoinEthereum, kind, s} }
	tests := []struct {
		name    string
		in      string
		want    Address
		wantErr error
	}{
		// EIP-55 test vectors.
		{"eip55 1", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", a(KindEIP55, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), nil},
		{"eip55 2", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", a(KindEIP55, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"), nil},
		{"eip55 3", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", a(KindEIP55, "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"), nil},
		{"eip55 4", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", a(KindEIP55, "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"), nil},
		// The EIP's all-caps and all-lower vectors carry no checksum information.
		{"all caps 1", "0x52908400098527886E0F7030069857D2E4169EE7", a(KindHex, "0x52908400098527886E0F7030069857D2E4169EE7"), nil},
		{"all caps 2", "0x8617E340B3D01FA5F11F306F4090FD50E238070D", a(KindHex, "0x8617E340B3D01FA5F11F306F4090FD50E238070D"), nil},
		{"all lower 1", "0xde709f2102306220921060314715629080e2fb77", a(KindHex, "0xde709f2102306220921060314715629080e2fb77"), nil},
		{"all lower 2", "0x27b1fdb04752bbc536007a920d24acb045561c26", a(KindHex, "0x27b1fdb04752bbc536007a920d24acb045561c26"), nil},
		{"lowered eip55", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", a(KindHex, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), nil},
		{"digits only", "0x" + strings.Repeat("1", 40), a(KindHex, "0x"+strings.Repeat("1", 40)), nil},
		{"one case flipped", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", Address{}, ErrChecksum},
		{"first letter flipped", "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", Address{}, ErrChecksum},
		{"short", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", Address{}, ErrLength},
		{"long", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0", Address{}, ErrLength},
		{"tx hash", "0x" + strings.Repeat("ab", 32), Address{}, ErrLength},
		{"bad char g", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", Address{}, ErrChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.in, tt.want, tt.wantErr) })
	}
}

func TestEthereumBadCharIndex(t *testing.T) {
	_, err := Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg")
	if err == nil || !strings.Contains(err.Error(), "'g' at index 41") {
		t.Errorf("error %q does not name 'g' at index 41", err)
	}
}

func TestEIP55RoundTrip(t *testing.T) {
	const digits = "0123456789abcdef"
	for range 50 {
		b := randomBytes(t, 20)
		lower := make([]byte, 40)
		for i, x := range b {
			lower[2*i], lower[2*i+1] = digits[x>>4], digits[x&15]
		}
		s := "0x" + eip55(string(lower))
		got, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", s, err)
		}
		if got.Kind != KindEIP55 && got.Kind != KindHex {
			t.Fatalf("Parse(%s).Kind = %s", s, got.Kind)
		}
	}
}

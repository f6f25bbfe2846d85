package wallet

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

const generalFund = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

func TestParseMonero(t *testing.T) {
	std := func(s string) Address { return Address{CoinMonero, KindStandard, s} }
	tests := []struct {
		name    string
		in      string
		want    Address
		wantErr error
	}{
		{"general fund", generalFund, std(generalFund), nil},
		{"one char changed", mutate(generalFund, 50, base58Alphabet), Address{}, ErrChecksum},
		{"last char changed", mutate(generalFund, 94, base58Alphabet), Address{}, ErrChecksum},
		{"truncated", generalFund[:94], Address{}, ErrLength},
		{"extended", generalFund + "1", Address{}, ErrLength},
		{"bad char 0", generalFund[:5] + "0" + generalFund[6:], Address{}, ErrChar},
		{"bad char l", generalFund[:40] + "l" + generalFund[41:], Address{}, ErrChar},
		// From an independent implementation (mrtnetwork/blockchain_utils
		// test vectors), derived from one seed.
		{"primary", "49Xgwx3RfyV3ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyLDP5ucd",
			std("49Xgwx3RfyV3ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyLDP5ucd"), nil},
		{"integrated", "4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t",
			Address{CoinMonero, KindIntegrated, "4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t"}, nil},
		{"subaddress", "85cqdW5fHGvUQzGXzrRUHf6P6AJjJrYxa25v351wNJCrS3p1g8wL1gk35HjxyQGGJPY3SygtnFxKjHtVcA7rAM1JBHukQod",
			Address{CoinMonero, KindSubaddress, "85cqdW5fHGvUQzGXzrRUHf6P6AJjJrYxa25v351wNJCrS3p1g8wL1gk35HjxyQGGJPY3SygtnFxKjHtVcA7rAM1JBHukQod"}, nil},
		{"subaddress 2", "8AMPLCTDfj1d8KNrVV9ijDS6ES3b7d7w9fdZvQDec9ZDTNdNZTQFn6G4v56m1jV39J444Yk9PoYa1aCckko5Ld58P4jnroM",
			Address{CoinMonero, KindSubaddress, "8AMPLCTDfj1d8KNrVV9ijDS6ES3b7d7w9fdZvQDec9ZDTNdNZTQFn6G4v56m1jV39J444Yk9PoYa1aCckko5Ld58P4jnroM"}, nil},
		{"integrated changed", mutate("4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t", 100, base58Alphabet), Address{}, ErrChecksum},
		{"overflowing block", "zzzzzzzzzzz" + generalFund[11:], Address{}, ErrFormat},
		{"random base58", strings.Repeat("4AbCdEfGhJk", 8) + "MnPqRsT", Address{}, ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.in, tt.want, tt.wantErr) })
	}
}

func TestMoneroErrorMessages(t *testing.T) {
	_, err := Parse(generalFund[:5] + "0" + generalFund[6:])
	if err == nil || !strings.Contains(err.Error(), "index 5") {
		t.Errorf("bad character error %q does not name index 5", err)
	}
	_, err = Parse(generalFund[:90])
	if err == nil || !strings.Contains(err.Error(), "wrong length 90") {
		t.Errorf("length error %q does not name the length", err)
	}
}

func TestEncodeMoneroKnownKeys(t *testing.T) {
	// Public keys and addresses from mrtnetwork/blockchain_utils' test vectors.
	spend := key32(t, "d0a42991d6f8640f4aae2bd58e509f7d848a3daea4fce11a9ab57f925eef4ded")
	view := key32(t, "3f741b80e6c1e28d0098a194d32e0f437428861bc03c8d698f6c3926eecdf2aa")
	if got, want := EncodeMonero(moneroNetStandard, spend, view), "49Xgwx3RfyV3ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyLDP5ucd"; got != want {
		t.Errorf("EncodeMonero = %s, want %s", got, want)
	}
	pid, _ := hex.DecodeString("2b1a3c54591708cb")
	payload := append(append(append([]byte{moneroNetIntegrated}, spend[:]...), view[:]...), pid...)
	if got, want := encodeMoneroPayload(payload), "4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t"; got != want {
		t.Errorf("integrated = %s, want %s", got, want)
	}
}

func key32(t *testing.T, h string) (k [32]byte) {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad key %q", h)
	}
	copy(k[:], b)
	return k
}

// Fresh addresses from random keys must parse and decode back to the keys.
func TestEncodeMoneroRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		net  byte
		kind string
	}{
		{moneroNetStandard, KindStandard},
		{moneroNetSubaddress, KindSubaddress},
	} {
		for i := range 20 {
			var spend, view [32]byte
			copy(spend[:], randomBytes(t, 32))
			copy(view[:], randomBytes(t, 32))
			if i == 0 {
				spend, view = [32]byte{}, [32]byte{} // zero blocks encode as '1's
			}
			s := EncodeMonero(tc.net, spend, view)
			a, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(EncodeMonero(%d, %x, %x)) = %v", tc.net, spend, view, err)
			}
			if a.Coin != CoinMonero || a.Kind != tc.kind || a.Text != s {
				t.Fatalf("Parse(%s) = %+v, want kind %s", s, a, tc.kind)
			}
			data, err := decodeMonero(s)
			if err != nil {
				t.Fatal(err)
			}
			if data[0] != tc.net || string(data[1:33]) != string(spend[:]) || string(data[33:65]) != string(view[:]) {
				t.Fatalf("decode(%s) did not give back the keys", s)
			}
		}
	}
	// Integrated: random payment IDs through the unexported encoder.
	for range 20 {
		payload := append([]byte{moneroNetIntegrated}, randomBytes(t, 72)...)
		s := encodeMoneroPayload(payload)
		if a, err := Parse(s); err != nil || a.Kind != KindIntegrated {
			t.Fatalf("Parse(%s) = %+v, %v; want integrated", s, a, err)
		}
	}
}

func TestParseMoneroOtherNetworks(t *testing.T) {
	var spend, view [32]byte
	copy(spend[:], randomBytes(t, 32))
	copy(view[:], randomBytes(t, 32))
	// 53 testnet, 24 stagenet; 19 without a payment ID is malformed.
	for _, net := range []byte{53, 24, 19} {
		s := EncodeMonero(net, spend, view)
		_, err := Parse(s)
		if !errors.Is(err, ErrNetwork) {
			t.Errorf("network byte %d: Parse(%s) error = %v, want ErrNetwork", net, s, err)
		}
	}
	// A two-byte varint tag still encodes and is rejected, not misread.
	if _, err := Parse(EncodeMonero(0x80, spend, view)); err == nil {
		t.Error("two-byte network tag accepted")
	}
}

func TestDecodeMoneroRejectsImpossibleLengths(t *testing.T) {
	// Encoded block lengths 1, 4 and 8 cannot come from any byte count.
	for _, n := range []int{1, 4, 8, 12, 15} {
		if _, err := decodeMonero(strings.Repeat("2", n)); !errors.Is(err, ErrLength) {
			t.Errorf("decodeMonero of %d chars: error = %v, want ErrLength", n, err)
		}
	}
}

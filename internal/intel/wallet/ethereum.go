package wallet

import (
	"fmt"
)

// Ethereum-style addresses: "0x" + 40 hex digits. EIP-55 hides a checksum
// in the case of the letters; an address in one case has none, so any 40
// hex digits pass. Such addresses get KindHex: weak evidence on their own,
// since lowercase hex is also what hashes and keys look like.

const ethHexLen = 40

func parseEthereum(s string) (Address, error) {
	if len(s) != 2+ethHexLen {
		return Address{}, fmt.Errorf("ethereum: %w %d, want %d", ErrLength, len(s), 2+ethHexLen)
	}
	hex := s[2:]
	lower, upper := false, false
	for i := 0; i < len(hex); i++ {
		switch c := hex[i]; {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return Address{}, badChar("ethereum", s, i+2)
		}
	}
	if !(lower && upper) {
		return Address{Coin: CoinEthereum, Kind: KindHex, Text: s}, nil
	}
	if eip55(hex) != hex {
		return Address{}, fmt.Errorf("ethereum: %w: mixed case does not match EIP-55", ErrChecksum)
	}
	return Address{Coin: CoinEthereum, Kind: KindEIP55, Text: s}, nil
}

// eip55 returns hex (40 digits, no 0x) in EIP-55 case: a letter is upper
// case when the matching nibble of Keccak-256(lowercase hex) is >= 8.
func eip55(hex string) string {
	b := []byte(hex)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	h := keccak256(b)
	for i, c := range b {
		nibble := h[i/2] >> 4
		if i%2 == 1 {
			nibble = h[i/2] & 0x0f
		}
		if c >= 'a' && c <= 'f' && nibble >= 8 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

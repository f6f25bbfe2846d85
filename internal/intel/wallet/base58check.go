package wallet

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// Bitcoin-family base58check: version byte + 20-byte hash + first 4 bytes of
// double SHA-256, the whole read as one big base58 number.

const (
	b58CheckBytes = 1 + 20 + 4
	// Text lengths a 25-byte payload can have. Zero bytes become one '1'
	// each, so hashes with leading zeros give short texts (the all-zero
	// hash is 27 characters); the bounds also cap the quadratic decode.
	b58CheckMinChars = 25
	b58CheckMaxChars = 35
)

// b58Versions maps a mainnet version byte to coin and kind.
// Litecoin's old p2sh version 0x05 is Bitcoin's, so such "3..." addresses
// are reported as Bitcoin: the text cannot tell them apart.
var b58Versions = map[byte]struct{ coin, kind string }{
	0x00: {CoinBitcoin, KindP2PKH},  // "1..."
	0x05: {CoinBitcoin, KindP2SH},   // "3..."
	0x30: {CoinLitecoin, KindP2PKH}, // "L..."
	0x32: {CoinLitecoin, KindP2SH},  // "M..."
}

// isBase58CheckLead reports whether c can start a recognised base58check address.
func isBase58CheckLead(c byte) bool {
	return c == '1' || c == '3' || c == 'L' || c == 'M'
}

func parseBase58Check(s string) (Address, error) {
	if len(s) < b58CheckMinChars || len(s) > b58CheckMaxChars {
		return Address{}, fmt.Errorf("base58check: %w %d, want %d to %d", ErrLength, len(s), b58CheckMinChars, b58CheckMaxChars)
	}
	data, err := decodeBase58(s)
	if err != nil {
		return Address{}, err
	}
	if len(data) != b58CheckBytes {
		return Address{}, fmt.Errorf("base58check: %w: decodes to %d bytes, want %d", ErrLength, len(data), b58CheckBytes)
	}
	body, sum := data[:21], data[21:]
	if !bytes.Equal(doubleSHA256(body)[:4], sum) {
		return Address{}, fmt.Errorf("base58check: %w", ErrChecksum)
	}
	v, ok := b58Versions[body[0]]
	if !ok {
		return Address{}, fmt.Errorf("base58check: %w: version byte 0x%02x", ErrNetwork, body[0])
	}
	return Address{Coin: v.coin, Kind: v.kind, Text: s}, nil
}

// decodeBase58 decodes Bitcoin-style base58: leading '1's are zero bytes,
// the rest one big-endian number. Quadratic, so callers bound the length.
func decodeBase58(s string) ([]byte, error) {
	zeros := 0
	for zeros < len(s) && s[zeros] == base58Alphabet[0] {
		zeros++
	}
	// log(58)/log(256) < 0.733: enough room for the number.
	num := make([]byte, (len(s)-zeros)*733/1000+1)
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, badChar("base58check", s, i)
		}
		carry := int(d)
		for j := len(num) - 1; j >= 0; j-- {
			carry += 58 * int(num[j])
			num[j] = byte(carry)
			carry >>= 8
		}
	}
	lead := 0
	for lead < len(num) && num[lead] == 0 {
		lead++
	}
	out := make([]byte, zeros, zeros+len(num)-lead)
	return append(out, num[lead:]...), nil
}

func doubleSHA256(b []byte) []byte {
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return h[:]
}

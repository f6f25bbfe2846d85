package wallet

import (
	"fmt"
	"strings"
)

// Segwit addresses: BIP-173 bech32 for witness v0, BIP-350 bech32m for v1+.

const (
	bech32Charset    = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	bech32MaxLen     = 90
	bech32ChecksumLn = 6
	bech32Const      = 1
	bech32mConst     = 0x2bc830a3
)

var bech32Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(bech32Charset); i++ {
		t[bech32Charset[i]] = int8(i)
	}
	return t
}()

// segwitHRPs maps a mainnet human-readable part to its coin.
var segwitHRPs = map[string]string{
	"bc":  CoinBitcoin,
	"ltc": CoinLitecoin,
}

// hasBech32Prefix reports whether s starts like a recognised segwit address
// (either case; mixed case is rejected later with a clearer error).
func hasBech32Prefix(s string) bool {
	for hrp := range segwitHRPs {
		if len(s) > len(hrp) && strings.EqualFold(s[:len(hrp)+1], hrp+"1") {
			return true
		}
	}
	return false
}

// bech32Decode checks a bech32 or bech32m string and returns its lowercase
// HRP, its 5-bit data without checksum and which checksum constant matched.
func bech32Decode(s string) (hrp string, data []byte, constant uint32, err error) {
	if len(s) > bech32MaxLen {
		return "", nil, 0, fmt.Errorf("bech32: %w %d, want at most %d", ErrLength, len(s), bech32MaxLen)
	}
	lower, upper := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 33 || c > 126:
			return "", nil, 0, badChar("bech32", s, i)
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		}
		if lower && upper {
			return "", nil, 0, fmt.Errorf("bech32: %w: mixed case at index %d", ErrChar, i)
		}
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 {
		return "", nil, 0, fmt.Errorf("bech32: %w: missing separator or empty prefix", ErrFormat)
	}
	if len(s)-sep-1 < bech32ChecksumLn {
		return "", nil, 0, fmt.Errorf("bech32: %w: data part shorter than the checksum", ErrLength)
	}
	hrp = s[:sep]
	values := make([]byte, 0, len(s)-sep-1)
	for i := sep + 1; i < len(s); i++ {
		d := bech32Index[s[i]]
		if d < 0 {
			return "", nil, 0, badChar("bech32", s, i)
		}
		values = append(values, byte(d))
	}
	switch constant = bech32Polymod(hrp, values); constant {
	case bech32Const, bech32mConst:
	default:
		return "", nil, 0, fmt.Errorf("bech32: %w", ErrChecksum)
	}
	return hrp, values[:len(values)-bech32ChecksumLn], constant, nil
}

func bech32Polymod(hrp string, values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	step := func(v byte) {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range gen {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	for i := 0; i < len(hrp); i++ {
		step(hrp[i] >> 5)
	}
	step(0)
	for i := 0; i < len(hrp); i++ {
		step(hrp[i] & 31)
	}
	for _, v := range values {
		step(v)
	}
	return chk
}

// decodeSegwit validates s as a segwit address for the given HRP and
// returns the witness version and program. BIP-173 and BIP-350 rules.
func decodeSegwit(wantHRP, s string) (version byte, program []byte, err error) {
	hrp, data, constant, err := bech32Decode(s)
	if err != nil {
		return 0, nil, err
	}
	if hrp != wantHRP {
		return 0, nil, fmt.Errorf("segwit: %w: prefix %q, want %q", ErrNetwork, hrp, wantHRP)
	}
	if len(data) == 0 {
		return 0, nil, fmt.Errorf("segwit: %w: empty data part", ErrFormat)
	}
	version = data[0]
	if version > 16 {
		return 0, nil, fmt.Errorf("segwit: %w: witness version %d", ErrFormat, version)
	}
	program, err = convertBits5to8(data[1:])
	if err != nil {
		return 0, nil, err
	}
	if len(program) < 2 || len(program) > 40 {
		return 0, nil, fmt.Errorf("segwit: %w: program of %d bytes, want 2 to 40", ErrLength, len(program))
	}
	if version == 0 && len(program) != 20 && len(program) != 32 {
		return 0, nil, fmt.Errorf("segwit: %w: v0 program of %d bytes, want 20 or 32", ErrLength, len(program))
	}
	// BIP-350: the checksum variant is tied to the version, so a bech32
	// string with a v1+ program (or the reverse) is corrupt.
	if version == 0 && constant != bech32Const {
		return 0, nil, fmt.Errorf("segwit: %w: witness v0 needs bech32, got bech32m", ErrChecksum)
	}
	if version != 0 && constant != bech32mConst {
		return 0, nil, fmt.Errorf("segwit: %w: witness v%d needs bech32m, got bech32", ErrChecksum, version)
	}
	return version, program, nil
}

// convertBits5to8 regroups 5-bit values into bytes; leftover padding must
// be under 5 bits and zero.
func convertBits5to8(in []byte) ([]byte, error) {
	var acc uint32
	var nbits uint
	out := make([]byte, 0, len(in)*5/8)
	for _, v := range in {
		acc = acc<<5 | uint32(v)
		nbits += 5
		for nbits >= 8 {
			nbits -= 8
			out = append(out, byte(acc>>nbits))
		}
	}
	if nbits >= 5 {
		return nil, fmt.Errorf("segwit: %w: %d bits of padding", ErrFormat, nbits)
	}
	if acc&(1<<nbits-1) != 0 {
		return nil, fmt.Errorf("segwit: %w: non-zero padding", ErrFormat)
	}
	return out, nil
}

func parseSegwit(s string) (Address, error) {
	hrp := strings.ToLower(s[:strings.IndexByte(s, '1')])
	coin := segwitHRPs[hrp]
	version, _, err := decodeSegwit(hrp, s)
	if err != nil {
		return Address{}, err
	}
	kind := KindBech32m
	if version == 0 {
		kind = KindBech32
	}
	return Address{Coin: coin, Kind: kind, Text: s}, nil
}

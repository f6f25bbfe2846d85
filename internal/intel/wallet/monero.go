package wallet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"golang.org/x/crypto/sha3"
)

// Monero base58 is not Bitcoin's: the payload is cut into 8-byte blocks, each
// encoded on its own into a fixed 11 characters (the last, shorter block into
// fewer), so lengths are fixed and no big-number arithmetic is needed.
//
// Written here rather than imported: no maintained, clearly licensed Go
// module offers just this (the Monero Go code around is wallet/RPC clients
// or abandoned), and it is ~100 lines with test vectors to pin it.

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58Index maps a byte to its base58 digit, or -1.
var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

const (
	moneroFullBlock    = 8
	moneroFullEncBlock = 11
	moneroChecksumLen  = 4
)

// moneroEncSize[n] is the encoded length of an n-byte block.
var moneroEncSize = [moneroFullBlock + 1]int{0, 2, 3, 5, 6, 7, 9, 10, 11}

// moneroDecSize maps an encoded block length back to its byte length (-1: impossible).
var moneroDecSize = func() (t [moneroFullEncBlock + 1]int) {
	for i := range t {
		t[i] = -1
	}
	for n, e := range moneroEncSize {
		t[e] = n
	}
	return t
}()

// Mainnet network bytes (varints, all one byte long).
const (
	moneroNetStandard   = 18 // "4..."
	moneroNetIntegrated = 19 // "4..."
	moneroNetSubaddress = 42 // "8..."
)

// Decoded sizes: tag + spend key + view key (+ payment ID) + checksum.
const (
	moneroStdLen = 1 + 32 + 32 + moneroChecksumLen     // 69 bytes, 95 chars
	moneroIntLen = 1 + 32 + 32 + 8 + moneroChecksumLen // 77 bytes, 106 chars
)

var (
	moneroStdChars = moneroEncLen(moneroStdLen)
	moneroIntChars = moneroEncLen(moneroIntLen)
)

func moneroEncLen(n int) int {
	return n/moneroFullBlock*moneroFullEncBlock + moneroEncSize[n%moneroFullBlock]
}

// EncodeMonero returns the address for a network byte (mainnet: 18
// standard, 42 subaddress) and public spend and view keys; test beds use it
// to make realistic addresses. It has no payment ID, so netByte 19
// (integrated) gives a text that Parse rejects.
func EncodeMonero(netByte byte, spend, view [32]byte) string {
	payload := binary.AppendUvarint(nil, uint64(netByte))
	payload = append(payload, spend[:]...)
	payload = append(payload, view[:]...)
	return encodeMoneroPayload(payload)
}

// encodeMoneroPayload appends the checksum and base58-encodes.
func encodeMoneroPayload(payload []byte) string {
	return encodeMoneroBase58(append(payload[:len(payload):len(payload)], keccak256(payload)[:moneroChecksumLen]...))
}

func encodeMoneroBase58(data []byte) string {
	out := make([]byte, 0, moneroEncLen(len(data)))
	for len(data) > 0 {
		n := min(len(data), moneroFullBlock)
		out = encodeMoneroBlock(out, data[:n])
		data = data[n:]
	}
	return string(out)
}

func encodeMoneroBlock(dst, block []byte) []byte {
	var num uint64
	for _, b := range block {
		num = num<<8 | uint64(b)
	}
	size := moneroEncSize[len(block)]
	start := len(dst)
	for range size {
		dst = append(dst, base58Alphabet[0])
	}
	for i := start + size - 1; i >= start && num > 0; i-- {
		dst[i] = base58Alphabet[num%58]
		num /= 58
	}
	return dst
}

// decodeMonero reverses the block encoding. It rejects lengths no payload
// can produce and blocks whose value overflows their byte size, so every
// payload has exactly one accepted text.
func decodeMonero(s string) ([]byte, error) {
	full, rest := len(s)/moneroFullEncBlock, len(s)%moneroFullEncBlock
	lastSize := moneroDecSize[rest]
	if lastSize < 0 {
		return nil, fmt.Errorf("monero: %w: %d characters is not a base58 block length", ErrLength, len(s))
	}
	out := make([]byte, 0, full*moneroFullBlock+lastSize)
	for i := 0; i < len(s); i += moneroFullEncBlock {
		end := min(i+moneroFullEncBlock, len(s))
		var err error
		if out, err = decodeMoneroBlock(out, s, i, end); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeMoneroBlock(dst []byte, s string, start, end int) ([]byte, error) {
	size := moneroDecSize[end-start]
	var num uint64
	for i := start; i < end; i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, badChar("monero", s, i)
		}
		hi, lo := bits.Mul64(num, 58)
		lo, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			return nil, fmt.Errorf("monero: %w: base58 block at index %d overflows", ErrFormat, start)
		}
		num = lo
	}
	if size < moneroFullBlock && num>>(8*size) != 0 {
		return nil, fmt.Errorf("monero: %w: base58 block at index %d overflows", ErrFormat, start)
	}
	for i := size - 1; i >= 0; i-- {
		dst = append(dst, byte(num>>(8*i)))
	}
	return dst, nil
}

func parseMonero(s string) (Address, error) {
	if len(s) != moneroStdChars && len(s) != moneroIntChars {
		return Address{}, fmt.Errorf("monero: %w %d, want %d or %d", ErrLength, len(s), moneroStdChars, moneroIntChars)
	}
	data, err := decodeMonero(s)
	if err != nil {
		return Address{}, err
	}
	body, sum := data[:len(data)-moneroChecksumLen], data[len(data)-moneroChecksumLen:]
	if !bytes.Equal(keccak256(body)[:moneroChecksumLen], sum) {
		return Address{}, fmt.Errorf("monero: %w", ErrChecksum)
	}
	// The checksum is checked first so a valid testnet address says so
	// rather than looking corrupt.
	kind := ""
	switch {
	case body[0] == moneroNetStandard && len(data) == moneroStdLen:
		kind = KindStandard
	case body[0] == moneroNetSubaddress && len(data) == moneroStdLen:
		kind = KindSubaddress
	case body[0] == moneroNetIntegrated && len(data) == moneroIntLen:
		kind = KindIntegrated
	default:
		return Address{}, fmt.Errorf("monero: %w: network byte %d with %d-byte payload (testnet, stagenet or another CryptoNote coin?)", ErrNetwork, body[0], len(data))
	}
	// The keys are not checked to be valid curve points: the 32-bit
	// checksum already rules out chance matches.
	return Address{Coin: CoinMonero, Kind: kind, Text: s}, nil
}

func keccak256(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)
}
